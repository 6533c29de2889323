import Testing
@testable import Domain

@Suite struct StatsFramesTests {
    // 2026-11-29T00:00:00Z: a UTC midnight, so frame boundaries fall on it.
    let midnight = 1_796_256_000.0

    @Test func framesAreFiveMinutesAlignedToUTCMidnight() {
        #expect(StatsFrames.frame(at: midnight) * 300 == Int(midnight))
        #expect(StatsFrames.frame(at: midnight + 299.9) == StatsFrames.frame(at: midnight))
        #expect(StatsFrames.frame(at: midnight + 300) == StatsFrames.frame(at: midnight) + 1)
        #expect(StatsFrames.frame(at: midnight - 0.1) == StatsFrames.frame(at: midnight) - 1)
    }

    @Test func durationsGiveCountMinMaxAverageAndEventsACount() {
        var pending = StatsAccumulator()
        pending.duration("request", seconds: 0.2, at: midnight + 10)
        pending.duration("request", seconds: 0.4, at: midnight + 20)
        pending.event("request.solved", at: midnight + 30)
        pending.event("request.solved", at: midnight + 40)
        let report = StatsReport.build(pending.drain(), now: midnight + 50)
        #expect(report["request"] == [.duration(count: 2, min: 0.2, max: 0.4, avg: 0.3)])
        #expect(report["request.solved"] == [.event(2)])
        #expect(pending.isEmpty, "drain forgets what it returned")
    }

    @Test func everyArrayRunsFromTheOldestFrameWithDataToNowWithZerosBetween() {
        var pending = StatsAccumulator()
        pending.event("a", at: midnight)                 // frame 0
        pending.duration("b", seconds: 1, at: midnight + 700) // frame 2
        let report = StatsReport.build(pending.drain(), now: midnight + 1000) // frame 3
        #expect(report["a"] == [.event(1), .event(0), .event(0), .event(0)])
        #expect(report["b"] == [.duration(count: 0, min: 0, max: 0, avg: 0), .duration(count: 0, min: 0, max: 0, avg: 0),
                                .duration(count: 1, min: 1, max: 1, avg: 1), .duration(count: 0, min: 0, max: 0, avg: 0)])
    }

    @Test func framesOlderThanADayAreLeftOut() {
        var pending = StatsAccumulator()
        pending.event("old", at: midnight)
        pending.event("new", at: midnight + 86_400)
        let report = StatsReport.build(pending.drain(), now: midnight + 86_400)
        #expect(report["old"] == nil)
        #expect(report["new"] == [.event(1)])
    }

    @Test func samplesFromSeveralProcessesMerge() {
        var workerA = StatsAccumulator(), workerB = StatsAccumulator()
        workerA.duration("http.request", seconds: 0.1, at: midnight + 1)
        workerB.duration("http.request", seconds: 0.5, at: midnight + 2)
        workerB.duration("http.request", seconds: 0.3, at: midnight + 3)
        let report = StatsReport.build(workerA.drain() + workerB.drain(), now: midnight + 4)
        #expect(report["http.request"] == [.duration(count: 3, min: 0.1, max: 0.5, avg: 0.3)])
    }

    @Test func distinctMetricsAreBounded() {
        var pending = StatsAccumulator(maxNames: 3)
        for index in 0..<10 { pending.event("e\(index)", at: midnight) }
        pending.event("e0", at: midnight)
        let samples = pending.drain()
        #expect(samples.count == 3)
        #expect(samples.first { $0.name == "e0" }?.count == 2, "known metrics still count")
    }
}
