/// Which file of a torrent holds an episode: a season pack lists many videos (and samples,
/// subtitles, NFOs); a single-episode torrent may still carry a sample. Pure.
public enum EpisodeFile {
    static let videoExtensions: Set<String> = ["mkv", "mp4", "m4v", "avi", "mov", "webm", "ts", "wmv", "mpg", "mpeg"]

    /// The index of the file with `season`/`episode`, given each file's path components and
    /// length: a video (not a sample) whose name says SxxEyy (or 1x02); else, for a torrent
    /// with a single real video, that one. Nil when the torrent does not hold the episode.
    public static func pick(files: [(path: [String], length: Int64)], season: Int, episode: Int) -> Int? {
        let videos = files.indices.filter { index in
            let name = files[index].path.last?.lowercased() ?? ""
            let ext = name.split(separator: ".").last.map(String.init) ?? ""
            return videoExtensions.contains(ext) && !isSample(files[index].path)
        }
        let matching = videos.filter { index in
            let info = ReleaseNameParser.parse(files[index].path.last ?? "")
            return info.season.map { $0 == season } ?? true && info.episode == episode
        }
        if let best = matching.max(by: { files[$0].length < files[$1].length }) { return best }
        let named = videos.filter { index in ReleaseNameParser.parse(files[index].path.last ?? "").episode != nil }
        if videos.count == 1 && named.isEmpty { return videos[0] }
        return nil
    }

    /// Samples and extras: a `sample` directory or a name with the word sample.
    static func isSample(_ path: [String]) -> Bool {
        path.contains { component in
            let lower = component.lowercased()
            return lower == "sample" || lower == "samples" || lower.hasPrefix("sample.") || lower.hasPrefix("sample-")
                || lower.contains(".sample.") || lower.contains("-sample.") || lower.contains("_sample")
        }
    }
}
