import Foundation
import Logging
import Testing
@testable import HTTPClient

/// Records what the client reports.
final class RecordingObserver: HTTPCallObserving, @unchecked Sendable {
    var calls: [(host: String, seconds: Double, status: Int?)] = []
    let lock = NSLock()

    func completed(host: String, seconds: Double, status: Int?) {
        lock.lock()
        calls.append((host, seconds, status))
        lock.unlock()
    }
}

@Suite struct HTTPCallObserverTests {
    func client(_ transport: ScriptedTransport, observer: RecordingObserver) -> HTTPClient {
        var policy = HTTPClientPolicy()
        policy.baseBackoff = 0.01
        policy.observer = observer
        return HTTPClient(policy: policy, transport: transport, logger: Logger(label: "test"))
    }

    @Test func oneReportPerCallWithRetriesIncludedAndTheFinalStatus() throws {
        let observer = RecordingObserver()
        let transport = ScriptedTransport([.failure(.connection), response(503), response(200)])
        _ = try client(transport, observer: observer).get("http://yts.test/api/v2/list_movies.json")
        #expect(transport.calls.count == 3)
        #expect(observer.calls.count == 1, "retries are one call")
        #expect(observer.calls.first?.host == "yts.test" && observer.calls.first?.status == 200)
        #expect((observer.calls.first?.seconds ?? 0) > 0)
    }

    @Test func aCallWithoutAnAnswerReportsNoStatus() {
        let observer = RecordingObserver()
        let transport = ScriptedTransport([.failure(.dns)])
        #expect(throws: HTTPClientError.self) { try client(transport, observer: observer).get("http://down.test/") }
        #expect(observer.calls.count == 1 && observer.calls.first?.status == nil)
    }
}
