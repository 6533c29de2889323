import BitTorrentCore
import Crypto
import Foundation
import Testing
@testable import TorrentEngine

@Suite struct EncryptedPieceStoreTests {
    @Test func ctrIsPositionalAndReversible() {
        let key = [UInt8](repeating: 7, count: 32)
        let plain = (0..<1000).map { UInt8($0 % 251) }
        let whole = AESCTR.apply(plain, key: key, offset: 0)
        #expect(whole != plain && AESCTR.apply(whole, key: key, offset: 0) == plain)
        // Any unaligned slice encrypts to the same bytes as inside the whole: counters come
        // from the position alone.
        #expect(AESCTR.apply(Array(plain[37..<501]), key: key, offset: 37) == Array(whole[37..<501]))
        #expect(AESCTR.apply(plain, key: key, offset: 16) != whole, "another position, another keystream")
        // The format itself is checked against Python's `cryptography` in the e2e storage test.
    }

    @Test func torrentsGetDistinctKeysAndPiecesRoundTrip() throws {
        let torrent = SampleTorrent()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("miauflix-enc-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = FilePieceStore(metainfo: torrent.metainfo, root: root)
        let geometry = PieceGeometry(totalLength: torrent.metainfo.totalLength, pieceLength: torrent.metainfo.pieceLength)!
        let master = [UInt8](repeating: 1, count: 32)
        let key = EncryptedPieceStore.torrentKey(master: master, salt: Array("salt".utf8), infoHash: torrent.metainfo.infoHash)
        let other = EncryptedPieceStore.torrentKey(master: master, salt: Array("salt".utf8), infoHash: InfoHash(bytes: [UInt8](repeating: 9, count: 20))!)
        #expect(key.count == 32 && key != other)
        let store = EncryptedPieceStore(inner: files, geometry: geometry, hashes: torrent.metainfo.pieceHashes, key: key)
        let stream = torrent.stream
        for piece in geometry.allPieces {
            let start = Int(geometry.offset(of: piece))
            try store.write(piece: piece, begin: 0, bytes: Array(stream[start..<(start + geometry.length(of: piece))]))
            #expect(try store.verify(piece))
            #expect(try !files.verify(piece), "the files hold ciphertext")
        }
        let last = geometry.piece(geometry.pieceCount - 1)!
        #expect(try store.read(piece: last, begin: 5, length: 100) == Array(stream[(Int(geometry.offset(of: last)) + 5)..<(Int(geometry.offset(of: last)) + 105)]))
    }
}
