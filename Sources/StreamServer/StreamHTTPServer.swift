import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import WebCore
#if canImport(Glibc)
import Glibc
#endif

/// The engine's HTTP/1.1 server on a unix socket, behind nginx's `/api/stream/` location.
public final class StreamHTTPServer: Sendable {
    let channel: any Channel
    /// The socket path.
    public let socketPath: String

    private init(channel: any Channel, socketPath: String) {
        self.channel = channel
        self.socketPath = socketPath
    }

    /// Binds `socketPath` (replacing a stale socket file; mode 0666 so nginx's workers can
    /// connect) and starts serving `responder`.
    public static func start(socketPath: String, responder: any Responder, resolver: (any StreamResolver)? = nil, group: any EventLoopGroup,
                             makeRequestID: @escaping @Sendable () -> String) async throws -> StreamHTTPServer {
        unlink(socketPath)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        StreamHTTPHandler(responder: responder, resolver: resolver, makeRequestID: makeRequestID))
                }
            }
        let channel = try await bootstrap.bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true).get()
        chmod(socketPath, 0o666)
        return StreamHTTPServer(channel: channel, socketPath: socketPath)
    }

    /// Stops accepting and closes the listening socket.
    public func stop() async {
        try? await channel.close()
        unlink(socketPath)
    }
}
