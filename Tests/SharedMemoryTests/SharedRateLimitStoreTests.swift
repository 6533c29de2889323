import Foundation
import Testing
import WebCore
@testable import SharedMemory

@Suite struct SharedRateLimitStoreTests {
    func path() -> String { "/tmp/miauflix-rl-\(UUID().uuidString.prefix(8)).shm" }

    @Test func twoMappingsShareOneWindow() throws {
        let file = path()
        defer { unlink(file) }
        let a = try SharedRateLimitStore(path: file, slotCount: 64)
        let b = try SharedRateLimitStore(path: file, slotCount: 64)
        #expect(a.check(key: "1.2.3.4 POST /api/auth/login", limit: 1, now: 10_000) == .allow)
        #expect(b.check(key: "1.2.3.4 POST /api/auth/login", limit: 1, now: 10_100) == .deny(retryAfterMillis: 900))
        #expect(b.check(key: "5.6.7.8 POST /api/auth/login", limit: 1, now: 10_100) == .allow, "per client")
        #expect(a.check(key: "1.2.3.4 POST /api/auth/login", limit: 1, now: 11_000) == .allow)
    }

    @Test func boundedMemoryEvictsIdleWindows() throws {
        let file = path()
        defer { unlink(file) }
        let store = try SharedRateLimitStore(path: file, slotCount: 32)
        for i in 0..<10_000 { #expect(store.check(key: "ip\(i)", limit: 5, now: Int64(i * 10)) == .allow) }
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        #expect(size == SharedRateLimitStore.headerSize + 32 * SharedRateLimitStore.slotSize)
        // A busy key survives when others are idle.
        for t in 0..<5 { _ = store.check(key: "busy", limit: 5, now: 200_000 + Int64(t)) }
        #expect(store.check(key: "busy", limit: 5, now: 200_010) != .allow)
    }

    @Test func concurrentThreadsNeverExceedTheLimit() throws {
        let file = path()
        defer { unlink(file) }
        let store = try SharedRateLimitStore(path: file, slotCount: 64)
        final class Count: @unchecked Sendable { var allowed = 0; let lock = NSLock() }
        let count = Count()
        DispatchQueue.concurrentPerform(iterations: 400) { _ in
            if store.check(key: "k", limit: 10, now: 50_000) == .allow {
                count.lock.lock(); count.allowed += 1; count.lock.unlock()
            }
        }
        #expect(count.allowed == 10)
    }
}
