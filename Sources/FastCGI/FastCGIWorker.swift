// One worker process of the API pool: `threadCount` threads, each serving one FastCGI
// connection at a time (libfcgi's model).
//
// Why we call accept() ourselves instead of letting FCGX_Accept_r do it: libfcgi's accept
// loop cannot be told to stop (its SIGTERM handler only sets a flag that threads blocked in
// accept never see), and closing or shutting down the inherited listening socket would stop
// the whole pool, not just this worker. So each thread accepts on the shared socket, hands
// the connection to libfcgi through FCGX_Request.ipcFd (with keepConnection set so that
// FCGX_Accept_r's leading FCGX_Finish_r does not close it), and libfcgi parses the
// protocol. The request's listen socket is -1, so if libfcgi ever falls back to its own
// accept (after a protocol error) it fails at once instead of blocking. Graceful stop:
// set `stopping`, then interrupt every thread that is idle in accept() with SIGUSR2 until
// all threads have left; busy threads finish their request first.
//
// Concurrency: `lock` guards `slots` and `stopping`. pthread_kill is only sent while holding
// the lock and only to a thread whose slot says `.accepting`, so a thread that already has a
// connection is never interrupted in the middle of reading it.
import CFastCGI
import Foundation
import Logging
import WebCore
#if canImport(Glibc)
import Glibc
#endif

/// A worker process's thread pool over an inherited listening socket.
public final class FastCGIWorker: @unchecked Sendable {
    enum SlotState { case starting, accepting, busy, finished }

    struct Slot {
        var thread: pthread_t?
        var state: SlotState = .starting
    }

    let listenFD: Int32
    let threadCount: Int
    let mapper: FastCGIRequestMapper
    let responder: any Responder
    let logger: Logger
    let makeRequestID: @Sendable () -> String

    private let lock = NSLock()
    private var slots: [Slot]
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    /// Creates a worker; call `start()` to begin serving.
    public init(listenFD: Int32, threadCount: Int, mapper: FastCGIRequestMapper, responder: any Responder,
                logger: Logger, makeRequestID: @escaping @Sendable () -> String) {
        self.listenFD = listenFD
        self.threadCount = max(1, threadCount)
        self.mapper = mapper
        self.responder = responder
        self.logger = logger
        self.makeRequestID = makeRequestID
        self.slots = Array(repeating: Slot(), count: max(1, threadCount))
    }

    /// Initialises libfcgi and starts the threads.
    public func start() {
        FCGX_Init()
        // FCGX_Init installs a SIGTERM handler that only sets a flag; our control loop reads
        // SIGTERM with sigtimedwait instead, so restore the default disposition.
        signal(SIGTERM, SIG_DFL)
        signal(SIGPIPE, SIG_IGN)
        Signals.installWakeHandler()
        for index in 0..<threadCount {
            let thread = Thread { [self] in self.serve(slot: index) }
            thread.stackSize = 1 << 20
            thread.name = "fcgi-\(index)"
            thread.start()
        }
    }

    /// Stops accepting, lets in-flight requests finish, and returns when every thread has
    /// left or `timeout` has passed. Returns the number of threads still busy at the end.
    @discardableResult
    public func stop(timeout: Duration) -> Int {
        lock.withLock { stopping = true }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            let remaining: Int = lock.withLock {
                for slot in slots where slot.state == .accepting {
                    if let thread = slot.thread { pthread_kill(thread, SIGUSR2) }
                }
                return slots.filter { $0.state != .finished }.count
            }
            if remaining == 0 { return 0 }
            _ = finished.wait(timeout: .now() + .milliseconds(5))
        }
        return lock.withLock { slots.filter { $0.state == .busy }.count }
    }

    /// The body of each thread.
    private func serve(slot index: Int) {
        let request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        request.initialize(to: FCGX_Request())
        FCGX_InitRequest(request, -1, 0)
        defer {
            request.deallocate()
            lock.withLock { slots[index].state = .finished }
            finished.signal()
        }
        // The wake signal must reach this thread whatever mask its creator had (threads
        // created from Dispatch workers block almost everything).
        var wake = sigset_t()
        sigemptyset(&wake)
        sigaddset(&wake, SIGUSR2)
        pthread_sigmask(SIG_UNBLOCK, &wake, nil)
        lock.withLock { slots[index].thread = pthread_self() }

        while true {
            let shouldStop: Bool = lock.withLock {
                if stopping { return true }
                slots[index].state = .accepting
                return false
            }
            if shouldStop { return }

            // Workers never exec, so a missing close-on-exec flag cannot leak the descriptor.
            let fd = accept(listenFD, nil, nil)
            let acceptErrno = errno
            lock.withLock { slots[index].state = .busy }
            if fd < 0 {
                switch acceptErrno {
                case EINTR, EAGAIN, ECONNABORTED, EPROTO:
                    continue
                default:
                    logger.error("accept failed", metadata: ["event": "fcgi_accept_error", "errno": "\(acceptErrno)"])
                    usleep(10_000)
                    continue
                }
            }
            request.pointee.ipcFd = fd
            request.pointee.keepConnection = 1
            guard FCGX_Accept_r(request) >= 0 else { continue }
            handle(request)
            FCGX_Finish_r(request)
        }
    }

    private func handle(_ raw: UnsafeMutablePointer<FCGX_Request>) {
        let params = Self.params(of: raw)
        let suppliedID = params["REQUEST_ID"] ?? ""
        let requestID = RequestID.isValid(suppliedID) ? suppliedID : makeRequestID()
        var response: Response
        do {
            let request = try mapper.request(params: params, requestID: requestID) { count in
                Self.read(raw.pointee.in, count: count)
            }
            do {
                response = try responder.respond(to: request)
            } catch let error as APIError {
                response = error.response
            } catch {
                logger.error("handler error", metadata: ["event": "handler_error", "error": "\(type(of: error))"])
                response = APIError.internalError.response
            }
        } catch .bodyTooLarge {
            // Drain what nginx already sent (nginx's own limit bounds it) so nginx reads our
            // answer instead of failing its write with EPIPE.
            Self.discard(raw.pointee.in, limit: 64 << 20)
            response = APIError.payloadTooLarge(limit: mapper.maxBodyBytes).response
        } catch {
            response = APIError.handler(status: 400, message: "Malformed request body").response
        }
        if !response.headers.contains("X-Request-ID") { response.headers.add("X-Request-ID", requestID) }
        Self.write(response, to: raw.pointee.out)
    }

    /// The parameters the mapper reads: the CGI variables below and every `HTTP_*` header.
    /// nginx sends a dozen more (SERVER_*, SCRIPT_NAME, …) that we skip without making
    /// Strings of them; scanning is byte-wise because this runs for every request and
    /// Character-level String searching was the largest user-space cost in profiles.
    static let wantedParams: [[UInt8]] = ["REQUEST_METHOD", "REQUEST_URI", "DOCUMENT_URI", "QUERY_STRING",
                                          "CONTENT_TYPE", "CONTENT_LENGTH", "REMOTE_ADDR", "REQUEST_ID"].map { Array($0.utf8) }

    static func isWanted(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        for wanted in wantedParams where wanted.count == name.count {
            if wanted.withUnsafeBufferPointer({ memcmp($0.baseAddress!, name.baseAddress!, name.count) == 0 }) { return true }
        }
        return false
    }

    static func params(of raw: UnsafeMutablePointer<FCGX_Request>) -> [String: String] {
        var result: [String: String] = [:]
        result.reserveCapacity(24)
        guard var cursor = raw.pointee.envp else { return result }
        while let entry = cursor.pointee {
            cursor += 1
            let length = strlen(entry)
            entry.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                let buffer = UnsafeBufferPointer(start: bytes, count: length)
                guard let eq = buffer.firstIndex(of: UInt8(ascii: "=")) else { return }
                let name = UnsafeBufferPointer(rebasing: buffer[..<eq])
                let isHeader = name.count > 5 && name[0] == 72 && name[1] == 84 && name[2] == 84 && name[3] == 80 && name[4] == 95
                guard isHeader || isWanted(name) else { return }
                result[String(decoding: name, as: UTF8.self)] =
                    String(decoding: UnsafeBufferPointer(rebasing: buffer[(eq + 1)...]), as: UTF8.self)
            }
        }
        return result
    }

    static func read(_ stream: UnsafeMutablePointer<FCGX_Stream>?, count: Int) -> [UInt8] {
        guard let stream, count > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = buffer.withUnsafeMutableBufferPointer { pointer in
                pointer.baseAddress!.advanced(by: filled).withMemoryRebound(to: CChar.self, capacity: count - filled) {
                    FCGX_GetStr($0, Int32(count - filled), stream)
                }
            }
            if n <= 0 { break }
            filled += Int(n)
        }
        return filled == count ? buffer : Array(buffer[0..<filled])
    }

    static func discard(_ stream: UnsafeMutablePointer<FCGX_Stream>?, limit: Int) {
        guard let stream else { return }
        var scratch = [CChar](repeating: 0, count: 64 * 1024)
        var total = 0
        while total < limit {
            let n = FCGX_GetStr(&scratch, Int32(scratch.count), stream)
            if n <= 0 { return }
            total += Int(n)
        }
    }

    /// Writes head and body with one libfcgi call.
    static func write(_ response: Response, to stream: UnsafeMutablePointer<FCGX_Stream>?) {
        guard let stream else { return }
        var bytes = FastCGIRequestMapper.encodedHead(for: response, reservingBody: response.body.count)
        bytes.append(contentsOf: response.body)
        bytes.withUnsafeMutableBufferPointer { pointer in
            pointer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: pointer.count) {
                _ = FCGX_PutStr($0, Int32(pointer.count), stream)
            }
        }
    }
}
