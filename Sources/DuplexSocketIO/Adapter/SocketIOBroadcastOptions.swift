/// Which sockets a broadcast or a bulk operation targets, and how (socket.io-adapter
/// `BroadcastOptions`).
public struct SocketIOBroadcastOptions: Hashable, Sendable {
    /// The rooms targeted; empty means every socket of the namespace.
    public var rooms: Set<String>
    /// The rooms excluded (a socket in any of them is skipped).
    public var except: Set<String>
    /// Only this server: a cluster adapter does not forward the operation to other nodes.
    public var isLocal: Bool
    /// Drop the packet for a client whose transport cannot write at once.
    public var isVolatile: Bool
    /// Ask the transport to compress (a hint; WebSocket compression is negotiated per
    /// connection, so Duplex currently writes every message the same way).
    public var compress: Bool

    /// Creates options.
    public init(
        rooms: Set<String> = [],
        except: Set<String> = [],
        isLocal: Bool = false,
        isVolatile: Bool = false,
        compress: Bool = true
    ) {
        self.rooms = rooms
        self.except = except
        self.isLocal = isLocal
        self.isVolatile = isVolatile
        self.compress = compress
    }
}
