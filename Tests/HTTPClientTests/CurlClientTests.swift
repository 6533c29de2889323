import Foundation
import Testing
@testable import HTTPClient

/// A one-shot loopback HTTP server on a thread: answers each connection with `reply`
/// after `delay`.
final class TinyServer: @unchecked Sendable {
    let fd: Int32
    let port: UInt16

    init(reply: String, delay: TimeInterval = 0, connections: Int = 1) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        listen(listener, 8)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        fd = listener
        port = UInt16(bigEndian: address.sin_port)
        Thread {
            for _ in 0..<connections {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = read(client, &buffer, buffer.count)
                Thread.sleep(forTimeInterval: delay)
                _ = Array(reply.utf8).withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                close(client)
            }
        }.start()
    }

    deinit { close(fd) }
}

@Suite struct CurlClientTests {
    @Test(.timeLimit(.minutes(1))) func getsStatusHeadersBody() throws {
        let server = try TinyServer(reply: "HTTP/1.1 201 Created\r\nX-Thing: yes\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        let response = try CurlClient.get("http://127.0.0.1:\(server.port)/x")
        #expect(response.status == 201)
        #expect(String(decoding: response.body, as: UTF8.self) == "hello")
        #expect(response.headers.contains { $0.name == "x-thing" && $0.value == "yes" })
    }

    @Test(.timeLimit(.minutes(1))) func capsTheBody() throws {
        let body = String(repeating: "a", count: 5000)
        let server = try TinyServer(reply: "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n\(body)")
        var options = HTTPRequestOptions()
        options.maxBodyBytes = 1000
        #expect(throws: HTTPClientError.bodyTooLarge) { try CurlClient.get("http://127.0.0.1:\(server.port)/", options: options) }
    }

    @Test(.timeLimit(.minutes(1))) func typedFailures() throws {
        let slow = try TinyServer(reply: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", delay: 2)
        var options = HTTPRequestOptions()
        options.totalTimeout = 0.3
        #expect(throws: HTTPClientError.timeout) { try CurlClient.get("http://127.0.0.1:\(slow.port)/", options: options) }
        // Connection refused: a port that was bound and released.
        let refusedPort = try TinyServer(reply: "", connections: 0).port
        #expect(throws: HTTPClientError.connection) { try CurlClient.get("http://127.0.0.1:\(refusedPort)/", options: options) }
        #expect(throws: HTTPClientError.dns) { try CurlClient.get("http://no-such-host.invalid/", options: options) }
    }
}
