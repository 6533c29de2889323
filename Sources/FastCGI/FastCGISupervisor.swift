// The API pool's parent process. It owns the listening socket and keeps `workerCount`
// worker processes alive; it never serves a request itself.
//
// Workers are started with posix_spawn of our own executable (never a bare fork of a
// multi-threaded Swift process) and inherit the listening descriptor. Signals, read
// synchronously with sigtimedwait:
//   SIGCHLD        reap; a worker that exited without being asked is logged and replaced
//                  at once (crash loops back off to one start per second)
//   SIGHUP         start a fresh set of workers, then ask the old ones to drain (SIGTERM)
//   SIGTERM/INT    ask every worker to drain, wait (bounded), SIGKILL stragglers, unlink
//                  the socket, return
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Supervises a pool of FastCGI worker processes on one listening socket.
public final class FastCGISupervisor {
    /// How to start one worker.
    public struct WorkerCommand: Sendable {
        /// Absolute path of the executable.
        public var executable: String
        /// Arguments after argv[0]; `--listen-fd N` is appended.
        public var arguments: [String]

        /// Creates a command.
        public init(executable: String, arguments: [String]) {
            self.executable = executable
            self.arguments = arguments
        }
    }

    let socketPath: String
    let workerCount: Int
    let command: WorkerCommand
    let drainTimeout: Duration
    let logger: Logger

    private var listenFD: Int32 = -1
    private var active: [pid_t: ContinuousClock.Instant] = [:]
    private var retiring: [pid_t: ContinuousClock.Instant] = [:]
    private var recentCrashes: [ContinuousClock.Instant] = []
    private var nextStartAllowed = ContinuousClock.now

    /// Creates a supervisor.
    public init(socketPath: String, workerCount: Int, command: WorkerCommand, drainTimeout: Duration, logger: Logger) {
        self.socketPath = socketPath
        self.workerCount = max(1, workerCount)
        self.command = command
        self.drainTimeout = drainTimeout
        self.logger = logger
    }

    /// Opens the socket, runs the pool until SIGTERM/SIGINT, then drains. The caller must
    /// have blocked the control signals (`Signals.blockControlSignals()`) before any thread
    /// was created.
    public func run() throws {
        listenFD = try ListeningSocket.open(path: socketPath)
        logger.info("api pool listening", metadata: [
            "event": "api_listening", "socket": "\(socketPath)", "workers": "\(workerCount)",
        ])
        fillPool()
        while true {
            let signal = Signals.wait(milliseconds: 200)
            reap()
            switch signal {
            case SIGTERM, SIGINT:
                shutdown()
                return
            case SIGHUP:
                reload()
            default:
                break
            }
            killOverdueRetirees()
            fillPool()
        }
    }

    private func fillPool() {
        while active.count < workerCount {
            let now = ContinuousClock.now
            if now < nextStartAllowed { return }
            guard let pid = spawn() else {
                nextStartAllowed = now.advanced(by: .seconds(1))
                return
            }
            active[pid] = now
            logger.info("worker started", metadata: ["event": "worker_start", "pid": "\(pid)"])
        }
    }

    private func reload() {
        logger.info("reloading workers", metadata: ["event": "api_reload", "workers": "\(active.count)"])
        let old = active
        active = [:]
        nextStartAllowed = .now
        fillPool()
        for pid in old.keys {
            retiring[pid] = .now
            kill(pid, SIGTERM)
        }
    }

    private func shutdown() {
        logger.info("stopping api pool", metadata: ["event": "api_stopping", "workers": "\(active.count)"])
        for pid in active.keys {
            retiring[pid] = .now
            kill(pid, SIGTERM)
        }
        active = [:]
        let deadline = ContinuousClock.now.advanced(by: drainTimeout + .seconds(2))
        while !retiring.isEmpty && ContinuousClock.now < deadline {
            _ = Signals.wait(milliseconds: 50)
            reap()
        }
        for pid in retiring.keys {
            logger.warning("worker did not drain in time", metadata: ["event": "worker_kill", "pid": "\(pid)"])
            kill(pid, SIGKILL)
        }
        while !retiring.isEmpty {
            _ = Signals.wait(milliseconds: 50)
            reap()
        }
        close(listenFD)
        unlink(socketPath)
        logger.info("api pool stopped", metadata: ["event": "api_stopped"])
    }

    private func killOverdueRetirees() {
        let limit = ContinuousClock.now - (drainTimeout + .seconds(2))
        for (pid, since) in retiring where since < limit {
            kill(pid, SIGKILL)
        }
    }

    private func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
            let signal = (status & 0x7f) != 0 ? status & 0x7f : 0
            if retiring.removeValue(forKey: pid) != nil {
                logger.info("worker stopped", metadata: ["event": "worker_stop", "pid": "\(pid)", "exit": "\(exitCode)"])
            } else if active.removeValue(forKey: pid) != nil {
                logger.error("worker died; replacing it", metadata: [
                    "event": "worker_crash", "pid": "\(pid)", "exit": "\(exitCode)", "signal": "\(signal)",
                ])
                noteCrash()
            }
        }
    }

    /// More than `workerCount * 3` crashes within 10 s means a crash loop: slow restarts to
    /// one per second instead of spinning.
    private func noteCrash() {
        let now = ContinuousClock.now
        recentCrashes = recentCrashes.filter { $0 > now.advanced(by: .seconds(-10)) } + [now]
        if recentCrashes.count > workerCount * 3 {
            nextStartAllowed = now.advanced(by: .seconds(1))
        }
    }

    private func spawn() -> pid_t? {
        let arguments = [command.executable] + command.arguments + ["--listen-fd", String(listenFD)]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var envp: [UnsafeMutablePointer<CChar>?] = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = Signals.controlSet
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var pid: pid_t = 0
        let result = posix_spawn(&pid, command.executable, nil, &attributes, &argv, &envp)
        guard result == 0 else {
            logger.error("cannot start worker", metadata: ["event": "worker_spawn_error", "error": "\(String(cString: strerror(result)))"])
            return nil
        }
        return pid
    }
}
