import App
import ArgumentParser
import Crypto
import Domain
import Foundation
import Persistence

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage accounts (admins can also do this in the web UI).",
        subcommands: [Create.self, List.self, SetRole.self, ResetPassword.self, Disable.self, Enable.self])

    static func open() -> AppDatabase {
        do {
            return try loadConfiguration().openDatabase(maximumReaderCount: 1)
        } catch {
            fail("cannot open the database: \(error)")
        }
    }

    /// Reads a password from stdin (one line), or generates one and says so.
    static func password(fromStdin: Bool, email: String) -> (password: String, generated: Bool) {
        if fromStdin {
            let line = readLine(strippingNewline: true) ?? ""
            if let problem = PasswordPolicy.violation(password: line, email: email) { fail(problem) }
            return (line, false)
        }
        return (PasswordPolicy.generate { SecureRandom.index(below: $0) }, true)
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user; prints a generated password unless --password-stdin is given.")

        @Argument(help: "The sign-in e-mail.") var email: String
        @Option(help: "admin, user or guest.") var role: String = "user"
        @Flag(help: "Read the password from the first line of stdin.") var passwordStdin = false

        func run() throws {
            guard EmailAddress.isValid(email) else { fail("invalid e-mail address: \(email)") }
            guard let role = Role(rawValue: role) else { fail("unknown role \(role) (admin, user or guest)") }
            let database = UserCommand.open()
            let (password, generated) = UserCommand.password(fromStdin: passwordStdin, email: email)
            do {
                try database.createUser(email: email, passwordHash: PasswordHasher().hash(password), role: role, now: Date())
            } catch UserStoreError.duplicateEmail {
                fail("User already exists: \(email)")
            }
            print("Created \(role.rawValue) \(email)" + (generated ? " with password: \(password)" : ""))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users: e-mail, role, state.")

        func run() throws {
            for user in try UserCommand.open().users() {
                print("\(user.email)\t\(user.role.rawValue)\t\(user.disabled ? "disabled" : "active")")
            }
        }
    }

    struct SetRole: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-role", abstract: "Change a user's role.")

        @Argument(help: "The user's e-mail.") var email: String
        @Argument(help: "admin, user or guest.") var role: String

        func run() throws {
            guard let role = Role(rawValue: role) else { fail("unknown role \(role) (admin, user or guest)") }
            do {
                try UserCommand.open().setRole(email: email, role: role, now: Date())
            } catch UserStoreError.notFound {
                fail("no user \(email)")
            }
            print("\(email) is now \(role.rawValue)")
        }
    }

    struct ResetPassword: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Set a new password (generated unless --password-stdin) and sign the user out everywhere.")

        @Argument(help: "The user's e-mail.") var email: String
        @Flag(help: "Read the password from the first line of stdin.") var passwordStdin = false

        func run() throws {
            let database = UserCommand.open()
            let (password, generated) = UserCommand.password(fromStdin: passwordStdin, email: email)
            do {
                try database.setPasswordHash(email: email, passwordHash: PasswordHasher().hash(password), now: Date())
            } catch UserStoreError.notFound {
                fail("no user \(email)")
            }
            print("Password of \(email) changed" + (generated ? "; new password: \(password)" : ""))
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user and end their sessions.")
        @Argument(help: "The user's e-mail.") var email: String

        func run() throws {
            do { try UserCommand.open().setDisabled(email: email, disabled: true, now: Date()) } catch UserStoreError.notFound { fail("no user \(email)") }
            print("\(email) disabled")
        }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Re-enable a disabled user.")
        @Argument(help: "The user's e-mail.") var email: String

        func run() throws {
            do { try UserCommand.open().setDisabled(email: email, disabled: false, now: Date()) } catch UserStoreError.notFound { fail("no user \(email)") }
            print("\(email) enabled")
        }
    }
}
