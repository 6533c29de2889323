import BitTorrentCore
import Testing
@testable import SwarmLogic

@Suite struct PieceGeometryTests {
    let geometry = PieceGeometry(totalLength: 1_000_003, pieceLength: 262_144)!

    @Test func layout() {
        #expect(geometry.pieceCount == 4)
        #expect(geometry.length(of: geometry.piece(3)!) == 1_000_003 - 3 * 262_144)
        #expect(geometry.piece(4) == nil && geometry.piece(-1) == nil)
        let last = geometry.blocks(of: geometry.piece(3)!)
        #expect(last.count == 14 && last.last!.length == (1_000_003 - 3 * 262_144) % 16384)
        #expect(geometry.block(piece: 3, begin: 0, length: 16384) != nil)
        #expect(geometry.block(piece: 3, begin: 1, length: 16384) == nil, "misaligned")
        #expect(geometry.block(piece: 0, begin: 0, length: 100) == nil, "wrong length")
        #expect(geometry.pieces(coveringBytes: 262_143, 262_145).map(\.value) == [0, 1])
        #expect(geometry.pieces(coveringBytes: 999_999, 5_000_000).map(\.value) == [3])
        #expect(PieceGeometry(totalLength: 0, pieceLength: 16384)!.pieceCount == 0)
    }

    @Test func bitfieldWireForm() {
        var bits = Bitfield(count: 10)
        bits[0] = true
        bits[9] = true
        #expect(bits.bytes == [0x80, 0x40] && bits.setCount == 2)
        #expect(Bitfield(wire: [0x80, 0x40], count: 10) == bits)
        #expect(Bitfield(wire: [0x80, 0x41], count: 10) == nil, "spare bits set")
        #expect(Bitfield(wire: [0x80], count: 10) == nil, "wrong size")
        #expect(Bitfield(count: 10, all: true).bytes == [0xff, 0xc0])
        #expect(!bits[10] && !bits[-1])
    }
}

@Suite struct PiecePickerTests {
    let geometry = PieceGeometry(totalLength: 10 * 262_144, pieceLength: 262_144)!

    func peer(_ pieces: [Int]) -> Bitfield {
        var bits = Bitfield(count: 10)
        for piece in pieces { bits[piece] = true }
        return bits
    }

    @Test func rarestFirstThenIndex() {
        var picker = PiecePicker(geometry: geometry)
        picker.peerBitfield(peer(Array(0..<10)))
        picker.peerBitfield(peer([0, 1, 2, 3, 4, 5, 6, 8, 9]))
        #expect(picker.pick(from: peer(Array(0..<10)))?.value == 7, "piece 7 is the rarest")
        picker.started(geometry.piece(7)!)
        #expect(picker.pick(from: peer(Array(0..<10)))?.value == 0)
        #expect(picker.pick(from: peer([7])) == nil, "in progress, not endgame")
        #expect(picker.pick(from: peer([7]), endgame: true)?.value == 7)
    }

    @Test func streamingDeadlinesComeFirstAndMoveWithASeek() {
        var picker = PiecePicker(geometry: geometry)
        picker.peerBitfield(peer([9]))  // 9 is rare, but not in the window
        picker.setPlaybackWindow(position: 5 * 262_144 + 100, readahead: 2 * 262_144, bytesPerSecond: 262_144, now: 100)
        #expect(picker.deadline(of: geometry.piece(5)!) == 100)
        #expect(picker.deadline(of: geometry.piece(6)!)! > 100)
        #expect(picker.pick(from: peer(Array(0..<10)))?.value == 5)
        picker.completed(geometry.piece(5)!)
        #expect(picker.pick(from: peer(Array(0..<10)))?.value == 6)
        picker.setPlaybackWindow(position: 0, readahead: 262_144, bytesPerSecond: 262_144, now: 200)
        #expect(picker.deadline(of: geometry.piece(6)!) == nil, "a seek clears the old window")
        #expect(picker.pick(from: peer(Array(0..<10)))?.value == 0)
    }

    @Test func fileEndsAreRaisedAndSkippedPiecesNeverPicked() {
        var picker = PiecePicker(geometry: geometry)
        picker.prioritizeEnds(ofBytes: 0, geometry.totalLength, pieces: 1)
        #expect(picker.pick(from: peer([4, 9]))?.value == 9, "the last piece outranks a normal one")
        picker.setPriority(.skip, for: [geometry.piece(9)!])
        #expect(picker.pick(from: peer([9])) == nil)
        #expect(!picker.inEndgame)
    }
}

@Suite struct ChokerTests {
    @Test func titForTatPlusOptimistic() {
        var choker = Choker(slots: 3, optimisticRounds: 3)
        let peers = [Choker.Peer(id: 1, interested: true, rate: 500), Choker.Peer(id: 2, interested: true, rate: 900),
                     Choker.Peer(id: 3, interested: false, rate: 9999), Choker.Peer(id: 4, interested: true, rate: 10),
                     Choker.Peer(id: 5, interested: true, rate: 0)]
        let first = choker.round(peers) { _ in 0 }
        #expect(first.isSuperset(of: [1, 2]) && !first.contains(3), "fastest two interested peers; uninterested stay choked")
        #expect(first.count == 3, "plus one optimistic")
        let optimistic = first.subtracting([1, 2]).first!
        #expect(choker.round(peers) { _ in 1 }.contains(optimistic), "the optimistic unchoke lasts for its rounds")
        #expect(choker.round([]) { _ in 0 }.isEmpty)
    }
}

@Suite struct BlockPlannerTests {
    let geometry = PieceGeometry(totalLength: 2 * 65_536, pieceLength: 65_536)!  // 2 pieces of 4 blocks
    var all: Bitfield { Bitfield(count: 2, all: true) }

    @Test func pipelinesPerPeerWithoutDuplicates() {
        var planner = BlockPlanner(geometry: geometry, pipelineDepth: 3)
        planner.begin(geometry.piece(0)!)
        let a = planner.fill(peer: 1, peerHas: all, now: 0)
        #expect(a.count == 3 && planner.outstandingCount(peer: 1) == 3)
        let b = planner.fill(peer: 2, peerHas: all, now: 0)
        #expect(b == [.request(peer: 2, block: geometry.blocks(of: geometry.piece(0)!)[3])], "only the block nobody asked for")
        #expect(planner.fill(peer: 1, peerHas: all, now: 0).isEmpty, "pipeline full")
    }

    @Test func completionCancelsEndgameDuplicates() {
        var planner = BlockPlanner(geometry: geometry, pipelineDepth: 8)
        let piece = geometry.piece(1)!
        planner.begin(piece)
        _ = planner.fill(peer: 1, peerHas: all, now: 0)
        let duplicates = planner.fill(peer: 2, peerHas: all, now: 0, endgame: true)
        #expect(duplicates.count == 4)
        var complete = false
        for block in geometry.blocks(of: piece) {
            let result = planner.received(block, from: 1)
            #expect(result.actions == [.cancel(peer: 2, block: block)])
            complete = result.pieceComplete
        }
        #expect(complete && planner.activePieces.isEmpty)
        #expect(planner.received(geometry.blocks(of: piece)[0], from: 2).actions.isEmpty, "late duplicate ignored")
    }

    @Test func timeoutsFreeBlocksAndReportSlowPeers() {
        var planner = BlockPlanner(geometry: geometry, pipelineDepth: 4, timeout: 20)
        planner.begin(geometry.piece(0)!)
        _ = planner.fill(peer: 7, peerHas: all, now: 0)
        #expect(planner.expire(now: 10).isEmpty)
        let expired = planner.expire(now: 25)
        #expect(expired.first == .slowPeer(peer: 7) && expired.count == 5)
        #expect(planner.fill(peer: 8, peerHas: all, now: 25).count == 4, "a faster peer takes the blocks over")
    }

    @Test func hashFailureRequestsEverythingAgain() {
        var planner = BlockPlanner(geometry: geometry, pipelineDepth: 8)
        let piece = geometry.piece(0)!
        planner.begin(piece)
        _ = planner.fill(peer: 1, peerHas: all, now: 0)
        for block in geometry.blocks(of: piece) { _ = planner.received(block, from: 1) }
        planner.failed(piece)
        planner.peerGone(1)
        #expect(planner.fill(peer: 2, peerHas: all, now: 1).count == 4)
    }
}
