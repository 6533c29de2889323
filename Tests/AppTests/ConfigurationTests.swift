import Foundation
import Testing
@testable import App

@Suite struct ConfigValueParserTests {
    @Test func durationsSizesBools() {
        #expect(ConfigValueParser.seconds("15m") == 900)
        #expect(ConfigValueParser.seconds("7d") == 604_800)
        #expect(ConfigValueParser.seconds("10") == nil)
        #expect(ConfigValueParser.seconds("-5s") == nil)
        #expect(ConfigValueParser.seconds("99999999999999999d") == nil, "overflow is invalid, not a crash")
        #expect(ConfigValueParser.bytes("20MB") == 20 << 20)
        #expect(ConfigValueParser.bytes("1kb") == 1024)
        #expect(ConfigValueParser.bytes("5B") == 5)
        #expect(ConfigValueParser.bytes("MB") == nil)
        #expect(ConfigValueParser.bool("Yes") == true)
        #expect(ConfigValueParser.bool("0") == false)
        #expect(ConfigValueParser.bool("maybe") == nil)
        #expect(ConfigValueParser.list(" a, ,b ,") == ["a", "b"])
    }

    @Test func problems() {
        #expect(ConfigValueParser.problem("ftp://x", kind: .url) != nil)
        #expect(ConfigValueParser.problem("http://tmdb-mock/3", kind: .url) == nil)
        #expect(ConfigValueParser.problem(Data(count: 31).base64EncodedString(), kind: .key32Base64) != nil)
        #expect(ConfigValueParser.problem(Data(count: 32).base64EncodedString(), kind: .key32Base64) == nil)
        #expect(ConfigValueParser.problem("21", kind: .int(1...20)) != nil)
    }
}

@Suite struct ConfigurationTests {
    @Test func defaultsOfTheReference() throws {
        let configuration = try Configuration(values: ["DATA_DIR": "/srv/data"])
        #expect(configuration.string("TMDB_API_URL") == "https://api.themoviedb.org/3")
        #expect(configuration.string("YTS_API_URL") == "https://yts.mx")
        #expect(configuration.seconds("ACCESS_TOKEN_EXPIRATION") == 900)
        #expect(configuration.seconds("REFRESH_TOKEN_EXPIRATION") == 604_800)
        #expect(configuration.string("ACCESS_TOKEN_COOKIE_NAME") == "__miauflix_at")
        #expect(configuration.int("MAX_DEVICE_SLOTS_PER_USER") == 5)
        #expect(configuration.bool("COOKIE_SECURE") == false)
        #expect(configuration.apiSocket == "/srv/data/run/api.sock")
        #expect(configuration.databasePath == "/srv/data/miauflix.sqlite")
        #expect(configuration.missingRequired.map(\.variable).contains("TMDB_API_ACCESS_TOKEN"))
    }

    @Test func invalidValuesNameTheVariable() {
        #expect(throws: ConfigurationError(variable: "ACCESS_TOKEN_EXPIRATION", problem: "expected <int><s|m|h|d>, e.g. 15m")) {
            try Configuration(values: ["ACCESS_TOKEN_EXPIRATION": "15 minutes"])
        }
        #expect(throws: ConfigurationError(variable: "REVERSE_PROXY_SECRET", problem: "must be at least 16 characters")) {
            try Configuration(values: ["REVERSE_PROXY_SECRET": "short"])
        }
    }

    @Test func configCheckNeverShowsSecrets() {
        let report = ConfigCheck.report(values: ["JWT_SECRET": "very-secret-jwt", "TMDB_API_ACCESS_TOKEN": "tok-123", "HTTPS_PORT": "0"])
        #expect(!report.valid)
        let text = report.lines.joined(separator: "\n")
        #expect(!text.contains("very-secret-jwt") && !text.contains("tok-123"))
        #expect(text.contains("ok       JWT_SECRET=(set)"))
        #expect(text.contains("INVALID  HTTPS_PORT"))
    }

    @Test func dotEnvParsing() {
        let parsed = DotEnv.parse("""
            # comment
            export A=1
            B = "two words"
            C='x=y'
            bad line
            1-BAD=3
            EMPTY=
            """)
        #expect(parsed.map(\.0) == ["A", "B", "C", "EMPTY"])
        #expect(parsed.map(\.1) == ["1", "two words", "x=y", ""])
    }

    @Test func autoSecretsAreGeneratedOncePrivateAndStable() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("miauflix-cfg-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = ["DATA_DIR": directory]
        let first = try ConfigurationLoader.load(environment: environment, workingDirectory: "/nonexistent")
        let second = try ConfigurationLoader.load(environment: environment, workingDirectory: "/nonexistent")
        #expect(first.string("JWT_SECRET").count == 64)
        #expect(first.string("JWT_SECRET") == second.string("JWT_SECRET"))
        #expect(Data(base64Encoded: first.string("SOURCE_SECURITY_KEY"))?.count == 32)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/secrets.env")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let explicit = try ConfigurationLoader.load(environment: environment.merging(["JWT_SECRET": "from-env"]) { $1 },
                                                    workingDirectory: "/nonexistent")
        #expect(explicit.string("JWT_SECRET") == "from-env", "the environment wins")
    }

    @Test func initialAdminEmail() {
        #expect(InitialAdmin.email(hostname: "NAS.home.lan") == "admin@nas.local")
        #expect(InitialAdmin.email(hostname: "") == "admin@miauflix.local")
        #expect(InitialAdmin.email(hostname: "we ird!") == "admin@weird.local")
    }

    @Test func nginxBodyLimitIsAboveTheAPIs() throws {
        let settings = Dictionary(uniqueKeysWithValues: StackSettings.assignments(try Configuration(values: ["API_MAX_BODY_SIZE": "1MB"])))
        #expect(settings["MIAUFLIX_API_MAX_BODY_BYTES"] == "1048576")
        #expect(settings["MIAUFLIX_NGINX_BODY_LIMIT"] == "2048k")
    }
}
