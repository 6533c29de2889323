import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The main loop of a worker process: serve until SIGTERM/SIGINT or until the supervisor
/// is gone, then drain within `drainTimeout`.
public enum WorkerProcess {
    /// Runs `worker` and returns when it has stopped.
    public static func run(_ worker: FastCGIWorker, drainTimeout: Duration, logger: Logger) {
        // When the supervisor dies we are re-parented, so getppid() changes: drain and exit.
        let parent = getppid()
        worker.start()
        while true {
            let signal = Signals.wait(milliseconds: 500)
            if signal == SIGTERM || signal == SIGINT || getppid() != parent { break }
        }
        let stillBusy = worker.stop(timeout: drainTimeout)
        logger.info("worker drained", metadata: ["event": "worker_drained", "pid": "\(getpid())", "abandoned": "\(stillBusy)"])
    }
}
