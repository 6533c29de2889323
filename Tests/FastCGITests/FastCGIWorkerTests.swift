import Foundation
import Logging
import Testing
import WebCore
@testable import FastCGI

/// Real round trips through libfcgi on a temporary unix socket.
@Suite(.serialized) struct FastCGIWorkerTests {
    final class Gate: @unchecked Sendable {
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
    }

    static func start(threads: Int = 2, maxBody: Int = 64, gate: Gate? = nil) throws -> (FastCGIWorker, String) {
        let path = "/tmp/miauflix-fcgi-\(UUID().uuidString.prefix(8)).sock"
        let fd = try ListeningSocket.open(path: path)
        var router = Router()
        router.on("GET", "/api/health") { _ in .json(["status": "ok"]) }
        router.on("POST", "/api/echo") { request in Response(status: 200, body: request.body) }
        router.on("GET", "/api/slow") { _ in
            gate?.entered.signal()
            _ = gate?.release.wait(timeout: .now() + 10)
            return .text("done")
        }
        let worker = FastCGIWorker(listenFD: fd, threadCount: threads,
                                   mapper: FastCGIRequestMapper(maxBodyBytes: maxBody, proxySecret: nil),
                                   responder: router, logger: Logger(label: "test"),
                                   makeRequestID: { String(repeating: "b", count: 32) })
        worker.start()
        return (worker, path)
    }

    @Test(.timeLimit(.minutes(1))) func servesRequestsWithRequestIDs() throws {
        let (worker, path) = try Self.start()
        defer { worker.stop(timeout: .seconds(2)); unlink(path) }
        let reply = try FastCGITestClient.request(path, params: ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/health"])
        #expect(reply.status == 200)
        #expect(reply.body == #"{"status":"ok"}"#)
        #expect(reply.text.contains("X-Request-ID: " + String(repeating: "b", count: 32)))
        let supplied = String(repeating: "c", count: 32)
        let second = try FastCGITestClient.request(path, params: ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/health", "REQUEST_ID": supplied])
        #expect(second.text.contains("X-Request-ID: \(supplied)"), "nginx's $request_id is reused")
        let missing = try FastCGITestClient.request(path, params: ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/x"])
        #expect(missing.status == 404)
    }

    @Test(.timeLimit(.minutes(1))) func bodiesAndTheLimit() throws {
        let (worker, path) = try Self.start(maxBody: 64)
        defer { worker.stop(timeout: .seconds(2)); unlink(path) }
        let echo = try FastCGITestClient.request(path, params: ["REQUEST_METHOD": "POST", "REQUEST_URI": "/api/echo"], body: Array("hello".utf8))
        #expect(echo.body == "hello")
        let big = try FastCGITestClient.request(path, params: ["REQUEST_METHOD": "POST", "REQUEST_URI": "/api/echo"],
                                                body: [UInt8](repeating: 65, count: 100_000))
        #expect(big.status == 413)
        #expect(big.body.contains("too large"))
        let after = try FastCGITestClient.request(path, params: ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/health"])
        #expect(after.status == 200)
    }

    @Test(.timeLimit(.minutes(1))) func garbageConnectionsDoNotHurtThePool() throws {
        let (worker, path) = try Self.start(threads: 1)
        defer { worker.stop(timeout: .seconds(2)); unlink(path) }
        for garbage in [[UInt8](), [1, 2, 3], [UInt8](repeating: 0xff, count: 4096)] {
            let fd = try FastCGITestClient.connect(path)
            _ = garbage.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        let reply = try FastCGITestClient.request(path, params: ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/health"])
        #expect(reply.status == 200, "the single thread is still serving")
    }

    @Test(.timeLimit(.minutes(1))) func stopLetsInFlightRequestsFinishAndStopsAccepting() throws {
        let gate = Gate()
        let (worker, path) = try Self.start(threads: 2, gate: gate)
        defer { unlink(path) }
        final class Box: @unchecked Sendable { var reply: FastCGITestClient.Reply? }
        let box = Box()
        let client = Thread {
            box.reply = try? FastCGITestClient.request(path, params: ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/slow"])
        }
        client.start()
        #expect(gate.entered.wait(timeout: .now() + 5) == .success)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { gate.release.signal() }
        let started = Date()
        let abandoned = worker.stop(timeout: .seconds(5))
        #expect(abandoned == 0)
        #expect(Date().timeIntervalSince(started) >= 0.25, "waited for the in-flight request")
        while box.reply == nil && Date().timeIntervalSince(started) < 5 { usleep(10_000) }
        #expect(box.reply?.body == "done")
    }

    @Test(.timeLimit(.minutes(1))) func idleStopIsPrompt() throws {
        let (worker, path) = try Self.start(threads: 4)
        defer { unlink(path) }
        usleep(50_000)
        let started = Date()
        #expect(worker.stop(timeout: .seconds(5)) == 0)
        #expect(Date().timeIntervalSince(started) < 1.0)
    }

    @Test func secondListenerOnTheSameSocketIsRefused() throws {
        let path = "/tmp/miauflix-fcgi-\(UUID().uuidString.prefix(8)).sock"
        let fd = try ListeningSocket.open(path: path)
        defer { close(fd); unlink(path) }
        #expect(throws: ListeningSocket.Failure.self) { try ListeningSocket.open(path: path) }
    }
}
