import API
import FastCGI
import Foundation
import Logging
import Persistence
import WebCore

/// `miauflix api`: the FastCGI supervisor and its worker processes.
public enum APIProcess {
    /// Runs the supervisor until SIGTERM/SIGINT. Migrates (and creates the first admin)
    /// before any worker starts, so workers never race on an empty database.
    public static func runSupervisor(configuration: Configuration, workerArguments: [String], logger: Logger) throws {
        _ = try configuration.openDatabase(maximumReaderCount: 1)
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        let supervisor = FastCGISupervisor(
            socketPath: configuration.apiSocket,
            workerCount: configuration.apiWorkers,
            command: .init(executable: executable, arguments: workerArguments),
            drainTimeout: .seconds(configuration.seconds("API_DRAIN_TIMEOUT")),
            logger: logger)
        try supervisor.run()
    }

    /// Runs one worker process on the inherited socket `listenFD`.
    public static func runWorker(configuration: Configuration, listenFD: Int32, logger: Logger) throws {
        let threads = configuration.int("API_THREADS")
        let database = try AppDatabase.open(path: configuration.databasePath, maximumReaderCount: max(2, threads))
        let responder = APIRoutes.makeResponder(APIEnvironment(
            status: ConfigStatusProvider(configuration: configuration, database: database),
            logger: logger))
        let secret = configuration.string("REVERSE_PROXY_SECRET")
        let worker = FastCGIWorker(
            listenFD: listenFD, threadCount: threads,
            mapper: FastCGIRequestMapper(maxBodyBytes: configuration.bytes("API_MAX_BODY_SIZE"),
                                         proxySecret: secret.isEmpty ? nil : secret),
            responder: responder, logger: logger,
            makeRequestID: {
                var generator = SystemRandomNumberGenerator()
                return RequestID.make(using: &generator)
            })
        WorkerProcess.run(worker, drainTimeout: .seconds(configuration.seconds("API_DRAIN_TIMEOUT")), logger: logger)
    }
}
