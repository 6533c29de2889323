/// The short code a TV shows for device login (RFC 8628's "user code"): 8 characters from an
/// alphabet without vowels (no words) and without the look-alikes O/0 and I/L/1, shown as
/// `XXXX-XXXX`. 27⁸ ≈ 2.8 × 10¹¹ codes, and
/// lookups are rate limited, so guessing one in its 10 minutes is hopeless.
public struct DeviceUserCode: Sendable, Equatable, Hashable {
    public static let alphabet = Array("BCDFGHJKMNPQRSTVWXZ23456789")
    public static let length = 8

    /// The 8 characters, without the dash.
    public let value: String

    /// A random code; randomness is a parameter.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> DeviceUserCode {
        DeviceUserCode(value: String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }))
    }

    /// Parses what a person typed: case, spaces and dashes do not matter; anything else
    /// outside the alphabet, or the wrong length, is nil.
    public init?(typed: String) {
        let cleaned = typed.uppercased().filter { $0 != "-" && $0 != " " }
        guard cleaned.count == Self.length, cleaned.allSatisfy(Self.alphabet.contains) else { return nil }
        value = cleaned
    }

    private init(value: String) { self.value = value }

    /// `XXXX-XXXX`, as shown on screen.
    public var formatted: String { String(value.prefix(4)) + "-" + String(value.suffix(4)) }
}
