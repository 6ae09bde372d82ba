// Test-only certificates, generated with openssl for this test suite (valid 2000-2126):
// a self-signed CA "Duplex Test CA" (P-256) and a server certificate it signed for 127.0.0.1,
// ::1 and localhost. The private key protects nothing: never use it anywhere else.
import NIOSSL

enum TestCertificates {
    /// The test CA certificate, to put in a client's trust roots.
    static let caPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBZTCCAQugAwIBAgIBATAKBggqhkjOPQQDAjAZMRcwFQYDVQQDDA5EdXBsZXgg
        VGVzdCBDQTAgFw0wMDAxMDEwMDAwMDBaGA8yMTI2MDEwMTAwMDAwMFowGTEXMBUG
        A1UEAwwORHVwbGV4IFRlc3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATK
        wPY9GTwun1g8DHdom07CPTon3ehqcoTvdJ0QDU3ts/2RdEwB1Np7Wm+/nvYqXQCv
        CGNbhi+kpR9/7XK294/Zo0IwQDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQE
        AwIBBjAdBgNVHQ4EFgQUGfUMR1plFyhDto2OwObIjMnTm0YwCgYIKoZIzj0EAwID
        SAAwRQIgd0Bmz9SG+0x6T1wr7gYp7y/aPZzQ+/VV541rkYKH7RgCIQDh2Co86Xdn
        Tl1hQeOEXcF8nnWislcmRdtpCaCn0ujIZg==
        -----END CERTIFICATE-----
        """

    /// The server certificate (SAN: IP 127.0.0.1, IP ::1, DNS localhost), signed by the test CA.
    static let serverCertificatePEM = """
        -----BEGIN CERTIFICATE-----
        MIIBwDCCAWagAwIBAgIBAjAKBggqhkjOPQQDAjAZMRcwFQYDVQQDDA5EdXBsZXgg
        VGVzdCBDQTAgFw0wMDAxMDEwMDAwMDBaGA8yMTI2MDEwMTAwMDAwMFowFDESMBAG
        A1UEAwwJbG9jYWxob3N0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKCr/hUq3
        /CnTBbQ7LUBe6BAgbu3f2JUYR1fYPXtgoJsokQefP36v2AbrGXiZDmAXRZRF8fZN
        1OxwhIi1JZV1a6OBoTCBnjAJBgNVHRMEAjAAMA4GA1UdDwEB/wQEAwIFoDATBgNV
        HSUEDDAKBggrBgEFBQcDATAsBgNVHREEJTAjhwR/AAABhxAAAAAAAAAAAAAAAAAA
        AAABgglsb2NhbGhvc3QwHwYDVR0jBBgwFoAUGfUMR1plFyhDto2OwObIjMnTm0Yw
        HQYDVR0OBBYEFP2r9ShVGAHx/4PcOaae4Tvv278jMAoGCCqGSM49BAMCA0gAMEUC
        IQChePF9TRFa9abIlqWYoA6AUCfJG699h8ReFGlbHNtyigIgBC0RJ94U5Ci8dhaf
        CJhQ+F+OcHoZsocR1jLG6M8gni4=
        -----END CERTIFICATE-----
        """

    /// The server certificate's private key (PKCS#8).
    static let serverKeyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgCNrAmB7DYbbErmpe
        uD9AlFxTQVViY1kyeBQV+vZIJtahRANCAAQoKv+FSrf8KdMFtDstQF7oECBu7d/Y
        lRhHV9g9e2CgmyiRB58/fq/YBusZeJkOYBdFlEXx9k3U7HCEiLUllXVr
        -----END PRIVATE KEY-----
        """

    /// A server TLS configuration presenting the test certificate.
    static func serverTLS() throws -> TLSConfiguration {
        TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(serverCertificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(serverKeyPEM.utf8), format: .pem))
        )
    }

    /// A client TLS configuration that trusts only the test CA.
    static func clientTLS() throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        return configuration
    }
}
