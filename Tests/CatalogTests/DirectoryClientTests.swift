import Foundation
import HTTPClient
import Logging
import SourceLogic
import Testing
@testable import Catalog

/// A scripted upstream: each URL prefix answers with a canned response or error.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    var answers: [(prefix: String, result: Result<HTTPResponse, HTTPClientError>)] = []
    private(set) var asked: [String] = []
    private let lock = NSLock()

    func send(method: String, url: String, body: [UInt8]?, options: HTTPRequestOptions) throws(HTTPClientError) -> HTTPResponse {
        lock.lock()
        asked.append(url)
        let answer = answers.first { url.hasPrefix($0.prefix) }?.result
        lock.unlock()
        guard let answer else { throw .connection }
        return try answer.get()
    }

    static func json(_ text: String) -> Result<HTTPResponse, HTTPClientError> {
        .success(HTTPResponse(status: 200, headers: [("content-type", "application/json")], body: Array(text.utf8)))
    }
}

@Suite struct DirectoryClientTests {
    static let ytsAnswer = """
    {"status":"ok","data":{"movie_count":1,"movies":[{"imdb_code":"tt0111161","title_long":"Film (1994)","runtime":142,
     "yt_trailer_code":"abc","torrents":[
      {"url":"https://m/torrent/download/AAAA","hash":"AABA24B7446D5540DFFCEF94005EFC6704A6E490","quality":"1080p","type":"bluray",
       "video_codec":"x264","bit_depth":"8","seeds":100,"peers":5,"size_bytes":1717000000,"date_uploaded_unix":1700000000},
      {"hash":"C25F8423660575070B8524EBB3547F9255188627","quality":"2160p","type":"web","video_codec":"x265","bit_depth":"10",
       "seeds":3,"peers":1,"size_bytes":7400000000},
      {"hash":"not-a-hash","quality":"720p"}]}]}}
    """

    func client(_ transport: ScriptedTransport, status: String? = nil, clock: @escaping @Sendable () -> Double = { 0 }) -> YTSClient {
        var policy = HTTPClientPolicy()
        policy.maxAttempts = 1
        return YTSClient(primary: "https://a", mirrors: ["https://b", "https://c"], statusPage: status,
                         http: HTTPClient(policy: policy, transport: transport, logger: Logger(label: "test")), logger: Logger(label: "test"),
                         gate: RateGate(backgroundPerMinute: 6000, onDemandPerSecond: 1000), clock: clock)
    }

    @Test func failsOverAndMapsTorrents() throws {
        let transport = ScriptedTransport()
        transport.answers = [("https://a", .failure(.timeout)),
                             ("https://b", .success(HTTPResponse(status: 200, headers: [("content-type", "text/html")], body: Array("<html>".utf8)))),
                             ("https://c", ScriptedTransport.json(Self.ytsAnswer))]
        let yts = client(transport)
        let result = try yts.movie(imdbId: "tt0111161", onDemand: true)
        #expect(transport.asked.map { String($0.prefix(9)) } == ["https://a", "https://b", "https://c"])
        #expect(result.trailer == "abc" && result.sources.count == 2, "the malformed hash is skipped")
        let best = result.sources[0]
        #expect(best.infoHash == "aaba24b7446d5540dffcef94005efc6704a6e490" && best.info.quality == .fhd && best.info.videoCodec == .x264)
        #expect(best.info.releaseType == .bluray && best.seeders == 100 && best.torrentURL == "https://m/torrent/download/AAAA")
        #expect(result.sources[1].info.videoCodec == .x265_10bit && result.sources[1].info.quality == .uhd)
        // The failed mirrors' circuits are open: the next search starts at the one that answered.
        _ = try yts.movie(imdbId: "tt0111161", onDemand: true)
        #expect(transport.asked.last?.hasPrefix("https://c") == true && transport.asked.count == 4)
        #expect(yts.mirrorOrder == ["https://c"])
        #expect(throws: Never.self) { try yts.movie(imdbId: "not-an-id", onDemand: true) }
    }

    @Test func everyMirrorDownIsAClearError() {
        let transport = ScriptedTransport()
        transport.answers = [("https://", .success(HTTPResponse(status: 200, headers: [], body: Array("{\"status\":".utf8))))]
        #expect(throws: DirectoryError.self) { try client(transport).movie(imdbId: "tt0111161", onDemand: false) }
    }

    @Test func discoversOfficialMirrorsFromTheStatusPage() throws {
        let page = """
        <nav><a href="https://nav.example">home</a></nav>
        <section class="serviceGroup"><h2>Official YTS Domains</h2>
          <a href="https://yts.new/">yts.new</a> <a href="https://YTS.NEW/">again</a> <a href="http://host:8080/yts-f/">f</a></section>
        <section><h2>Fake / scam sites</h2><a href="https://scam.example">x</a></section>
        """
        #expect(YTSClient.officialMirrors(html: page) == ["https://yts.new", "http://host:8080/yts-f"], "de-duplicated, scam and nav links left out")
        let transport = ScriptedTransport()
        transport.answers = [("https://status", .success(HTTPResponse(status: 200, headers: [], body: Array(page.utf8)))),
                             ("http://host:8080/yts-f", ScriptedTransport.json(Self.ytsAnswer))]
        let yts = client(transport, status: "https://status")
        let result = try yts.movie(imdbId: "tt0111161", onDemand: false)
        #expect(result.sources.count == 2, "only the discovered mirror answers")
        #expect(transport.asked.contains { $0.hasPrefix("http://host:8080/yts-f/api/v2/list_movies.json") })
    }
}

@Suite struct TorrentFileFetcherTests {
    @Test func torrageTokensDecode() {
        // torrage hides the download token: letters shifted by 12, then reversed.
        #expect(TorrentFileFetcher.decodeTorrageToken("fedc90_LKJ-onM") == "Abc-XYZ_09qrst")
    }

    @Test func triesTheDirectoryThenTheCachesUntilTheHashMatches() {
        let transport = ScriptedTransport()
        let good = HTTPResponse(status: 200, headers: [], body: Array("d4:infod6:lengthi1eee".utf8))
        let wrong = HTTPResponse(status: 200, headers: [], body: Array("d3:bad0:e".utf8))
        transport.answers = [("https://dir", .success(wrong)), ("https://one", .success(HTTPResponse(status: 404, headers: [], body: []))),
                             ("https://tor/torrent.php", .success(HTTPResponse(status: 200, headers: [], body: Array("x getTTL(\"fedc90_LKJ-onM\") y".utf8)))),
                             ("https://tor/download.php?h=ab&ttl=Abc", .success(good))]
        var policy = HTTPClientPolicy()
        policy.maxAttempts = 1
        let fetcher = TorrentFileFetcher(http: HTTPClient(policy: policy, transport: transport, logger: Logger(label: "t")),
                                         caches: ["https://one/{HASH}.torrent", "torrage+https://tor"])
        let result = fetcher.fetch(infoHash: "AB", directURL: "https://dir/x") { $0 == good.body }
        #expect(result.found?.origin == "tor" && result.found?.bytes == good.body)
        #expect(result.rejected == ["directory"])
        #expect(transport.asked.contains { $0.hasPrefix("https://one/AB.torrent") })
    }
}
