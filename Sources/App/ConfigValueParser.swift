import Foundation

/// Validation and parsing of configuration values (pure).
public enum ConfigValueParser {
    /// Why a value is refused, or nil if it is valid for `kind`.
    public static func problem(_ value: String, kind: ConfigKind) -> String? {
        switch kind {
        case .string, .list, .path:
            return nil
        case .bool:
            return bool(value) == nil ? "expected true/false/1/0/yes/no" : nil
        case let .int(range):
            guard let number = Int(value) else { return "expected an integer" }
            return range.contains(number) ? nil : "expected an integer in \(range.lowerBound)...\(range.upperBound)"
        case .duration:
            return seconds(value) == nil ? "expected <int><s|m|h|d>, e.g. 15m" : nil
        case .size:
            return bytes(value) == nil ? "expected <int><B|KB|MB|GB|TB>, e.g. 20MB" : nil
        case .url:
            guard let url = URL(string: value), let scheme = url.scheme?.lowercased(),
                  scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
                return "expected an http(s) URL"
            }
            return nil
        case let .oneOf(words):
            return words.contains(value.lowercased()) ? nil : "expected one of \(words.joined(separator: "|"))"
        case .key32Base64:
            guard let data = Data(base64Encoded: value), data.count == 32 else {
                return "expected base64 of exactly 32 bytes"
            }
            return nil
        }
    }

    /// `true|false|1|0|yes|no` (case-insensitive).
    public static func bool(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: return nil
        }
    }

    /// `<int><s|m|h|d>` in seconds.
    public static func seconds(_ value: String) -> Int? {
        guard let unit = value.last, let number = Int(value.dropLast()), number >= 0 else { return nil }
        let factor: Int
        switch unit {
        case "s": factor = 1
        case "m": factor = 60
        case "h": factor = 3600
        case "d": factor = 86400
        default: return nil
        }
        let (result, overflow) = number.multipliedReportingOverflow(by: factor)
        return overflow ? nil : result
    }

    /// `<int><B|KB|MB|GB|TB>` in bytes (binary units).
    public static func bytes(_ value: String) -> Int? {
        let units: [(String, Int)] = [("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)]
        for (suffix, factor) in units where value.uppercased().hasSuffix(suffix) {
            guard let number = Int(value.dropLast(suffix.count)), number >= 0 else { return nil }
            let (result, overflow) = number.multipliedReportingOverflow(by: factor)
            return overflow ? nil : result
        }
        return nil
    }

    /// A comma-separated list, trimmed, empty entries dropped.
    public static func list(_ value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
