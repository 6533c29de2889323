/// Request ids: 32 lower-case hex characters (`X-Request-ID`), as nginx's `$request_id`.
public enum RequestID {
    /// Whether `s` is a well-formed request id.
    public static func isValid(_ s: String) -> Bool {
        s.utf8.count == 32 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// A new id from 16 random bytes drawn from `generator`.
    public static func make<G: RandomNumberGenerator>(using generator: inout G) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(32)
        for _ in 0..<2 {
            var value = generator.next()
            for _ in 0..<16 {
                out.append(digits[Int(value & 0xf)])
                value >>= 4
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
