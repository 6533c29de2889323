import Foundation

/// BEP 19 (GetRight-style web seeds): where the bytes of a piece are on an HTTP server that
/// serves the torrent's files. A single-file torrent's URL names the file (or a folder, when
/// it ends in "/", that holds it under the torrent's name); a multi-file torrent's URL is the
/// folder holding `<name>/<path…>`. A piece crossing file boundaries takes one range request
/// per file.
public enum WebSeedPlan {
    public struct Request: Sendable, Equatable {
        public let url: String
        public let offset: Int64
        public let length: Int
    }

    /// Only http(s) URLs are used.
    public static func isUsable(_ url: String) -> Bool {
        (url.hasPrefix("http://") || url.hasPrefix("https://")) && url.count <= 2048 && !url.contains(where: { $0.isWhitespace })
    }

    /// The range requests that fetch `piece` from the web seed at `base`, in order.
    public static func requests(piece: PieceIndex, geometry: PieceGeometry, metainfo: Metainfo, base: String) -> [Request] {
        let layout = FileLayout(files: metainfo.files)
        let start = Int64(piece.value) * Int64(geometry.pieceLength)
        return layout.spans(offset: start, length: geometry.length(of: piece)).map { span in
            Request(url: url(file: span.file, metainfo: metainfo, base: base), offset: span.offset, length: span.length)
        }
    }

    static func url(file: Int, metainfo: Metainfo, base: String) -> String {
        if metainfo.isSingleFile && !base.hasSuffix("/") { return base }
        let folder = base.hasSuffix("/") ? base : base + "/"
        return folder + metainfo.files[file].path.map(escape).joined(separator: "/")
    }

    /// Percent-encodes a path component (RFC 3986 unreserved characters stay).
    static func escape(_ component: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return component.addingPercentEncoding(withAllowedCharacters: allowed) ?? component
    }
}
