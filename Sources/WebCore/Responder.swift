/// Something that turns a request into a response. Handlers are synchronous and short
/// (architecture.md): anything slow has a budget and continues in the engine.
public protocol Responder: Sendable {
    /// Answers a request. Thrown `APIError`s become their contract bodies; any other error
    /// becomes a generic 500.
    func respond(to request: Request) throws -> Response
}

/// A closure-backed responder.
public struct ClosureResponder: Responder {
    let body: @Sendable (Request) throws -> Response
    /// Wraps a closure.
    public init(_ body: @escaping @Sendable (Request) throws -> Response) { self.body = body }
    public func respond(to request: Request) throws -> Response { try body(request) }
}

/// A step around the next responder: logging, request ids, rate limits, auth.
public protocol Middleware: Sendable {
    /// Handles the request, usually by calling `next` and adjusting its response.
    func respond(to request: Request, next: any Responder) throws -> Response
}

/// A responder made of middlewares in front of a final responder. Errors thrown anywhere
/// inside are turned into responses here, so middlewares see every final response.
public struct Pipeline: Responder {
    let chain: any Responder

    /// Creates a pipeline; `onError` sees errors that are not `APIError` (they answer 500).
    /// The chain is built once here, not per request.
    public init(_ middlewares: [any Middleware], terminal: any Responder,
                onError: @escaping @Sendable (any Error, Request) -> Void = { _, _ in }) {
        var next: any Responder = ErrorMapping(inner: terminal, onError: onError)
        for middleware in middlewares.reversed() {
            next = ErrorMapping(inner: MiddlewareStep(middleware: middleware, next: next), onError: onError)
        }
        chain = next
    }

    public func respond(to request: Request) throws -> Response {
        try chain.respond(to: request)
    }
}

/// One middleware bound to the responder after it.
struct MiddlewareStep: Responder {
    let middleware: any Middleware
    let next: any Responder

    func respond(to request: Request) throws -> Response {
        try middleware.respond(to: request, next: next)
    }
}

/// Turns thrown errors into responses.
struct ErrorMapping: Responder {
    let inner: any Responder
    let onError: @Sendable (any Error, Request) -> Void

    func respond(to request: Request) throws -> Response {
        do {
            return try inner.respond(to: request)
        } catch let error as APIError {
            return error.response
        } catch {
            onError(error, request)
            return APIError.internalError.response
        }
    }
}
