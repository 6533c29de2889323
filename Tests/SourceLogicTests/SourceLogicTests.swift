import Foundation
import Testing
@testable import SourceLogic

@Suite struct ReleaseNameParserTests {
    @Test func commonShapes() {
        let movie = ReleaseNameParser.parse("Beyond.the.sudden.hole.2018.1080p.BluRay.x264.Atmos.TrueHD7.1-WiKi")
        #expect(movie.quality == .fhd && movie.videoCodec == .x264 && movie.releaseType == .bluray && movie.year == 2018)
        #expect(movie.audio.contains("ATMOS") && movie.audio.contains("TRUEHD"))
        let web = ReleaseNameParser.parse("Some Show S02E05 2160p NF WEB-DL DDP5.1 HDR HEVC 10bit-GROUP")
        #expect(web.season == 2 && web.episode == 5 && web.quality == .uhd && web.videoCodec == .x265_10bit && web.releaseType == .web)
        #expect(web.audio == ["EAC3"])
        let pack = ReleaseNameParser.parse("Another.Show.S03.COMPLETE.720p.HDTV.x264-ABC")
        #expect(pack.season == 3 && pack.episode == nil && pack.quality == .hd && pack.releaseType == .hdtv)
        let cam = ReleaseNameParser.parse("New Film (2024) HDCAM x264 AAC - French")
        #expect(cam.releaseType == .cam && cam.quality == nil && cam.languages == ["FRENCH"] && cam.year == 2024)
        let dtsHD = ReleaseNameParser.parse("Film 1999 BluRay DTS-HD MA 5.1 AVC REMUX")
        #expect(dtsHD.quality == nil, "dts-hd is audio, not HD")
        #expect(dtsHD.audio.contains("DTS-HD") && dtsHD.videoCodec == .x264 && dtsHD.year == 1999)
        let old = ReleaseNameParser.parse("2001.A.Space.Odyssey.1968.720p.BRRip.XviD")
        #expect(old.year == 1968 && old.videoCodec == .xvid && old.releaseType == .bluray)
        #expect(ReleaseNameParser.parse(String(repeating: "x", count: 100_000)).quality == nil, "bounded")
    }

    @Test func bitrateEstimate() {
        // 2 GB over 100 minutes of H.264 is ~2.7 Mbps: HD; the same in HEVC is FHD.
        #expect(ReleaseNameParser.estimateQuality(size: 2_000_000_000, runtimeMinutes: 100, codec: .x264) == .hd)
        #expect(ReleaseNameParser.estimateQuality(size: 2_000_000_000, runtimeMinutes: 100, codec: .x265) == .fhd)
        #expect(ReleaseNameParser.estimateQuality(size: 0, runtimeMinutes: 100, codec: .x264) == nil)
    }

    /// Real release names from the recorded directories (Tests/Fixtures/release-names.tsv):
    /// every field the table states must come out of the parser.
    @Test func realReleaseNames() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/release-names.tsv")
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        let header = lines.removeFirst()
        func column(_ name: String) -> Int { header.firstIndex(of: name)! }
        #expect(lines.count >= 200)
        var failures: [String] = []
        for row in lines where row.count >= header.count - 1 {
            let name = row[column("name")]
            let info = ReleaseNameParser.parse(name)
            func check(_ field: String, _ actual: String) {
                let expected = row[column(field)]
                if !expected.isEmpty && expected != actual { failures.append("\(name): \(field) \(actual) ≠ \(expected)") }
            }
            check("quality", info.quality?.rawValue ?? "")
            check("video_codec", info.videoCodec?.rawValue ?? "")
            check("release_type", info.releaseType?.rawValue ?? "")
            check("season", info.season.map(String.init) ?? "")
            check("episode", info.episode.map(String.init) ?? "")
            check("year", info.year.map(String.init) ?? "")
            let audio = row[column("audio")]
            if !audio.isEmpty {
                for codec in audio.split(separator: ",") where !info.audio.contains(String(codec)) { failures.append("\(name): audio lacks \(codec)") }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) mismatches:\n\(failures.prefix(40).joined(separator: "\n"))")
    }
}

@Suite struct SourceDecisionTests {
    @Test func playableSourcesScoreFirst() {
        func score(_ codec: ReleaseInfo.VideoCodec?, _ quality: ReleaseInfo.Quality?, _ type: ReleaseInfo.ReleaseType?, size: Int64, seeders: Int?, hevc: Bool = false) -> Int {
            StreamingScore.score(.init(quality: quality, codec: codec, releaseType: type, size: size, seeders: seeders, leechers: 5), hevcPlayable: hevc)
        }
        let h264 = score(.x264, .fhd, .bluray, size: 2_000_000_000, seeders: 100)
        let hevc = score(.x265, .fhd, .bluray, size: 1_500_000_000, seeders: 100)
        #expect(h264 > hevc, "a browser plays H.264; HEVC only where the client says so")
        #expect(score(.x265, .fhd, .bluray, size: 1_500_000_000, seeders: 100, hevc: true) > score(.x264, .fhd, .bluray, size: 2_000_000_000, seeders: 3))
        #expect(score(.x264, .fhd, .cam, size: 2_000_000_000, seeders: 100) < score(.x264, .hd, .web, size: 1_000_000_000, seeders: 100))
        #expect(score(.x264, .fhd, .web, size: 2_000_000_000, seeders: 0) < score(.x264, .fhd, .web, size: 2_000_000_000, seeders: 60))
        #expect(score(.x264, .fhd, .web, size: 200_000_000, seeders: 60) < score(.x264, .fhd, .web, size: 2_000_000_000, seeders: 60), "too small for FHD")
    }

    @Test func mirrorsFailOverAndAreRetriedLater() {
        var set = MirrorSet(bases: ["https://a", "https://b", "https://c", "https://a"], baseCooldown: 10, maximumCooldown: 100)
        #expect(set.order(now: 0) == ["https://a", "https://b", "https://c"])
        set.failed("https://a", now: 0)
        #expect(set.order(now: 5) == ["https://b", "https://c"])
        #expect(set.order(now: 11) == ["https://b", "https://c", "https://a"], "half-open probe after the cool-down")
        set.failed("https://a", now: 11)
        #expect(set.order(now: 25) == ["https://b", "https://c"], "cool-down doubled")
        set.succeeded("https://a")
        #expect(set.order(now: 25).first == "https://a", "closed again: back in first place")
        for base in ["https://a", "https://b", "https://c"] { set.failed(base, now: 30) }
        #expect(set.order(now: 31).count == 1, "all open: the soonest is still tried")
        set.discovered(["https://d", "https://b"])
        #expect(set.mirrors.map(\.base) == ["https://a", "https://b", "https://c", "https://d"])
    }

    @Test func statsIntervalsAdapt() {
        let six = StatsSchedule.minimum
        #expect(StatsSchedule.next(previousInterval: nil, old: nil, new: (10, 2), jitter: 0.5) == six)
        #expect(StatsSchedule.next(previousInterval: six, old: (100, 10), new: (101, 10), jitter: 0.5) == 2 * six, "stable: doubles")
        #expect(StatsSchedule.next(previousInterval: 48 * 3600, old: (100, 10), new: (100, 10), jitter: 1) == StatsSchedule.maximum, "capped")
        #expect(StatsSchedule.next(previousInterval: 48 * 3600, old: (0, 0), new: (5, 0), jitter: 0.5) == six, "0 → some resets")
        #expect(StatsSchedule.next(previousInterval: 24 * 3600, old: (100, 10), new: (70, 10), jitter: 0.5) == 12 * 3600)
    }
}
