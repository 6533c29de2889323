#if canImport(Glibc)
import Glibc
#endif

/// Signal plumbing shared by the supervisor and the workers.
///
/// Both block their control signals in every thread and read them synchronously with
/// `sigtimedwait` on one thread, so no Swift code runs inside a signal handler. The only
/// handler installed is an empty one for `SIGUSR2`, used to interrupt a worker thread's
/// blocking `accept` (installed without `SA_RESTART`, so `accept` returns `EINTR`).
public enum Signals {
    /// The signals the control loops read: TERM, INT, HUP, CHLD.
    public static var controlSet: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&set, signal) }
        return set
    }

    /// Blocks the control signals in the calling thread (and the threads it creates later).
    /// Call first thing in `main`, before any thread exists.
    public static func blockControlSignals() {
        var set = controlSet
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    /// Waits up to `milliseconds` for a control signal (which must be blocked); nil on timeout.
    public static func wait(milliseconds: Int) -> Int32? {
        var set = controlSet
        var timeout = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        let signal = sigtimedwait(&set, nil, &timeout)
        return signal > 0 ? signal : nil
    }

    /// Installs the empty `SIGUSR2` handler without `SA_RESTART`.
    static func installWakeHandler() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGUSR2, &action, nil)
    }
}
