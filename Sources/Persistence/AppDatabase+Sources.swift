import Foundation
import GRDB

/// A stored source's public facts (no info-hash, magnet or file: those stay encrypted).
public struct StoredSourceSummary: Sendable, Equatable {
    public var id: Int
    public var quality: String?
    public var size: Int
    public var videoCodec: String?
    public var broadcasters: Int?
    public var watchers: Int?
    public var releaseType: String?
    public var hasDataFile: Bool
}

extension AppDatabase {
    /// The reference's enum orders for the integer columns of `movie_source`.
    public static let qualities = ["SD", "HD", "FHD", "2K", "4K", "8K", "3D"]
    public static let videoCodecs = ["VC1", "MPEG2", "MPEG4", "XVID", "VP8", "VP9", "X264", "X265", "AV1", "X264_10BIT", "X265_10BIT", "AV1_10BIT"]
    public static let releaseTypes = ["WEB", "BLURAY", "HDTV", "DVD", "TS", "CAM"]

    /// The sources of a movie, best first (streaming score), then in insertion order. Index 0 maps to its real value (the
    /// original lost SD, VC1 and WEB); unknown indices map to nil.
    public func movieSources(movieId: Int) throws -> [StoredSourceSummary] {
        func name(_ list: [String], _ index: Int?) -> String? {
            guard let index, list.indices.contains(index) else { return nil }
            return list[index]
        }
        return try writer.read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT id, quality, size, videoCodec, broadcasters, watchers, sourceType, file IS NOT NULL AS hasFile
                FROM movie_source WHERE movieId = ? ORDER BY streamingScore DESC, id
                """), arguments: [movieId]).map { row in
                StoredSourceSummary(id: row["id"], quality: name(Self.qualities, row["quality"]), size: row["size"],
                                    videoCodec: name(Self.videoCodecs, row["videoCodec"]), broadcasters: row["broadcasters"],
                                    watchers: row["watchers"], releaseType: name(Self.releaseTypes, row["sourceType"]),
                                    hasDataFile: row["hasFile"])
            }
        }
    }
}
