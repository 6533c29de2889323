import NIOCore
import WebCore

/// The bytes of a streamed representation, read in chunks as they become available (the
/// engine's torrent reader in production, memory in tests).
public protocol StreamBody: Sendable {
    /// Up to `maxLength` bytes at `offset`; completes when at least one byte is available.
    func read(at offset: Int64, maxLength: Int) -> EventLoopFuture<ByteBuffer>
    /// The client is gone or the response is complete.
    func close()
}

/// How to answer a stream request: status and headers, and for a body, which bytes.
public struct StreamReply: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    /// Streamed bytes `[start, start + length)` of `body`.
    public var body: (any StreamBody)?
    /// A complete answer held in memory (errors, OPTIONS).
    public var data: [UInt8]
    public var start: Int64
    public var length: Int64
    /// How long the first bytes may take before the answer becomes 504 (STREAM_START_TIMEOUT).
    public var startTimeout: Double

    public init(status: Int, headers: [(String, String)], body: (any StreamBody)?, start: Int64, length: Int64, startTimeout: Double) {
        self.status = status
        self.headers = headers
        self.body = body
        data = []
        self.start = start
        self.length = length
        self.startTimeout = startTimeout
    }

    /// A complete in-memory answer (errors, HEAD, OPTIONS).
    public init(_ response: Response) {
        status = response.status
        headers = response.headers.map { ($0.name, $0.value) }
        body = nil
        data = response.body
        start = 0
        length = Int64(response.body.count)
        startTimeout = 5
    }
}

/// Stream routes resolve asynchronously (key lookup, opening the torrent) and may take the
/// whole request; nil leaves the request to the ordinary router.
public protocol StreamResolver: Sendable {
    func resolve(_ request: Request, on loop: any EventLoop) -> EventLoopFuture<StreamReply>?
}
