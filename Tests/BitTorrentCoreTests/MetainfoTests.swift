import Bencode
import Crypto
import Foundation
import Testing
@testable import BitTorrentCore

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
let sha1: @Sendable ([UInt8]) -> [UInt8] = { Digest.sha1($0) }

@Suite struct GoldenTorrentTests {
    /// Torrents made by mktorrent, transmission-create and libtorrent (scripts/make-torrent-fixtures.sh);
    /// the `.expected` files hold libtorrent's own reading: info-hash, pieces, size, files.
    @Test(arguments: ["mktorrent-single", "mktorrent-multi-private", "transmission-multi", "libtorrent-single-32k"])
    func parsesLikeLibtorrent(_ name: String) throws {
        let bytes = Array(try Data(contentsOf: fixtures.appendingPathComponent("\(name).torrent")))
        let expected = try String(contentsOf: fixtures.appendingPathComponent("\(name).expected"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let metainfo = try Metainfo.parse(bytes, sha1: sha1)
        #expect(metainfo.infoHash.hex == expected[0])
        #expect(metainfo.pieceHashes.count == Int(expected[1]))
        #expect(metainfo.totalLength == Int64(expected[2]))
        #expect(metainfo.files.count == Int(expected[3]))
        #expect(metainfo.files.last.map { $0.offset + $0.length } == metainfo.totalLength)
        #expect(try Metainfo.parseInfo(metainfo.infoBytes, sha1: sha1).infoHash == metainfo.infoHash)
        let node = try BencodeDecoder().decode(bytes)
        #expect(node.value.encoded == bytes, "real clients write canonical bencode")
    }

    @Test func multiFileDetails() throws {
        let bytes = Array(try Data(contentsOf: fixtures.appendingPathComponent("mktorrent-multi-private.torrent")))
        let metainfo = try Metainfo.parse(bytes, sha1: sha1)
        #expect(metainfo.isPrivate)
        #expect(metainfo.name == "Show S01")
        #expect(metainfo.files.map { $0.path.joined(separator: "/") }.sorted() ==
                ["Show S01/E01.mkv", "Show S01/E02.mkv", "Show S01/subs/E01.srt"])
        #expect(metainfo.trackerTiers == [["http://127.0.0.1:6969/announce", "http://127.0.0.2:6969/announce"]])
        #expect(metainfo.webSeeds == ["http://127.0.0.1:8000/seed/"])
        let single = try Metainfo.parse(Array(try Data(contentsOf: fixtures.appendingPathComponent("mktorrent-single.torrent"))), sha1: sha1)
        #expect(single.trackerTiers == [["http://127.0.0.1:6969/announce"], ["udp://127.0.0.1:6969"]])
        #expect(single.comment == "golden single" && !single.isPrivate)
    }
}

@Suite struct HostileMetainfoTests {
    func torrent(info: [String: BValue]) -> [UInt8] {
        BValue.dict(["announce": .string("http://t/a"), "info": .dict(info)]).encoded
    }

    let base: [String: BValue] = ["name": .string("x"), "piece length": .integer(16384),
                                  "pieces": .bytes([UInt8](repeating: 1, count: 20)), "length": .integer(100)]

    @Test func pathsThatWouldEscapeAreRefused() {
        for path in [["..", "etc", "passwd"], ["a", "..", "b"], ["."], [""], ["a/b"], ["a\\b"], ["a\u{0}b"]] {
            var info = base
            info["length"] = nil
            info["files"] = .list([.dict(["length": .integer(100), "path": .list(path.map { .string($0) })])])
            #expect(throws: Metainfo.Problem.self, "\(path)") { try Metainfo.parse(torrent(info: info), sha1: sha1) }
        }
        var traversalName = base
        traversalName["name"] = .string("..")
        #expect(throws: Metainfo.Problem.unsafePath(.traversal)) { try Metainfo.parse(torrent(info: traversalName), sha1: sha1) }
    }

    @Test func inconsistentGeometryIsRefused() {
        var tooFewPieces = base
        tooFewPieces["length"] = .integer(16384 * 3)
        #expect(throws: Metainfo.Problem.self) { try Metainfo.parse(torrent(info: tooFewPieces), sha1: sha1) }
        var badPieces = base
        badPieces["pieces"] = .bytes([1, 2, 3])
        #expect(throws: Metainfo.Problem.self) { try Metainfo.parse(torrent(info: badPieces), sha1: sha1) }
        var hugePiece = base
        hugePiece["piece length"] = .integer(1 << 40)
        #expect(throws: Metainfo.Problem.self) { try Metainfo.parse(torrent(info: hugePiece), sha1: sha1) }
        var negative = base
        negative["length"] = .integer(-1)
        #expect(throws: Metainfo.Problem.self) { try Metainfo.parse(torrent(info: negative), sha1: sha1) }
        #expect(throws: Metainfo.Problem.missing("info")) { try Metainfo.parse(BValue.dict(["announce": .string("x")]).encoded, sha1: sha1) }
    }

    @Test func infoHashIsOfTheRawBytes() throws {
        let bytes = torrent(info: base)
        let metainfo = try Metainfo.parse(bytes, sha1: sha1)
        let infoStart = bytes.firstRange(of: Array("4:infod".utf8))!.lowerBound + 6
        #expect(metainfo.infoHash.bytes == Digest.sha1(Array(bytes[infoStart..<(bytes.count - 1)])))
    }
}

@Suite struct FilePathSanitizerTests {
    @Test func rewritesUnusableButHarmlessNames() throws {
        #expect(try FilePathSanitizer.sanitize([Array("CON.txt".utf8)]) == ["_CON.txt"])
        #expect(try FilePathSanitizer.sanitize([Array("name. ".utf8)]) == ["name"])
        #expect(try FilePathSanitizer.sanitize([Array("a\u{1}b".utf8)]) == ["a_b"])
        let long = String(repeating: "x", count: 300) + ".mkv"
        let short = try FilePathSanitizer.sanitize([Array(long.utf8)])[0]
        #expect(short.utf8.count == FilePathSanitizer.maximumComponentBytes && short.hasSuffix(".mkv"))
        #expect(throws: FilePathSanitizer.Problem.encoding) { try FilePathSanitizer.sanitize([[0xff, 0xfe]]) }
    }
}

@Suite struct MagnetTests {
    @Test func hexAndBase32() throws {
        let hex = try Magnet.parse("magnet:?xt=urn:btih:2A46E81493F3181E7826D0F6022DFC4E3729455D&dn=Movie%20Name&tr=udp%3A%2F%2Ft%3A1&tr=udp%3A%2F%2Ft%3A1&x.pe=127.0.0.1:6881")
        #expect(hex.infoHash.hex == "2a46e81493f3181e7826d0f6022dfc4e3729455d")
        #expect(hex.displayName == "Movie Name" && hex.trackers == ["udp://t:1"] && hex.peers == ["127.0.0.1:6881"])
        let base32 = try Magnet.parse("magnet:?xt=urn:btih:FJDOQFET6MMB46BG2D3AELP4JY3SSRK5")
        #expect(base32.infoHash == hex.infoHash)
        #expect(try Magnet.parse(hex.uri) == hex, "round trip")
    }

    @Test func malformedLinks() {
        #expect(throws: Magnet.Problem.notAMagnet) { try Magnet.parse("http://x") }
        #expect(throws: Magnet.Problem.missingInfoHash) { try Magnet.parse("magnet:?dn=x") }
        #expect(throws: Magnet.Problem.invalidInfoHash) { try Magnet.parse("magnet:?xt=urn:btih:zz") }
        #expect(throws: Magnet.Problem.invalidInfoHash) { try Magnet.parse("magnet:?xt=urn:btih:" + String(repeating: "g", count: 40)) }
        #expect(throws: Magnet.Problem.tooLong) { try Magnet.parse("magnet:?" + String(repeating: "a", count: 20_000)) }
    }
}
