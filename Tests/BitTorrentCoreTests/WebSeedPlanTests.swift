import Bencode
import Crypto
import Testing
@testable import BitTorrentCore

/// BEP 19 URLs and ranges: single-file torrents name the file (or a folder holding it), multi-
/// file torrents a folder holding `<name>/<path>`; a piece across files takes one range each.
@Suite struct WebSeedPlanTests {
    func metainfo(_ info: BValue) throws -> Metainfo {
        try Metainfo.parse(BValue.dict(["info": info]).encoded, sha1: { Digest.sha1($0) })
    }

    @Test func singleFileURLsNameTheFile() throws {
        let info = BValue.dict(["name": .string("Big Movie (2024).mp4"), "piece length": .integer(16_384), "length": .integer(40_000),
                                "pieces": .bytes([UInt8](repeating: 1, count: 60))])
        let m = try metainfo(info)
        #expect(m.isSingleFile)
        let geometry = PieceGeometry(totalLength: m.totalLength, pieceLength: m.pieceLength)!
        let last = WebSeedPlan.requests(piece: geometry.piece(2)!, geometry: geometry, metainfo: m, base: "http://seed.example/m.mp4")
        #expect(last == [.init(url: "http://seed.example/m.mp4", offset: 32_768, length: 40_000 - 32_768)])
        let folder = WebSeedPlan.requests(piece: geometry.piece(0)!, geometry: geometry, metainfo: m, base: "http://seed.example/files/")
        #expect(folder.map(\.url) == ["http://seed.example/files/Big%20Movie%20%282024%29.mp4"])
    }

    @Test func multiFilePiecesSpanFilesWithOneRangeEach() throws {
        let files: [BValue] = [
            .dict(["length": .integer(10_000), "path": .list([.string("Show"), .string("e01.mkv")])]),
            .dict(["length": .integer(30_000), "path": .list([.string("e02 ?#.mkv")])]),
        ]
        let info = BValue.dict(["name": .string("Pack"), "piece length": .integer(16_384), "files": .list(files),
                                "pieces": .bytes([UInt8](repeating: 1, count: 60))])
        let m = try metainfo(info)
        #expect(!m.isSingleFile)
        let geometry = PieceGeometry(totalLength: m.totalLength, pieceLength: m.pieceLength)!
        let first = WebSeedPlan.requests(piece: geometry.piece(0)!, geometry: geometry, metainfo: m, base: "https://cdn.example/x")
        #expect(first == [.init(url: "https://cdn.example/x/Pack/Show/e01.mkv", offset: 0, length: 10_000),
                          .init(url: "https://cdn.example/x/Pack/e02%20%3F%23.mkv", offset: 0, length: 6_384)])
        #expect(WebSeedPlan.isUsable("https://cdn.example/x") && !WebSeedPlan.isUsable("ftp://a/b") && !WebSeedPlan.isUsable("http://a/b c"))
    }
}
