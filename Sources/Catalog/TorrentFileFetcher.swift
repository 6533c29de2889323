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
            urls.append((URL(string: url)?.host ?? "cache", url))
        }
        var rejected: [String] = []
        for (origin, url) in urls {
            guard let response = try? http.get(url, budget: 5), (200..<300).contains(response.status),
                  response.body.count <= Self.maximumSize, response.body.first == UInt8(ascii: "d") else { continue }
            if verify(response.body) { return ((origin, response.body), rejected) }
            rejected.append(origin)
        }
        return (nil, rejected)
    }
}
