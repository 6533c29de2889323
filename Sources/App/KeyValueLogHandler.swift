import Foundation
import Logging

/// A swift-log handler writing one structured line per event to stderr:
/// `ts=2026-11-29T14:30:00.000Z level=info component=api event=worker_start msg="…" pid=12`.
///
/// Values with spaces, quotes or `=` are quoted. Callers never put secrets, tokens or
/// magnet links into messages or metadata (house rule); this handler does not guess.
public struct KeyValueLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String

    /// Creates a handler for `label` at `level`.
    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = "ts=\(Self.timestamp()) level=\(event.level) component=\(label)"
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        if let name = merged.removeValue(forKey: "event") { line += " event=\(Self.quote("\(name)"))" }
        line += " msg=\(Self.quote(event.message.description))"
        for key in merged.keys.sorted() {
            line += " \(key)=\(Self.quote("\(merged[key]!)"))"
        }
        line += "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func quote(_ value: String) -> String {
        let clean = value.replacingOccurrences(of: "\n", with: "\\n")
        if clean.isEmpty || clean.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) {
            return "\"" + clean.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return clean
    }

    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, now.tv_nsec / 1_000_000)
    }

    /// Installs the handler for every logger at `level` (from `LOG_LEVEL`).
    public static func bootstrap(level: String) {
        let parsed = Logger.Level(rawValue: level.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in KeyValueLogHandler(label: label, level: parsed) }
    }
}
