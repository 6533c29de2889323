import NIOCore
import NIOHTTP1
import WebCore

/// Bridges NIO's HTTP/1.1 pipeline to the engine's endpoints: stream routes (resolved
/// asynchronously, bodies pumped chunk by chunk with backpressure) and a `Responder` for
/// the rest.
///
/// Request bodies are not needed by any route; they are discarded, with a cap that closes
/// the connection when exceeded. Every response carries `X-Request-ID` (nginx's id when
/// forwarded, else a random one).
final class StreamHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maximumDiscardedBody = 1 << 20
    /// Bytes asked of the body per write (a body may return less); one chunk in flight per
    /// connection.
    static let chunkSize = 1024 * 1024
    /// A started stream whose next bytes take longer than this is cut (the player retries).
    static let stallTimeout: TimeAmount = .seconds(120)

    private let responder: any Responder
    private let resolver: (any StreamResolver)?
    private let makeRequestID: @Sendable () -> String
    private var head: HTTPRequestHead?
    private var discardedBody = 0
    /// The body being streamed (closed when the client goes away).
    private var activeBody: (any StreamBody)?
    private var active = true

    init(responder: any Responder, resolver: (any StreamResolver)?, makeRequestID: @escaping @Sendable () -> String) {
        self.responder = responder
        self.resolver = resolver
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
                      reply: StreamReply(APIError.payloadTooLarge(limit: Self.maximumDiscardedBody).response), requestID: makeRequestID())
                head = nil
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            respond(context: context, head: requestHead)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        activeBody?.close()
        activeBody = nil
        context.fireChannelInactive()
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
        if let pending = resolver?.resolve(request, on: context.eventLoop) {
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            pending.hop(to: context.eventLoop).whenComplete { result in
                let (handler, context) = bound.value
                let reply = (try? result.get()) ?? StreamReply(APIError.internalError.response)
                handler.start(context: context, head: head, reply: reply, requestID: requestID)
            }
            return
        }
        let response: Response
        do {
            response = try responder.respond(to: request)
        } catch let error as APIError {
            response = error.response
        } catch {
            response = APIError.internalError.response
        }
        write(context: context, version: head.version, keepAlive: head.isKeepAlive, reply: StreamReply(response),
              requestID: requestID, isHead: head.method == .HEAD)
    }

    /// Streams a reply: the first chunk must arrive within the reply's start budget (else
    /// 504, or 503 when the body failed), then the head goes out and chunks follow one at a
    /// time, each written before the next is read (backpressure: a slow client slows reads).
    private func start(context: ChannelHandlerContext, head: HTTPRequestHead, reply: StreamReply, requestID: String) {
        guard active else { reply.body?.close(); return }
        guard let body = reply.body, reply.length > 0, head.method != .HEAD else {
            reply.body?.close()
            return write(context: context, version: head.version, keepAlive: head.isKeepAlive, reply: reply, requestID: requestID,
                         isHead: head.method == .HEAD)
        }
        activeBody = body
        let loop = context.eventLoop
        let first = body.read(at: reply.start, maxLength: Int(min(Int64(Self.chunkSize), reply.length))).hop(to: loop)
        let timeout = loop.scheduleTask(in: .milliseconds(Int64(reply.startTimeout * 1000))) {}
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let settle: @Sendable (Result<ByteBuffer, any Error>?) -> Void = { result in
            let (handler, context) = bound.value
            guard handler.active else { return }
            guard let result else {
                // Start budget spent: 504, and the reader stops driving priorities.
                handler.closeBody()
                return handler.write(context: context, version: head.version, keepAlive: false,
                                     reply: StreamReply(APIError.handler(status: 504, message: "Stream loading timeout").response),
                                     requestID: requestID)
            }
            switch result {
            case let .success(chunk) where chunk.readableBytes > 0:
                handler.writeStreamHead(context: context, head: head, reply: reply, requestID: requestID)
                handler.pump(context: context, chunk: chunk, offset: reply.start, remaining: reply.length, keepAlive: head.isKeepAlive)
            default:
                handler.closeBody()
                handler.write(context: context, version: head.version, keepAlive: false,
                              reply: StreamReply(APIError.handler(status: 503, message: "Stream unavailable").response), requestID: requestID)
            }
        }
        let once = NIOLoopBound(Box(false), eventLoop: loop)
        first.whenComplete { result in
            guard !once.value.value else { return }
            once.value.value = true
            timeout.cancel()
            settle(result)
        }
        timeout.futureResult.whenSuccess {
            guard !once.value.value else { return }
            once.value.value = true
            settle(nil)
        }
    }

    private func closeBody() {
        activeBody?.close()
        activeBody = nil
    }

    private func writeStreamHead(context: ChannelHandlerContext, head: HTTPRequestHead, reply: StreamReply, requestID: String) {
        var headers = NIOHTTP1.HTTPHeaders(reply.headers)
        if !headers.contains(name: "X-Request-ID") { headers.add(name: "X-Request-ID", value: requestID) }
        headers.replaceOrAdd(name: "Content-Length", value: String(reply.length))
        headers.replaceOrAdd(name: "Connection", value: head.isKeepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: reply.status),
                                                              headers: headers))), promise: nil)
    }

    private func pump(context: ChannelHandlerContext, chunk: ByteBuffer, offset: Int64, remaining: Int64, keepAlive: Bool) {
        var chunk = chunk
        if Int64(chunk.readableBytes) > remaining { chunk = chunk.getSlice(at: chunk.readerIndex, length: Int(remaining)) ?? chunk }
        let sent = Int64(chunk.readableBytes)
        let left = remaining - sent
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(chunk)))).whenComplete { result in
            let (handler, context) = bound.value
            guard handler.active, case .success = result else { return }
            guard left > 0, let body = handler.activeBody else {
                handler.closeBody()
                let done = context.writeAndFlush(handler.wrapOutboundOut(.end(nil)))
                if !keepAlive { done.whenComplete { _ in bound.value.1.close(promise: nil) } }
                return
            }
            let next = body.read(at: offset + sent, maxLength: Int(min(Int64(Self.chunkSize), left))).hop(to: loop)
            let stall = loop.scheduleTask(in: Self.stallTimeout) {}
            stall.futureResult.whenSuccess {
                let (handler, context) = bound.value
                guard handler.active else { return }
                handler.closeBody()
                context.close(promise: nil)
            }
            next.whenComplete { result in
                stall.cancel()
                let (handler, context) = bound.value
                guard handler.active else { return }
                switch result {
                case let .success(buffer) where buffer.readableBytes > 0:
                    handler.pump(context: context, chunk: buffer, offset: offset + sent, remaining: left, keepAlive: keepAlive)
                default:
                    // The head is out: a failed read can only end the connection (the
                    // client sees a short body and retries with a range).
                    handler.closeBody()
                    context.close(promise: nil)
                }
            }
        }
    }

    private func write(context: ChannelHandlerContext, version: HTTPVersion, keepAlive: Bool, reply: StreamReply,
                       requestID: String, isHead: Bool = false) {
        var headers = NIOHTTP1.HTTPHeaders(reply.headers)
        if !headers.contains(name: "X-Request-ID") { headers.add(name: "X-Request-ID", value: requestID) }
        if !isHead || !headers.contains(name: "Content-Length") {
            headers.replaceOrAdd(name: "Content-Length", value: String(reply.body == nil ? reply.data.count : Int(reply.length)))
        }
        headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let responseHead = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if !isHead && !reply.data.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: reply.data.count)
            buffer.writeBytes(reply.data)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            done.whenComplete { _ in bound.value.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A mutable flag shared by two callbacks on one event loop.
final class Box<T> {
    var value: T
    init(_ value: T) { self.value = value }
}
