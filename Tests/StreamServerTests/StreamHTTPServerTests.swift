import Foundation
import NIOCore
import NIOPosix
import Testing
import WebCore
@testable import StreamServer

@Suite struct StreamHTTPServerTests {
    /// Sends raw bytes on a unix socket and reads until the server closes.
    func exchange(_ path: String, _ text: String) throws -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard ok == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test(.timeLimit(.minutes(1))) func answersThroughTheRouter() async throws {
        var router = Router()
        router.on("GET", "/api/stream/health") { _ in .json(["status": "ok"]) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let path = "/tmp/miauflix-engine-\(UUID().uuidString.prefix(8)).sock"
        let server = try await StreamHTTPServer.start(socketPath: path, responder: router, group: group,
                                                      makeRequestID: { String(repeating: "d", count: 32) })
        let ok = try exchange(path, "GET /api/stream/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(ok.hasPrefix("HTTP/1.1 200 OK"))
        #expect(ok.contains("X-Request-ID: " + String(repeating: "d", count: 32)))
        #expect(ok.hasSuffix(#"{"status":"ok"}"#))
        let forwarded = String(repeating: "e", count: 32)
        let withID = try exchange(path, "GET /api/stream/health HTTP/1.1\r\nX-Request-ID: \(forwarded)\r\nConnection: close\r\n\r\n")
        #expect(withID.contains("X-Request-ID: \(forwarded)"))
        let head = try exchange(path, "HEAD /api/stream/health HTTP/1.1\r\nConnection: close\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.1 200 OK") && !head.contains("status"))
        let missing = try exchange(path, "GET /api/stream/nope HTTP/1.1\r\nConnection: close\r\n\r\n")
        #expect(missing.hasPrefix("HTTP/1.1 404"))
        let garbage = try exchange(path, "\u{01}\u{02} NOT HTTP\r\n\r\n")
        #expect(garbage.isEmpty || garbage.hasPrefix("HTTP/1.1 400"), "a clean refusal")
        await server.stop()
        try await group.shutdownGracefully()
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
