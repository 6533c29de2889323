/// How good a source is to stream (0…10 000, higher first): what a browser or TV can play
/// directly comes first, then enough seeders for its size, a size that fits its quality,
/// the release type, and the quality itself. Pure.
public enum StreamingScore {
    public struct Candidate: Sendable {
        public var quality: ReleaseInfo.Quality?
        public var codec: ReleaseInfo.VideoCodec?
        public var releaseType: ReleaseInfo.ReleaseType?
        public var size: Int64
        public var seeders: Int?
        public var leechers: Int?
        public var is3D: Bool

        public init(quality: ReleaseInfo.Quality?, codec: ReleaseInfo.VideoCodec?, releaseType: ReleaseInfo.ReleaseType?,
                    size: Int64, seeders: Int?, leechers: Int?, is3D: Bool = false) {
            self.quality = quality
            self.codec = codec
            self.releaseType = releaseType
            self.size = size
            self.seeders = seeders
            self.leechers = leechers
            self.is3D = is3D
        }
    }

    /// Expected size per quality (reference §3.9), for the size sanity part.
    static func expectedBytes(_ quality: ReleaseInfo.Quality?) -> Double {
        switch quality {
        case .uhd8: return 16e9
        case .uhd: return 8e9
        case .qhd: return 4e9
        case .fhd, .threeD: return 2e9
        case .hd: return 1e9
        case .sd: return 0.7e9
        case nil: return 1.5e9
        }
    }

    /// The score; `hevcPlayable` when the client decodes HEVC (TVs, Safari), else HEVC sources
    /// sink below every H.264 one.
    public static func score(_ c: Candidate, hevcPlayable: Bool = false) -> Int {
        // Playability (≤ 4000): H.264 plays everywhere; HEVC only on some clients; others
        // need transcoding we do not do.
        var playability: Double
        switch c.codec {
        case .x264?: playability = 4000
        case .x265?, .x265_10bit?: playability = hevcPlayable ? 3600 : 800
        case .av1?: playability = 2400
        case nil: playability = 2600
        case .vp9?: playability = 2000
        default: playability = 600
        }
        if c.is3D { playability *= 0.3 }

        // Availability (≤ 3000): seeders per GB, the reference's ≥ 20/GB "playable" line at
        // two thirds; a swarm with more leechers than seeders is penalised.
        let seeders = Double(max(0, c.seeders ?? 0))
        let gigabytes = max(0.1, Double(c.size) / 1e9)
        var availability = min(3000, 2000 * (seeders / gigabytes) / 20)
        if let leechers = c.leechers, leechers > 0, seeders / Double(leechers) < 1 { availability *= 0.7 }
        if c.seeders == nil { availability = 600 }

        // Size sanity (≤ 1000): near the expected size for the quality.
        let ratio = Double(c.size) / expectedBytes(c.quality)
        let sanity: Double
        switch ratio {
        case ..<0.3: sanity = 0
        case ..<0.5: sanity = 400
        case ..<0.7: sanity = 800
        case ..<2: sanity = 1000
        case ..<3: sanity = 700
        default: sanity = 300
        }

        // Release type (≤ 1000): camera copies are nearly unwatchable.
        let type: Double
        switch c.releaseType {
        case .bluray?: type = 1000
        case .web?: type = 950
        case .hdtv?: type = 700
        case .dvd?: type = 600
        case nil: type = 500
        case .ts?: type = 100
        case .cam?: type = 0
        }

        // Quality (≤ 1000): FHD is the sweet spot for streaming; 4K costs bandwidth.
        let quality: Double
        switch c.quality {
        case .fhd?: quality = 1000
        case .uhd?: quality = 850
        case .hd?: quality = 800
        case .qhd?: quality = 900
        case .uhd8?: quality = 500
        case .sd?: quality = 400
        case .threeD?: quality = 300
        case nil: quality = 500
        }
        return Int((playability + availability + sanity + type + quality).rounded())
    }
}
