import App
import ArgumentParser
import FastCGI
@preconcurrency import Foundation
@preconcurrency import Glibc
import Logging

/// Entry point. The control signals (TERM, INT, HUP, CHLD) are blocked on the main thread
/// before any other thread exists, so every thread inherits the mask and the supervisor,
/// the workers and the engine can read them synchronously. `main` is deliberately not
/// `async`: an async main runs on a runtime thread, leaving the main thread's mask open
/// and SIGTERM's default action (kill) in force.
@main
enum MiauflixMain {
    static func main() {
        Signals.blockControlSignals()
        setvbuf(stdout, nil, _IOLBF, 0)
        // Everything we create (database, secrets, logs) is private unless made otherwise
        // on purpose (the sockets nginx connects to are chmod 0666 explicitly).
        umask(0o077)
        do {
            var command = try Miauflix.parseAsRoot()
            if let asyncCommand = command as? any AsyncParsableCommand {
                let box = AsyncCommandBox(command: asyncCommand)
                let done = DispatchSemaphore(value: 0)
                Task.detached {
                    await box.run()
                    done.signal()
                }
                done.wait()
                if let error = box.error { Miauflix.exit(withError: error) }
            } else {
                try command.run()
            }
        } catch {
            Miauflix.exit(withError: error)
        }
    }
}

/// Carries a parsed async command into the task that runs it, and its error back out.
final class AsyncCommandBox: @unchecked Sendable {
    var command: any AsyncParsableCommand
    var error: (any Error)?

    init(command: any AsyncParsableCommand) { self.command = command }

    func run() async {
        do { try await command.run() } catch { self.error = error }
    }
}

struct Miauflix: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "miauflix",
        abstract: "Self-hosted streaming: the API worker pool, the torrent engine and admin tools.",
        discussion: """
            Configuration comes from the environment, ./.env and DATA_DIR/secrets.env \
            (generated on first start). See `miauflix config check`.
            """,
        subcommands: [APICommand.self, APIWorkerCommand.self, EngineCommand.self, MigrateCommand.self,
                      UserCommand.self, ConfigCommand.self, KeysCommand.self, CatalogCommand.self, SourceCommand.self, QRCommand.self])
}

/// Loads the configuration, or exits with a one-line error naming the variable.
func loadConfiguration(generateSecrets: Bool = true) -> App.Configuration {
    do {
        let configuration = try ConfigurationLoader.load(generateSecrets: generateSecrets)
        KeyValueLogHandler.bootstrap(level: configuration.string("LOG_LEVEL"))
        return configuration
    } catch let error as ConfigurationError {
        FileHandle.standardError.write(Data("miauflix: invalid configuration: \(error)\n".utf8))
        exit(78)
    } catch {
        FileHandle.standardError.write(Data("miauflix: cannot load configuration: \(error)\n".utf8))
        exit(78)
    }
}

/// Prints a one-line error and exits with status 1.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("miauflix: \(message)\n".utf8))
    exit(1)
}
