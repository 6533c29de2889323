import API
import HTTPClient
import Logging
import TorrentEngine

/// BEP 19 web seeds over libcurl: one `Range` request per call, bound to the VPN interface
/// like tracker requests, one attempt with a short budget (the engine rests a failing seed).
/// Only a 206 with exactly the asked bytes counts (a server that ignores ranges would send
/// the whole file: refused, and the body cap keeps it from being read).
struct WebSeedHTTPClient: WebSeedClient {
    let client: HTTPClient

    init(interface: String?, stats: (any StatsRecording)?, logger: Logger) {
        var policy = HTTPClientPolicy()
        policy.maxAttempts = 1
        policy.options.connectTimeout = 5
        policy.options.totalTimeout = 30
        policy.options.interface = interface
        // A piece is at most 16 MiB; a range past that is never asked.
        policy.options.maxBodyBytes = 16 << 20
        client = HTTPClient(policy: policy.observed(by: stats, as: "webseed"), logger: logger)
    }

    func fetch(url: String, offset: Int64, length: Int) throws -> [UInt8] {
        let response = try client.get(url, headers: ["Range: bytes=\(offset)-\(offset + Int64(length) - 1)"], budget: 30)
        guard response.status == 206, response.body.count == length else {
            throw WebSeedError.unexpectedAnswer(status: response.status, bytes: response.body.count)
        }
        return response.body
    }
}

enum WebSeedError: Error, CustomStringConvertible {
    case unexpectedAnswer(status: Int, bytes: Int)

    var description: String {
        switch self {
        case let .unexpectedAnswer(status, bytes): return "HTTP \(status) with \(bytes) bytes"
        }
    }
}
