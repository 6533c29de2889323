import Foundation
import HTTPClient
import Logging

/// Downloads a source's .torrent (reference §3.7): the directory's own URL first, then the
/// public caches (itorrents, torrage; configurable bases). Only bodies that look like a
/// bencoded dictionary and fit the cap come back; the caller verifies the info-hash before
/// storing anything.
public struct TorrentFileFetcher: Sendable {
    let http: HTTPClient
    /// Cache URL templates with `{HASH}` (upper case) or `{hash}` (lower case).
    let caches: [String]
    public static let maximumSize = 8 << 20

    public init(http: HTTPClient, caches: [String]) {
        self.http = http
        self.caches = caches
    }

    /// The first body whose `verify` passes (the info-hash check), trying the directory's URL
    /// and then each cache; the origins that answered with a wrong file are reported.
    public func fetch(infoHash: String, directURL: String?, verify: ([UInt8]) -> Bool) -> (found: (origin: String, bytes: [UInt8])?, rejected: [String]) {
        var urls: [(String, String)] = []
        if let directURL, directURL.hasPrefix("http") { urls.append(("directory", directURL)) }
        for template in caches where !template.isEmpty {
            let url = template.replacingOccurrences(of: "{HASH}", with: infoHash.uppercased()).replacingOccurrences(of: "{hash}", with: infoHash.lowercased())
            urls.append((URL(string: url.replacingOccurrences(of: "torrage+", with: ""))?.host ?? "cache", url))
        }
        var rejected: [String] = []
        for (origin, template) in urls {
            // `torrage+<base>`: torrage's two steps (a landing page holding an obfuscated
            // token, then the download with the token decoded).
            let url: String
            if template.hasPrefix("torrage+") {
                guard let resolved = torrageURL(base: String(template.dropFirst("torrage+".count)), infoHash: infoHash) else { continue }
                url = resolved
            } else {
                url = template
            }
            guard let response = try? http.get(url, budget: 5), (200..<300).contains(response.status),
                  response.body.count <= Self.maximumSize, response.body.first == UInt8(ascii: "d") else { continue }
            if verify(response.body) { return ((origin, response.body), rejected) }
            rejected.append(origin)
        }
        return (nil, rejected)
    }

    /// torrage: `torrent.php?h=<hash>&ttl=<now>` holds `getTTL("<token>")`; the token decoded
    /// (letters shifted back by 12, then reversed) goes to `download.php?h=<hash>&ttl=<decoded>`.
    func torrageURL(base: String, infoHash: String) -> String? {
        let root = base.hasSuffix("/") ? String(base.dropLast()) : base
        let hash = infoHash.lowercased()
        guard let page = try? http.get("\(root)/torrent.php?h=\(hash)&ttl=\(Int(Date().timeIntervalSince1970))", budget: 5),
              page.status == 200 else { return nil }
        let text = String(decoding: page.body.prefix(256 * 1024), as: UTF8.self)
        guard let match = text.range(of: #"getTTL\("([^"]{1,200})"\)"#, options: .regularExpression) else { return nil }
        let call = text[match]
        guard let open = call.firstIndex(of: "\""), let close = call.lastIndex(of: "\""), open < close else { return nil }
        let token = Self.decodeTorrageToken(String(call[call.index(after: open)..<close]))
        guard let encoded = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) else { return nil }
        return "\(root)/download.php?h=\(hash)&ttl=\(encoded)"
    }

    /// Caesar shift −12 on ASCII letters, then reversed.
    static func decodeTorrageToken(_ token: String) -> String {
        String(token.unicodeScalars.map { scalar -> Character in
            let value = scalar.value
            if (65...90).contains(value) { return Character(UnicodeScalar((value - 65 + 26 - 12) % 26 + 65)!) }
            if (97...122).contains(value) { return Character(UnicodeScalar((value - 97 + 26 - 12) % 26 + 97)!) }
            return Character(scalar)
        }.reversed())
    }
}
