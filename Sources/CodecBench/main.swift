// Codec throughput for bench/codec.sh: decodes a bencoded file and a stream of peer-wire
// piece messages repeatedly and prints MB/s. Not a test: timings are for side-by-side runs.
import Bencode
import BitTorrentProtocol
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 3, let iterations = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: CodecBench FILE ITERATIONS [bencode|peerwire]\n".utf8))
    exit(2)
}
let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: arguments[1])))
let mode = arguments.count > 3 ? arguments[3] : "bencode"
let clock = ContinuousClock()
var checksum = 0
let elapsed = clock.measure {
    for _ in 0..<iterations {
        if mode == "bencode" {
            let node = try! BencodeDecoder().decode(bytes)
            checksum &+= node.range.count
        } else {
            var decoder = PeerWireDecoder(expectHandshake: false)
            var offset = 0
            while offset < bytes.count {
                decoder.feed(Array(bytes[offset..<min(offset + 65536, bytes.count)]))
                offset += 65536
                while let message = try! decoder.next() {
                    if case let .piece(_, _, block) = message { checksum &+= block.count }
                }
            }
        }
    }
}
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let megabytes = Double(bytes.count * iterations) / 1_048_576
print(String(format: "%.1f", megabytes / seconds), checksum)
