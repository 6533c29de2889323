import App
import ArgumentParser
import Foundation
import Logging

struct APICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Run the FastCGI worker pool that nginx forwards /api/ to.",
        discussion: """
            A supervisor listens on API_SOCKET and keeps API_WORKERS processes of API_THREADS \
            threads each. SIGHUP replaces the workers gracefully; SIGTERM stops accepting and \
            lets in-flight requests finish (up to API_DRAIN_TIMEOUT). A worker that dies is \
            replaced at once.
            """)

    func run() throws {
        let configuration = loadConfiguration()
        let logger = Logger(label: "api")
        do {
            try APIProcess.runSupervisor(configuration: configuration, workerArguments: ["api-worker"], logger: logger)
        } catch {
            fail("api: \(error)")
        }
    }
}

struct APIWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-worker",
        abstract: "One worker of the API pool (started by `miauflix api`).",
        shouldDisplay: false)

    @Option(help: "The inherited listening socket descriptor.")
    var listenFd: Int32

    func run() throws {
        let configuration = loadConfiguration(generateSecrets: false)
        let logger = Logger(label: "api-worker")
        do {
            try APIProcess.runWorker(configuration: configuration, listenFD: listenFd, logger: logger)
        } catch {
            fail("api-worker: \(error)")
        }
    }
}

struct EngineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Run the engine: the /api/stream/ endpoint on ENGINE_SOCKET and the background scheduler.")

    func run() async throws {
        let configuration = loadConfiguration()
        let logger = Logger(label: "engine")
        do {
            try await EngineProcess.run(configuration: configuration, logger: logger)
        } catch {
            fail("engine: \(error)")
        }
    }
}

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or upgrade the database (and the first admin on a new installation), then exit.")

    func run() throws {
        let configuration = loadConfiguration()
        do {
            let database = try configuration.openDatabase(maximumReaderCount: 1)
            let applied = try database.appliedMigrations()
            print("Database \(configuration.databasePath) is at migration \(applied.last ?? "none") (\(applied.count) applied).")
        } catch {
            fail("migrate: \(error)")
        }
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Inspect the configuration.",
        subcommands: [Check.self, Shell.self])

    struct Shell: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the non-secret settings the run scripts need, as shell assignments (MIAUFLIX_*=…).")

        func run() throws {
            let configuration = loadConfiguration()
            for (name, value) in StackSettings.assignments(configuration) {
                print("\(name)='\(value.replacingOccurrences(of: "'", with: "'\\''"))'")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every variable: ok, MISSING (required, the service runs degraded) or INVALID (start-up refuses). Secret values are never printed.")

        func run() throws {
            let values: [String: String]
            do {
                values = try ConfigurationLoader.merged(generateSecrets: false)
            } catch {
                fail("config check: \(error)")
            }
            let report = ConfigCheck.report(values: values)
            report.lines.forEach { print($0) }
            if !report.valid { throw ExitCode(1) }
        }
    }
}

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the field-encryption key.",
        subcommands: [Rotate.self])

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a new SOURCE_SECURITY_KEY and re-encrypt every encrypted column and stored secret in one transaction. Restart the stack afterwards (make run).")

        func run() throws {
            let configuration = loadConfiguration()
            let fromEnvironment = !(ProcessInfo.processInfo.environment["SOURCE_SECURITY_KEY"] ?? "").isEmpty
                || ((try? String(contentsOfFile: FileManager.default.currentDirectoryPath + "/.env", encoding: .utf8))
                    .map { DotEnv.parse($0).contains { $0.0 == "SOURCE_SECURITY_KEY" && !$0.1.isEmpty } } ?? false)
            do {
                let database = try configuration.openDatabase(maximumReaderCount: 1)
                let report = try KeyRotation.rotate(configuration: configuration, database: database, keyFromSecretsFile: !fromEnvironment)
                print("Re-encrypted \(report.databaseValues) database values and \(report.configSecrets) stored secrets.")
                if let key = report.keyToInstall {
                    print("SOURCE_SECURITY_KEY is set in your environment or .env: replace it with the new key now,")
                    print("then restart. New key (also in \(configuration.dataDirectory)/secrets.env.rotating):")
                    print(key)
                } else {
                    print("The new key is in \(configuration.dataDirectory)/secrets.env. Restart the stack: make run")
                }
            } catch {
                fail("keys rotate: \(error) (nothing was changed in the database)")
            }
        }
    }
}

struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Run catalog jobs now (the engine runs them on schedule).",
        subcommands: [RefreshLists.self])

    struct RefreshLists: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "refresh-lists",
            abstract: "Fetch every list from TMDB (up to 6 pages each) and replace its members atomically.")

        func run() throws {
            let configuration = loadConfiguration()
            do {
                let count = try CatalogJobs.refreshLists(configuration: configuration, logger: Logger(label: "catalog"))
                print("Refreshed \(count) list entries.")
            } catch {
                fail("catalog refresh-lists: \(error)")
            }
        }
    }
}

struct SourceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "source",
        abstract: "Attach BitTorrent sources to titles, and run the source jobs now.",
        subcommands: [Add.self, SearchNext.self, FetchFiles.self, Scrape.self])

    struct SearchNext: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "search-next", abstract: "Search the directories for the next due movie.")
        func run() throws {
            do {
                let searched = try SourceCommands.searchNext(configuration: loadConfiguration(), logger: Logger(label: "source"))
                print(searched ? "Searched one movie." : "No movie is due for a search.")
            } catch { fail("source search-next: \(error)") }
        }
    }

    struct FetchFiles: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "fetch-files", abstract: "Fetch missing .torrent files (directory URL, then caches).")
        @Option(help: "At most this many sources.") var limit = 20
        func run() throws {
            do {
                let runs = try SourceCommands.fetchFiles(configuration: loadConfiguration(), limit: limit, logger: Logger(label: "source"))
                print("Tried \(runs) sources.")
            } catch { fail("source fetch-files: \(error)") }
        }
    }

    struct Scrape: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "scrape", abstract: "Scrape SCRAPE_TRACKERS for the sources due.")
        func run() throws {
            do {
                let count = try SourceCommands.scrape(configuration: loadConfiguration(), logger: Logger(label: "source"))
                print("Scraped \(count) sources.")
            } catch { fail("source scrape: \(error)") }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Attach a .torrent file or a magnet link to a movie (fetched from TMDB if new).")

        @Option(name: .customLong("tmdb-id"), help: "The movie's TMDB id.") var tmdbId: Int
        @Option(help: "A .torrent file.") var torrent: String?
        @Option(help: "A magnet link.") var magnet: String?
        @Option(help: "SD, HD, FHD, 2K, 4K, 8K or 3D.") var quality: String?

        func run() throws {
            let configuration = loadConfiguration()
            do {
                let id = try SourceCommands.add(configuration: configuration, tmdbId: tmdbId, torrentPath: torrent, magnetLink: magnet,
                                                quality: quality, logger: Logger(label: "source"))
                print("Attached source \(id) to movie \(tmdbId).")
            } catch SourceCommands.Failure.duplicate {
                print("Source already attached to movie \(tmdbId).")
            } catch {
                fail("source add: \(error)")
            }
        }
    }
}
