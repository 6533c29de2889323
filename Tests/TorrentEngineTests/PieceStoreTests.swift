import Bencode
import BitTorrentCore
import Crypto
import Foundation
import Testing
@testable import TorrentEngine

/// A multi-file torrent built in the test: three files whose boundaries fall inside pieces.
struct SampleTorrent {
    let content: [[UInt8]]
    let metainfo: Metainfo

    init(sizes: [Int] = [40_000, 1, 70_003], pieceLength: Int = 32_768) {
        var generator = SystemRandomNumberGenerator()
        content = sizes.map { size in (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        let stream = content.flatMap { $0 }
        let pieces = stride(from: 0, to: stream.count, by: pieceLength).flatMap { Digest.sha1(Array(stream[$0..<min($0 + pieceLength, stream.count)])) }
        let files: [BValue] = content.enumerated().map { index, bytes in
            .dict(["length": .integer(Int64(bytes.count)), "path": .list([.string("dir \(index)"), .string("file\(index).bin")])])
        }
        let info = BValue.dict(["name": .string("Sample"), "piece length": .integer(Int64(pieceLength)), "pieces": .bytes(pieces), "files": .list(files)])
        metainfo = try! Metainfo.parse(BValue.dict(["info": info]).encoded, sha1: { Digest.sha1($0) })
    }

    var stream: [UInt8] { content.flatMap { $0 } }
}

@Suite struct FileLayoutTests {
    @Test func spansCrossFileBoundaries() {
        let torrent = SampleTorrent()
        let layout = FileLayout(files: torrent.metainfo.files)
        let spans = layout.spans(offset: 39_990, length: 20)
        #expect(spans == [.init(file: 0, offset: 39_990, length: 10), .init(file: 1, offset: 0, length: 1), .init(file: 2, offset: 0, length: 9)])
        #expect(layout.spans(offset: 110_000, length: 100).map(\.length) == [4], "clamped at the end")
        #expect(layout.largestFile == 2)
    }
}

@Suite struct FilePieceStoreTests {
    func root() -> String { FileManager.default.temporaryDirectory.appendingPathComponent("miauflix-store-\(UUID())").path }

    @Test func blocksInAnyOrderBecomeTheOriginalFiles() throws {
        let torrent = SampleTorrent()
        let directory = root()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = FilePieceStore(metainfo: torrent.metainfo, root: directory)
        let geometry = PieceGeometry(totalLength: torrent.metainfo.totalLength, pieceLength: torrent.metainfo.pieceLength)!
        let stream = torrent.stream
        let blocks = geometry.allPieces.flatMap { geometry.blocks(of: $0) }.shuffled()
        for block in blocks {
            let start = Int(geometry.offset(of: block.piece)) + block.begin
            try store.write(block, bytes: Array(stream[start..<(start + block.length)]))
        }
        for piece in geometry.allPieces { #expect(try store.verify(piece)) }
        for (index, bytes) in torrent.content.enumerated() {
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: store.path(of: index)))) == bytes)
            #expect(store.path(of: index).hasPrefix(directory + "/" + torrent.metainfo.infoHash.hex + "/Sample/dir \(index)/"))
        }
        let middle = try store.read(piece: geometry.piece(1)!, begin: 100, length: 50)
        #expect(middle == Array(stream[(32_768 + 100)..<(32_768 + 150)]))
        #expect(throws: StorageError.outOfRange) { try store.read(piece: geometry.piece(3)!, begin: 0, length: 40_000) }
    }

    @Test func corruptDataFailsVerification() throws {
        let torrent = SampleTorrent()
        let directory = root()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = FilePieceStore(metainfo: torrent.metainfo, root: directory)
        let geometry = PieceGeometry(totalLength: torrent.metainfo.totalLength, pieceLength: torrent.metainfo.pieceLength)!
        let piece = geometry.piece(0)!
        for block in geometry.blocks(of: piece) {
            var bytes = Array(torrent.stream[block.begin..<(block.begin + block.length)])
            if block.begin == 0 { bytes[5] ^= 0xff }
            try store.write(block, bytes: bytes)
        }
        #expect(try store.verify(piece) == false)
        #expect(try store.verify(geometry.piece(2)!) == false, "never written: zeros")
        #expect(throws: StorageError.outOfRange) { try store.write(geometry.blocks(of: piece)[0], bytes: [1, 2]) }
    }

    @Test func memoryStoreBehavesTheSame() throws {
        let torrent = SampleTorrent(sizes: [50_000], pieceLength: 16_384)
        let geometry = PieceGeometry(totalLength: torrent.metainfo.totalLength, pieceLength: torrent.metainfo.pieceLength)!
        let store = MemoryPieceStore(geometry: geometry, hashes: torrent.metainfo.pieceHashes)
        for block in geometry.allPieces.flatMap({ geometry.blocks(of: $0) }) {
            let start = Int(geometry.offset(of: block.piece)) + block.begin
            try store.write(block, bytes: Array(torrent.stream[start..<(start + block.length)]))
        }
        #expect(try geometry.allPieces.allSatisfy { try store.verify($0) })
    }
}
