import Foundation
import Logging
import Testing
@testable import HTTPClient

/// A transport that answers from a script and records what it was asked.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    var script: [Result<HTTPResponse, HTTPClientError>]
    var calls: [(url: String, options: HTTPRequestOptions)] = []
    let lock = NSLock()

    init(_ script: [Result<HTTPResponse, HTTPClientError>]) { self.script = script }

    func send(method: String, url: String, body: [UInt8]?, options: HTTPRequestOptions) throws(HTTPClientError) -> HTTPResponse {
        lock.lock()
        calls.append((url, options))
        let next = script.isEmpty ? .success(HTTPResponse(status: 200, headers: [], body: [])) : script.removeFirst()
        lock.unlock()
        return try next.get()
    }
}

func response(_ status: Int, _ headers: [(String, String)] = []) -> Result<HTTPResponse, HTTPClientError> {
    .success(HTTPResponse(status: status, headers: headers.map { (name: $0.0, value: $0.1) }, body: Array("{}".utf8)))
}

@Suite struct HTTPClientRetryTests {
    func client(_ transport: ScriptedTransport, attempts: Int = 3, rate: [String: Double] = [:]) -> HTTPClient {
        var policy = HTTPClientPolicy()
        policy.maxAttempts = attempts
        policy.baseBackoff = 0.01
        policy.maxBackoff = 1
        policy.ratePerHost = rate
        return HTTPClient(policy: policy, transport: transport, logger: Logger(label: "test"))
    }

    @Test func retriesNetworkErrorsAnd5xxThenSucceeds() throws {
        let transport = ScriptedTransport([.failure(.connection), response(503), response(200)])
        let answer = try client(transport).get("http://tmdb.test/3/movie/1?api_key=secret")
        #expect(answer.status == 200)
        #expect(transport.calls.count == 3)
    }

    @Test func givesUpAfterMaxAttempts() {
        let transport = ScriptedTransport([response(500), response(500), response(500), response(200)])
        #expect((try? client(transport).get("http://tmdb.test/x").status) == 500)
        #expect(transport.calls.count == 3)
        let failing = ScriptedTransport([.failure(.timeout), .failure(.timeout), .failure(.timeout)])
        #expect(throws: HTTPClientError.timeout) { try client(failing).get("http://tmdb.test/x") }
    }

    @Test func doesNotRetryClientErrorsOrDNS() throws {
        let transport = ScriptedTransport([response(404)])
        #expect(try client(transport).get("http://tmdb.test/x").status == 404)
        #expect(transport.calls.count == 1)
        let dns = ScriptedTransport([.failure(.dns)])
        #expect(throws: HTTPClientError.dns) { try client(dns).get("http://nowhere.test/x") }
        #expect(dns.calls.count == 1)
    }

    @Test func honoursRetryAfterWithinTheBudget() throws {
        let transport = ScriptedTransport([response(429, [("retry-after", "0")]), response(200)])
        #expect(try client(transport).get("http://tmdb.test/x").status == 200)
        let tooLong = ScriptedTransport([response(429, [("retry-after", "120")])])
        #expect(try client(tooLong).get("http://tmdb.test/x").status == 429, "a wait past the cap is not slept")
        #expect(tooLong.calls.count == 1)
    }

    @Test func neverRunsPastTheBudget() {
        let transport = ScriptedTransport(Array(repeating: .failure(.connection), count: 50))
        var policy = HTTPClientPolicy()
        policy.maxAttempts = 50
        policy.baseBackoff = 0.2
        let http = HTTPClient(policy: policy, transport: transport, logger: Logger(label: "test"))
        let started = Date()
        #expect(throws: HTTPClientError.self) { try http.get("http://tmdb.test/x", budget: 0.5) }
        #expect(Date().timeIntervalSince(started) < 1.5)
        #expect(transport.calls.allSatisfy { $0.options.totalTimeout <= 0.5 + 0.001 })
    }

    @Test func pacesPerHost() {
        let pacer = HostPacer(rates: ["tmdb.test": 40])
        let now = Date()
        let waits = (0..<5).map { _ in pacer.reserve(host: "tmdb.test", now: now)! }
        #expect(abs(waits[4] - 0.1) < 0.0001, "the fifth request of a burst waits 4/40 s")
        #expect(pacer.reserve(host: "other.test", now: now) == nil)
    }

    @Test func backoffDoublesWithJitterAndCap() {
        #expect(RetryPolicy.backoff(attempt: 1, base: 0.2, cap: 5, jitter: 1) == 0.2)
        #expect(RetryPolicy.backoff(attempt: 3, base: 0.2, cap: 5, jitter: 0.5) == 0.4)
        #expect(RetryPolicy.backoff(attempt: 10, base: 0.2, cap: 5, jitter: 1) == 5)
    }
}
