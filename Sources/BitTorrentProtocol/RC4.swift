/// RC4, as MSE/PE specifies it (the first 1 024 keystream bytes discarded). Written here
/// because OpenSSL 3 only offers RC4 in its legacy provider, which Debian does not load.
public struct RC4: Sendable {
    private var state: [UInt8]
    private var i: UInt8 = 0
    private var j: UInt8 = 0

    public init(key: [UInt8], discard: Int = 1024) {
        precondition(!key.isEmpty)
        state = (0...255).map { UInt8($0) }
        var j: UInt8 = 0
        for i in 0..<256 {
            j = j &+ state[i] &+ key[i % key.count]
            state.swapAt(i, Int(j))
        }
        var skip = [UInt8](repeating: 0, count: discard)
        process(&skip)
    }

    /// XORs the keystream into `bytes` (encrypts or decrypts).
    public mutating func process(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBufferPointer { process($0) }
    }

    public mutating func process(_ bytes: UnsafeMutableBufferPointer<UInt8>) {
        var i = self.i, j = self.j
        state.withUnsafeMutableBufferPointer { s in
            for index in bytes.indices {
                i &+= 1
                j &+= s[Int(i)]
                let t = s[Int(i)]
                s[Int(i)] = s[Int(j)]
                s[Int(j)] = t
                bytes[index] ^= s[Int(s[Int(i)] &+ s[Int(j)])]
            }
        }
        self.i = i
        self.j = j
    }

    public mutating func processed(_ bytes: [UInt8]) -> [UInt8] {
        var copy = bytes
        process(&copy)
        return copy
    }
}
