/// Where a byte range of the torrent's stream lies in its files (multi-file torrents place
/// files back to back; pieces cross file boundaries).
public struct FileLayout: Sendable, Equatable {
    /// One contiguous part of a file.
    public struct Span: Sendable, Equatable {
        public let file: Int
        public let offset: Int64
        public let length: Int

        public init(file: Int, offset: Int64, length: Int) {
            self.file = file
            self.offset = offset
            self.length = length
        }
    }

    public let files: [Metainfo.File]

    public init(files: [Metainfo.File]) { self.files = files }

    /// The spans covering `[offset, offset + length)` of the stream, in order (zero-length
    /// files are skipped; a range past the end is clamped).
    public func spans(offset: Int64, length: Int) -> [Span] {
        var spans: [Span] = []
        var position = offset
        var remaining = Int64(length)
        for (index, file) in files.enumerated() where remaining > 0 && file.length > 0 {
            let fileEnd = file.offset + file.length
            guard position < fileEnd, position >= file.offset else { continue }
            let take = min(remaining, fileEnd - position)
            spans.append(Span(file: index, offset: position - file.offset, length: Int(take)))
            position += take
            remaining -= take
        }
        return spans
    }

    /// The index of the largest file (what a player wants from a release).
    public var largestFile: Int? { files.indices.max { files[$0].length < files[$1].length } }
}
