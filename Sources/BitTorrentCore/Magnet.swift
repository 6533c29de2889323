/// A magnet link (BEP 9): `magnet:?xt=urn:btih:<40 hex | 32 base32>&dn=…&tr=…&x.pe=…`.
public struct Magnet: Sendable, Equatable {
    public var infoHash: InfoHash
    public var displayName: String?
    public var trackers: [String]
    /// Peer addresses (`host:port`) from `x.pe`.
    public var peers: [String]

    /// Why a magnet link is refused.
    public enum Problem: Error, Equatable, Sendable {
        case notAMagnet
        case missingInfoHash
        case invalidInfoHash
        case tooLong
    }

    /// The longest magnet accepted.
    public static let maximumLength = 16 * 1024

    public init(infoHash: InfoHash, displayName: String? = nil, trackers: [String] = [], peers: [String] = []) {
        self.infoHash = infoHash
        self.displayName = displayName
        self.trackers = trackers
        self.peers = peers
    }

    /// Parses a magnet link.
    public static func parse(_ text: String) throws(Problem) -> Magnet {
        guard text.utf8.count <= maximumLength else { throw .tooLong }
        guard text.lowercased().hasPrefix("magnet:?") else { throw .notAMagnet }
        var hash: InfoHash?
        var sawTopic = false
        var name: String?
        var trackers: [String] = []
        var peers: [String] = []
        for pair in text.dropFirst(8).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = String(parts[0]).lowercased()
            let value = percentDecode(String(parts[1]))
            switch key {
            case "xt":
                guard value.lowercased().hasPrefix("urn:btih:") else { continue }
                sawTopic = true
                let digest = String(value.dropFirst(9))
                guard let parsed = InfoHash(hex: digest) ?? InfoHash(base32: digest) else { throw .invalidInfoHash }
                hash = hash ?? parsed
            case "dn": name = value
            case "tr": if !value.isEmpty && !trackers.contains(value) { trackers.append(value) }
            case "x.pe": if !value.isEmpty { peers.append(value) }
            default: continue
            }
        }
        guard let hash else { throw sawTopic ? .invalidInfoHash : .missingInfoHash }
        return Magnet(infoHash: hash, displayName: name, trackers: trackers, peers: peers)
    }

    /// The canonical link.
    public var uri: String {
        var text = "magnet:?xt=urn:btih:\(infoHash.hex)"
        if let displayName { text += "&dn=" + percentEncode(displayName) }
        for tracker in trackers { text += "&tr=" + percentEncode(tracker) }
        for peer in peers { text += "&x.pe=" + percentEncode(peer) }
        return text
    }

    static func percentDecode(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
               let high = InfoHash.nibble(iterator[iterator.startIndex]), let low = InfoHash.nibble(iterator[iterator.startIndex + 1]) {
                bytes.append(high << 4 | low)
                iterator = iterator.dropFirst(2)
            } else if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func percentEncode(_ text: String) -> String {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            if allowed.contains(byte) { out.append(byte) } else { out += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 15)]] }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
