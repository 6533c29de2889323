import BitTorrentCore
import Testing
@testable import SwarmLogic

/// The L0 pieces the engine's streaming relies on: windows for several streams, seeks that
/// cancel stale requests, rate limits and the peer address book.
@Suite struct StreamingLogicTests {
    let geometry = PieceGeometry(totalLength: 20 * 65_536, pieceLength: 65_536)!

    func all() -> Bitfield { Bitfield(count: 20, all: true) }

    @Test func twoStreamsInterleaveByDeadlineAndASeekMovesTheWindow() {
        var picker = PiecePicker(geometry: geometry)
        picker.setPlaybackWindows([.init(position: 0, readahead: 3 * 65_536, bytesPerSecond: 65_536),
                                   .init(position: 15 * 65_536, readahead: 2 * 65_536, bytesPerSecond: 65_536)], now: 100)
        // Equal deadlines (same distance from each window's position) go by index.
        #expect(picker.piecesByDeadline.map(\.value) == [0, 15, 1, 16, 2])
        #expect(picker.pick(from: all())?.value == 0)
        picker.started(geometry.piece(0)!)
        #expect(picker.pick(from: all())?.value == 15, "the second stream's first piece is as urgent")
        picker.setPlaybackWindows([.init(position: 10 * 65_536, readahead: 65_536, bytesPerSecond: 65_536)], now: 200)
        #expect(picker.piecesByDeadline.map(\.value) == [10])
        #expect(picker.deadline(of: geometry.piece(15)!) == nil, "the old window's deadlines are gone")
        #expect(picker.pick(from: all())?.value == 10)
    }

    @Test func interestFollowsWhatWeLack() {
        var picker = PiecePicker(geometry: geometry)
        var peer = Bitfield(count: 20)
        #expect(!picker.wantsAny(of: peer))
        peer[3] = true
        #expect(picker.wantsAny(of: peer))
        picker.completed(geometry.piece(3)!)
        #expect(!picker.wantsAny(of: peer))
    }

    @Test func aSeekCancelsRequestsOutsideTheNewWindowAndServesItFirst() {
        var planner = BlockPlanner(geometry: geometry, pipelineDepth: 8, timeout: 10)
        planner.begin(geometry.piece(0)!)
        planner.begin(geometry.piece(1)!)
        let first = planner.fill(peer: 1, peerHas: all(), now: 0)
        #expect(first.count == 8 && planner.outstandingCount(peer: 1) == 8)
        planner.begin(geometry.piece(12)!)
        let cancels = planner.cancelRequests(outside: [geometry.piece(12)!])
        #expect(cancels.count == 8 && planner.outstandingCount(peer: 1) == 0)
        planner.prioritize([geometry.piece(12)!])
        #expect(planner.activePieces.first?.value == 12)
        let next = planner.fill(peer: 1, peerHas: all(), now: 1)
        guard case let .request(_, block)? = next.first else { Issue.record("no request"); return }
        #expect(block.piece.value == 12, "the seek's piece is asked first")
        // A cancelled block that arrives anyway is still used.
        let late = geometry.blocks(of: geometry.piece(0)!)[0]
        #expect(planner.wants(late))
        _ = planner.received(late, from: 1)
        #expect(!planner.wants(late))
    }

    @Test func droppingAPieceCancelsItsRequests() {
        var planner = BlockPlanner(geometry: geometry, pipelineDepth: 4, timeout: 10)
        planner.begin(geometry.piece(5)!)
        _ = planner.fill(peer: 1, peerHas: all(), now: 0)
        _ = planner.fill(peer: 2, peerHas: all(), now: 0, endgame: true)
        let cancels = planner.drop(geometry.piece(5)!)
        #expect(cancels.count == 8 && planner.activePieces.isEmpty)
        #expect(planner.outstandingCount(peer: 1) == 0 && planner.outstandingCount(peer: 2) == 0)
    }

    @Test func tokenBucketPacesToTheRate() {
        var bucket = TokenBucket(bytesPerSecond: 100_000, burstSeconds: 1)
        let burst = bucket.take(100_000, now: 0)
        #expect(burst == 0, "the burst is available at once")
        let wait = bucket.take(50_000, now: 0)
        #expect(abs(wait - 0.5) < 1e-9)
        #expect(!bucket.allows(1, now: 0.4) && bucket.allows(1, now: 0.6))
        var unlimited = TokenBucket(bytesPerSecond: 0)
        let none = unlimited.take(1 << 30, now: 0)
        #expect(none == 0 && unlimited.allows(1 << 30, now: 0))
    }

    @Test func peerBookDialsEachAddressOnceAndRetriesFailuresLater() {
        var book = PeerBook(retryAfter: 30, capacity: 3)
        let added = book.add("127.0.0.2:6881")
        let again = book.add("127.0.0.2:6881")
        #expect(added && !again)
        book.add("127.0.0.3:6881")
        book.add("10.0.0.1:1")
        let overCapacity = book.add("10.0.0.2:1")
        let noPort = book.add("no-port")
        #expect(!overCapacity, "bounded")
        #expect(!noPort)
        let first = book.candidates(connected: ["127.0.0.3:6881"], own: "10.0.0.1:1", limit: 5, now: 0)
        #expect(first == ["127.0.0.2:6881"])
        let second = book.candidates(connected: [], own: "", limit: 5, now: 0)
        #expect(second == ["10.0.0.1:1", "127.0.0.3:6881"], "not twice while dialling")
        book.dialFinished("127.0.0.2:6881", succeeded: false, now: 1)
        let tooSoon = book.candidates(connected: [], own: "", limit: 5, now: 10)
        #expect(tooSoon.isEmpty)
        let retried = book.candidates(connected: [], own: "", limit: 5, now: 40)
        #expect(retried == ["127.0.0.2:6881"])
        book.ban(host: "127.0.0.2")
        book.dialFinished("127.0.0.2:6881", succeeded: false, now: 41)
        let afterBan = book.candidates(connected: [], own: "", limit: 5, now: 100)
        #expect(book.isBanned("127.0.0.2:9999") && afterBan.isEmpty)
    }

    @Test func anAbandonedDialIsACandidateAgainAtOnce() {
        var book = PeerBook(retryAfter: 30)
        book.add("10.8.0.5:6881")
        #expect(book.candidates(connected: [], own: "", limit: 5, now: 0) == ["10.8.0.5:6881"])
        #expect(book.candidates(connected: [], own: "", limit: 5, now: 1).isEmpty, "being dialled")
        book.dialAbandoned("10.8.0.5:6881") // the VPN was down: the dial never started
        #expect(book.candidates(connected: [], own: "", limit: 5, now: 2) == ["10.8.0.5:6881"], "not a failure, no backoff")
    }
}
