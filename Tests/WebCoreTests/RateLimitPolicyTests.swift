import Testing
@testable import WebCore

@Suite struct RateLimitPolicyTests {
    @Test func rollingWindowForLimitsOfOneOrMore() {
        var window: [Int64] = []
        for t in [0, 100, 200] as [Int64] { #expect(RateLimitPolicy.decide(limit: 3, now: t, window: &window) == .allow) }
        #expect(RateLimitPolicy.decide(limit: 3, now: 500, window: &window) == .deny(retryAfterMillis: 500))
        #expect(RateLimitPolicy.decide(limit: 3, now: 999, window: &window) == .deny(retryAfterMillis: 1))
        #expect(RateLimitPolicy.decide(limit: 3, now: 1000, window: &window) == .allow, "the 0 ms request left the window")
        #expect(window == [100, 200, 1000], "rejections are not recorded")
    }

    @Test func oneRequestPerIntervalBelowOne() {
        var window: [Int64] = []
        #expect(RateLimitPolicy.decide(limit: 0.2, now: 0, window: &window) == .allow)
        #expect(RateLimitPolicy.decide(limit: 0.2, now: 4999, window: &window) == .deny(retryAfterMillis: 1))
        #expect(RateLimitPolicy.decide(limit: 0.2, now: 5000, window: &window) == .allow)

    }

    @Test func inMemoryStoreIsBounded() {
        let store = InMemoryRateLimitStore(capacity: 100)
        for i in 0..<10_000 { _ = store.check(key: "k\(i)", limit: 1, now: Int64(i) * 2000) }
        #expect(store.count <= 100)
        #expect(store.check(key: "x", limit: 1, now: 50_000_000) == .allow)
        #expect(store.check(key: "x", limit: 1, now: 50_000_001) == .deny(retryAfterMillis: 999))
    }
}
