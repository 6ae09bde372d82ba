import DuplexWebSocket
import Hummingbird

extension Response {
    /// The Engine.IO server's answer as a Hummingbird response (status, headers and body as they are).
    init(_ response: HTTPServerResponse) {
        self.init(status: response.head.status, headers: response.head.headerFields, body: ResponseBody(byteBuffer: response.body))
    }
}
