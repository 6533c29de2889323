import BitTorrentProtocol

/// BEP 5's XOR metric on 20-byte node ids and info-hashes.
public enum DHTDistance {
    /// Whether `a` is closer to `target` than `b`.
    public static func closer(_ a: [UInt8], than b: [UInt8], to target: [UInt8]) -> Bool {
        for i in 0..<20 {
            let x = a[i] ^ target[i], y = b[i] ^ target[i]
            if x != y { return x < y }
        }
        return false
    }

    /// Leading bits `a` and `b` share (0...160): the bucket of `b` in the table of `a`.
    public static func sharedPrefix(_ a: [UInt8], _ b: [UInt8]) -> Int {
        for i in 0..<20 where a[i] != b[i] {
            return i * 8 + (a[i] ^ b[i]).leadingZeroBitCount
        }
        return 160
    }

    /// An id sharing exactly `prefix` leading bits with `own` (a bucket refresh target);
    /// `random` supplies the remaining bytes.
    public static func id(sharing prefix: Int, with own: [UInt8], random: [UInt8]) -> [UInt8] {
        precondition(random.count == 20 && own.count == 20)
        guard prefix < 160 else { return own }
        var id = random
        let byte = prefix / 8, bit = prefix % 8
        for i in 0..<byte { id[i] = own[i] }
        let keep: UInt8 = bit == 0 ? 0 : ~UInt8(0) << (8 - bit)
        let flip: UInt8 = 0x80 >> bit
        id[byte] = (own[byte] & keep) | (~own[byte] & flip) | (random[byte] & ~(keep | flip))
        return id
    }
}

extension DHTNode {
    /// Sorts nodes by distance to `target`.
    public static func sorted(_ nodes: [DHTNode], by target: [UInt8]) -> [DHTNode] {
        nodes.sorted { DHTDistance.closer($0.id, than: $1.id, to: target) }
    }
}
