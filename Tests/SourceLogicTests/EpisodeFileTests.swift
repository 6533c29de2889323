import Testing
@testable import SourceLogic

@Suite struct EpisodeFileTests {
    let pack: [(path: [String], length: Int64)] = [
        (["Show.S02.1080p.WEB.h264-GRP", "Show.S02E12.1080p.WEB.h264-GRP.mkv"], 900),
        (["Show.S02.1080p.WEB.h264-GRP", "Show.S02E13.1080p.WEB.h264-GRP.mkv"], 950),
        (["Show.S02.1080p.WEB.h264-GRP", "Sample", "show.s02e13.sample.mkv"], 20),
        (["Show.S02.1080p.WEB.h264-GRP", "Show.S02E13.1080p.WEB.h264-GRP.srt"], 1),
        (["Show.S02.1080p.WEB.h264-GRP", "GRP.nfo"], 1),
    ]

    @Test func aSeasonPackGivesTheEpisodesVideoNotItsSampleOrSubtitles() {
        #expect(EpisodeFile.pick(files: pack, season: 2, episode: 13) == 1)
        #expect(EpisodeFile.pick(files: pack, season: 2, episode: 12) == 0)
        #expect(EpisodeFile.pick(files: pack, season: 2, episode: 14) == nil, "not in this pack")
    }

    @Test func otherNamingStylesAndSingleEpisodes() {
        let crossed: [(path: [String], length: Int64)] = [(["show", "show.2x05.hdtv.avi"], 5), (["show", "show.2x06.hdtv.avi"], 6)]
        #expect(EpisodeFile.pick(files: crossed, season: 2, episode: 6) == 1)
        let single: [(path: [String], length: Int64)] = [(["Show.S02E12.720p.mkv"], 700), (["Sample.mkv"], 10)]
        #expect(EpisodeFile.pick(files: single, season: 2, episode: 12) == 0)
        let unnamed: [(path: [String], length: Int64)] = [(["episode.mp4"], 700), (["cover.jpg"], 10)]
        #expect(EpisodeFile.pick(files: unnamed, season: 1, episode: 1) == 0, "one video without a number: that one")
        let wrong: [(path: [String], length: Int64)] = [(["Show.S02E11.mkv"], 700)]
        #expect(EpisodeFile.pick(files: wrong, season: 2, episode: 12) == nil)
    }
}
