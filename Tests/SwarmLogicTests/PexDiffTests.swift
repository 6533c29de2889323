import Testing
@testable import SwarmLogic

/// BEP 11 bookkeeping: what a peer is told, how often, and how much.
@Suite struct PexDiffTests {
    @Test func tellsAddedAndDroppedOncePerMinute() {
        var pex = PexDiff(now: 100)
        #expect(pex.next(connected: ["10.0.0.1:1"], now: 101) == nil, "not before the first delay")
        let first = pex.next(connected: ["10.0.0.1:1", "10.0.0.2:2"], now: 105)
        #expect(first?.added == ["10.0.0.1:1", "10.0.0.2:2"] && first?.dropped == [])
        #expect(pex.next(connected: ["10.0.0.2:2", "10.0.0.3:3"], now: 130) == nil, "at most one message a minute")
        let second = pex.next(connected: ["10.0.0.2:2", "10.0.0.3:3"], now: 165)
        #expect(second?.added == ["10.0.0.3:3"] && second?.dropped == ["10.0.0.1:1"])
        #expect(pex.next(connected: ["10.0.0.2:2", "10.0.0.3:3"], now: 300) == nil, "nothing changed, nothing sent")
    }

    @Test func capsEachMessageAndWhatIsAccepted() {
        var pex = PexDiff(now: 0)
        let many = Set((0..<120).map { "10.0.\($0 / 256).\($0 % 256):6881" })
        #expect(pex.next(connected: many, now: 5)?.added.count == 50)
        #expect(pex.next(connected: many, now: 65)?.added.count == 50, "the rest follows a minute later")
        #expect(pex.next(connected: many, now: 125)?.added.count == 20)
        let offered = (0..<500).map { "10.1.\($0 / 256).\($0 % 256):1" } + ["127.0.0.1:6881"]
        #expect(PexDiff.accepted(offered, own: "127.0.0.1:6881").count == 50)
        #expect(!PexDiff.accepted(["127.0.0.1:6881"], own: "127.0.0.1:6881").contains("127.0.0.1:6881"), "never ourselves")
    }
}
