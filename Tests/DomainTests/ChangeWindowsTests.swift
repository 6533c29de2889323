import Foundation
import Testing
@testable import Domain

@Suite struct ChangeWindowsTests {
    func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func oneDayChunksFromTheLastSyncFlooredToUTCMidnight() {
        let chunks = ChangeWindows.chunks(lastSync: date("2026-11-27T15:30:00Z"), now: date("2026-11-29T10:00:00Z"))
        #expect(chunks.map { ChangeWindows.day($0.start) } == ["2026-11-27", "2026-11-28", "2026-11-29"])
        #expect(chunks.first!.start == date("2026-11-27T00:00:00Z"))
        #expect(chunks.last!.end == date("2026-11-29T10:00:00Z"), "the last chunk ends now")
    }

    @Test func firstSyncLooksBackOneDayAndNeverMoreThanFourteen() {
        #expect(ChangeWindows.chunks(lastSync: nil, now: date("2026-11-29T10:00:00Z")).count == 2)
        #expect(ChangeWindows.chunks(lastSync: date("2025-01-01T00:00:00Z"), now: date("2026-11-29T10:00:00Z")).count == 15)
    }

    @Test func skipsWhenTheLastSyncIsRecent() {
        #expect(ChangeWindows.chunks(lastSync: date("2026-11-29T09:30:00Z"), now: date("2026-11-29T10:00:00Z")).isEmpty)
    }
}
