import NIOCore
import NIOHTTP1
import WebCore

/// Bridges NIO's HTTP/1.1 pipeline to a `WebCore.Responder` for the engine's endpoint.
///
/// Request bodies are not needed by any stream route; they are discarded, with a cap that
/// closes the connection when exceeded. Every response carries `X-Request-ID` (nginx's id
/// when forwarded, else a random one).
final class StreamHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maximumDiscardedBody = 1 << 20

    private let responder: any Responder
    private let makeRequestID: @Sendable () -> String
    private var head: HTTPRequestHead?
    private var discardedBody = 0

    init(responder: any Responder, makeRequestID: @escaping @Sendable () -> String) {
        self.responder = responder
        self.makeRequestID = makeRequestID
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(requestHead):
            head = requestHead
            discardedBody = 0
        case let .body(buffer):
            discardedBody += buffer.readableBytes
            if discardedBody > Self.maximumDiscardedBody {
                write(context: context, version: head?.version ?? .http1_1, keepAlive: false,
                      response: APIError.payloadTooLarge(limit: Self.maximumDiscardedBody).response, requestID: makeRequestID())
                head = nil
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            respond(context: context, head: requestHead)
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let supplied = head.headers.first(name: "X-Request-ID") ?? ""
        let requestID = RequestID.isValid(supplied) ? supplied : makeRequestID()
        let uri = head.uri
        let path: String
        let query: String
        if let mark = uri.firstIndex(of: "?") {
            path = String(uri[..<mark])
            query = String(uri[uri.index(after: mark)...])
        } else {
            path = uri
            query = ""
        }
        let headers = WebCore.HTTPHeaders(head.headers.map { ($0.name, $0.value) })
        let remote = head.headers.first(name: "X-Real-IP")
        let request = Request(method: head.method.rawValue, path: path, rawQuery: query, headers: headers,
                              clientIP: remote ?? "unknown", requestID: requestID)
        let response: Response
        do {
            response = try responder.respond(to: request)
        } catch let error as APIError {
            response = error.response
        } catch {
            response = APIError.internalError.response
        }
        write(context: context, version: head.version, keepAlive: head.isKeepAlive, response: response,
              requestID: requestID, isHead: head.method == .HEAD)
    }

    private func write(context: ChannelHandlerContext, version: HTTPVersion, keepAlive: Bool, response: Response,
                       requestID: String, isHead: Bool = false) {
        var headers = NIOHTTP1.HTTPHeaders(response.headers.map { ($0.name, $0.value) })
        if !headers.contains(name: "X-Request-ID") { headers.add(name: "X-Request-ID", value: requestID) }
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let responseHead = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status),
                                            headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if !isHead && !response.body.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: response.body.count)
            buffer.writeBytes(response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.whenComplete { [context] _ in context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
