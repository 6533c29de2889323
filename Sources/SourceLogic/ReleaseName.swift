import Foundation

/// What a release name (or a directory's fields) says about a source. Raw values are the
/// names the database's integer columns index (`AppDatabase.qualities` etc.).
public struct ReleaseInfo: Sendable, Equatable {
    public enum Quality: String, Sendable, CaseIterable, Comparable {
        case sd = "SD", hd = "HD", fhd = "FHD", qhd = "2K", uhd = "4K", uhd8 = "8K", threeD = "3D"
        var rank: Int { Self.allCases.firstIndex(of: self)! }
        public static func < (a: Quality, b: Quality) -> Bool { a.rank < b.rank }
    }

    public enum VideoCodec: String, Sendable {
        case vc1 = "VC1", mpeg2 = "MPEG2", mpeg4 = "MPEG4", xvid = "XVID", vp8 = "VP8", vp9 = "VP9", x264 = "X264", x265 = "X265"
        case av1 = "AV1", x264_10bit = "X264_10BIT", x265_10bit = "X265_10BIT", av1_10bit = "AV1_10BIT"

        /// Whether browsers and TVs decode it without transcoding (H.264 everywhere; HEVC
        /// only where the client says so).
        public var isHEVC: Bool { self == .x265 || self == .x265_10bit }
    }

    public enum ReleaseType: String, Sendable {
        case web = "WEB", bluray = "BLURAY", hdtv = "HDTV", dvd = "DVD", ts = "TS", cam = "CAM"
    }

    public var quality: Quality?
    public var videoCodec: VideoCodec?
    public var releaseType: ReleaseType?
    public var audio: [String] = []
    public var languages: [String] = []
    public var season: Int?
    public var episode: Int?
    public var year: Int?
    public var is3D = false

    public init() {}
}

/// Release-name parsing (reference §3.4): token tables matched on a normalized name (lower
/// case, `._[]()` as spaces), each match removed before the next extractor looks, so a
/// later table sees less noise. Pure; names longer than 512 bytes are cut.
public enum ReleaseNameParser {
    public static func parse(_ name: String) -> ReleaseInfo {
        var text = " " + normalize(String(name.utf8.prefix(512).map { Character(UnicodeScalar($0)) })) + " "
        var info = ReleaseInfo()

        // TV: S01E02 (and S01E02E03), 1x02, season packs S01 / Season 1.
        if let match = take(&text, #"s(\d{1,2}) ?e(\d{1,3})(?:e\d{1,3})*"#) {
            info.season = Int(match[1])
            info.episode = Int(match[2])
        } else if let match = take(&text, #"(\d{1,2})x(\d{2,3})"#) {
            info.season = Int(match[1])
            info.episode = Int(match[2])
        } else if let match = take(&text, #"(?:s|season )(\d{1,2})"#) {
            info.season = Int(match[1])
        }

        if take(&text, #"bd3d|3d|h-?sbs|h-?ou|half-?sbs|sbs"#) != nil { info.is3D = true }

        let audio: [(String, String)] = [
            (#"truehd"#, "TRUEHD"), (#"atmos"#, "ATMOS"), (#"dts[- ]?hd(?: ?ma(?:sters?)?)?|dts-?x"#, "DTS-HD"), (#"dts"#, "DTS"),
            (#"ddp|dd\+|e-?ac-?3"#, "EAC3"), (#"ac-?3|dd|dolby digital"#, "AC3"),
            (#"aac ?\d?(?: \d)?"#, "AAC"), (#"flac"#, "FLAC"), (#"mp3"#, "MP3"), (#"opus"#, "OPUS"), (#"l?pcm"#, "PCM"),
        ]
        // DDPA: Dolby Digital Plus with Atmos.
        if take(&text, #"ddpa(?: ?[1-9](?: [0-9])?)?"#) != nil { info.audio += ["EAC3", "ATMOS"] }
        // Channel layouts stick to the codec (`TrueHD7.1`, `AAC2.0`, `DTS-HD MA 5.1`).
        for (pattern, codec) in audio where take(&text, "(?:" + pattern + ")(?: ?[1-9](?: ?[0-9])?)?") != nil {
            info.audio.append(codec)
        }

        let types: [(String, ReleaseInfo.ReleaseType)] = [
            (#"web[- ]?dl|web[- ]?rip|web|amzn|nf|netflix|itunes|dsnp|hmax|atvp|hulu"#, .web),
            (#"blu[- ]?ray|bd-?rip|br-?rip|bd-?remux|bd25|bd50|bdr|bd"#, .bluray),
            (#"a?hdtv(?:mux)?|hd-?rip|pdtv|sdtv|tvrip"#, .hdtv), (#"dvd-?rip|dvd-?r|dvd-?scr|dvd\d?|r5"#, .dvd),
            (#"hd-?cam|cam-?rip|cam"#, .cam), (#"hd-?ts|ts-?rip|telesync|ts|hd-?tc|telecine|tc"#, .ts),
        ]
        for (pattern, type) in types where take(&text, pattern) != nil {
            info.releaseType = type
            break
        }

        let tenBit = take(&text, #"10[- ]?bits?|hi10p?"#) != nil
        let codecs: [(String, ReleaseInfo.VideoCodec, ReleaseInfo.VideoCodec)] = [
            (#"x265|h ?265|hevc"#, .x265, .x265_10bit), (#"x264|h ?264|avc"#, .x264, .x264_10bit),
            (#"av1"#, .av1, .av1_10bit), (#"xvid|divx"#, .xvid, .xvid), (#"vp9"#, .vp9, .vp9), (#"vp8"#, .vp8, .vp8),
            (#"mpeg-?2"#, .mpeg2, .mpeg2), (#"mpeg-?4"#, .mpeg4, .mpeg4), (#"vc-?1"#, .vc1, .vc1),
        ]
        for (pattern, plain, deep) in codecs where take(&text, pattern) != nil {
            info.videoCodec = tenBit ? deep : plain
            break
        }

        // Resolution after audio and type, so `dts-hd`, `hd-ts` or `hd-cam` never read as HD.
        // Explicit resolutions win over words (`UHD BluRay 1080p` is FHD).
        let qualities: [(String, ReleaseInfo.Quality)] = [
            (#"4320p"#, .uhd8), (#"2160p"#, .uhd), (#"1440p"#, .qhd), (#"1080[pi]"#, .fhd), (#"720p"#, .hd), (#"480[pi]|360p|576[pi]"#, .sd),
            (#"8k"#, .uhd8), (#"4k|uhd"#, .uhd), (#"2k"#, .qhd), (#"fhd|full hd"#, .fhd), (#"hd"#, .hd), (#"sd"#, .sd),
        ]
        for (pattern, quality) in qualities where take(&text, pattern) != nil {
            info.quality = quality
            break
        }

        let languages: [(String, String)] = [
            (#"multi(?:-?audio)?|dual(?:-?audio)?"#, "MULTI"), (#"english|eng"#, "ENGLISH"), (#"truefrench|french|vff|vfq"#, "FRENCH"),
            (#"spanish|castellano|latino|esp"#, "SPANISH"), (#"german|deutsch|ger"#, "GERMAN"), (#"italian|ita"#, "ITALIAN"),
            (#"portuguese|pt-?br"#, "PORTUGUESE"), (#"dutch"#, "DUTCH"), (#"swedish"#, "SWEDISH"), (#"czech"#, "CZECH"),
            (#"slovak"#, "SLOVAK"), (#"chinese|mandarin|cantonese"#, "CHINESE"), (#"japanese"#, "JAPANESE"), (#"korean"#, "KOREAN"),
            (#"russian|rus"#, "RUSSIAN"), (#"hindi"#, "HINDI"),
        ]
        for (pattern, language) in languages where take(&text, pattern) != nil {
            info.languages.append(language)
        }

        // The year: the last plausible one left (a title may itself contain a year).
        let years = matches(text, #"(19[2-9]\d|20[0-4]\d)"#)
        info.year = years.last.flatMap { Int($0[1]) }

        // 3D is a quality of its own in the database's list.
        if info.is3D { info.quality = .threeD }

        // A bare resolution number as a last resort (specificity 40 in the reference).
        if info.quality == nil {
            let bare: [(String, ReleaseInfo.Quality)] = [("2160", .uhd), ("1440", .qhd), ("1080", .fhd), ("720", .hd), ("480", .sd)]
            for (number, quality) in bare where take(&text, number) != nil {
                info.quality = quality
                break
            }
        }
        return info
    }

    /// Bitrate → quality (reference §3.4 table, Mbps thresholds), for sources whose name says
    /// nothing: `size` bytes over `runtimeMinutes`.
    public static func estimateQuality(size: Int64, runtimeMinutes: Int, codec: ReleaseInfo.VideoCodec?) -> ReleaseInfo.Quality? {
        guard size > 0, runtimeMinutes > 0 else { return nil }
        let mbps = Double(size) * 8 / Double(runtimeMinutes * 60) / 1_000_000
        let thresholds: [Double]
        switch codec {
        case .av1, .av1_10bit: thresholds = [14, 6, 3.5, 1.5, 1]
        case .x265, .x265_10bit: thresholds = [20, 10, 4.5, 2, 1.5]
        case .vp9: thresholds = [16, 8, 4, 1.8, 1.2]
        case .xvid: thresholds = [.infinity, 10, 5, 2.5, 1.25]
        default: thresholds = [40, 20, 8, 4.5, 2.5]
        }
        let qualities: [ReleaseInfo.Quality] = [.uhd8, .uhd, .qhd, .fhd, .hd]
        for (threshold, quality) in zip(thresholds, qualities) where mbps >= threshold { return quality }
        return .sd
    }

    static func normalize(_ name: String) -> String {
        String(name.lowercased().map { "._[]()/\\,{}".contains($0) ? " " : $0 })
    }

    /// Finds `pattern` as a whole token (not inside a word), removes it, returns the groups.
    static func take(_ text: inout String, _ pattern: String) -> [String]? {
        guard let regex = compiled(pattern) else { return nil }
        let range = NSRange(text.startIndex..., in: text)
        guard let match = regex.firstMatch(in: text, range: range) else { return nil }
        let groups = (0..<match.numberOfRanges).map { index -> String in
            guard let r = Range(match.range(at: index), in: text) else { return "" }
            return String(text[r])
        }
        if let whole = Range(match.range, in: text) { text.replaceSubrange(whole, with: " ") }
        return groups
    }

    static func matches(_ text: String, _ pattern: String) -> [[String]] {
        guard let regex = compiled(pattern) else { return [] }
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            (0..<match.numberOfRanges).map { index in Range(match.range(at: index), in: text).map { String(text[$0]) } ?? "" }
        }
    }

    private static let cache = RegexCache()

    static func compiled(_ pattern: String) -> NSRegularExpression? {
        cache.regex(#"(?<![a-z0-9])(?:"# + pattern + #")(?![a-z0-9])"#)
    }
}

/// Compiled patterns, shared (the tables are fixed, so this stays small).
final class RegexCache: @unchecked Sendable {
    private var entries: [String: NSRegularExpression] = [:]
    private let lock = NSLock()

    func regex(_ pattern: String) -> NSRegularExpression? {
        lock.lock()
        defer { lock.unlock() }
        if let found = entries[pattern] { return found }
        let made = try? NSRegularExpression(pattern: pattern)
        entries[pattern] = made
        return made
    }
}
