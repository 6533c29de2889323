// swift-tools-version:6.0
//
// Miauflix: self-hosted streaming. Module layering (docs/architecture.md):
//   L0 pure logic      WebCore, Domain, Bencode, BitTorrentCore, BitTorrentProtocol, SwarmLogic, SourceLogic
//   L1 I/O adapters    Crypto, HTTPClient, Persistence, FastCGI, SharedMemory, Catalog, TorrentEngine, Scheduler
//   L2 features        API, StreamServer
//   L3 composition     App
//   L4 executable      MiauflixCLI (product `miauflix`)
// A module imports only lower layers, never a sibling of its own layer.
import PackageDescription

let package = Package(
    name: "Miauflix",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "miauflix", targets: ["MiauflixCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    ],
    targets: [
        // System libraries (Debian -dev packages).
        .systemLibrary(name: "CFastCGI", path: "Sources/CFastCGI",
                       pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL",
                       pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl",
                       pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CArgon2", path: "Sources/CArgon2",
                       pkgConfig: "libargon2", providers: [.apt(["libargon2-dev"])]),

        // L0
        .target(name: "WebCore", exclude: ["README.md"]),
        .target(name: "Domain", exclude: ["README.md"]),
        .target(name: "Bencode", exclude: ["README.md"]),
        .target(name: "BitTorrentCore", dependencies: ["Bencode"], exclude: ["README.md"]),
        .target(name: "BitTorrentProtocol", dependencies: ["Bencode", "BitTorrentCore"], exclude: ["README.md"]),
        .target(name: "SwarmLogic", dependencies: ["BitTorrentCore", "BitTorrentProtocol"], exclude: ["README.md"]),
        .target(name: "SourceLogic", exclude: ["README.md"]),
        .target(name: "QRCode", exclude: ["README.md"]),

        // L1
        .target(name: "Crypto", dependencies: ["COpenSSL", "CArgon2"], exclude: ["README.md"]),
        .target(name: "HTTPClient", dependencies: ["CCurl", .product(name: "Logging", package: "swift-log")], exclude: ["README.md"]),
        .target(name: "Persistence", dependencies: [
            .product(name: "Logging", package: "swift-log"),
            "Domain",
            .product(name: "GRDB", package: "GRDB.swift"),
        ], exclude: ["README.md"]),
        .target(name: "FastCGI", dependencies: [
            "CFastCGI", "WebCore",
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["README.md"]),
        .target(name: "TorrentEngine", dependencies: [
            "BitTorrentCore", "BitTorrentProtocol", "SwarmLogic", "Crypto",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["README.md"]),
        .target(name: "Catalog", dependencies: [
            "Domain", "HTTPClient", "SourceLogic", .product(name: "Logging", package: "swift-log"),
        ], exclude: ["README.md"]),
        .target(name: "SharedMemory", dependencies: ["WebCore"], exclude: ["README.md"]),
        .target(name: "Scheduler", dependencies: [
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["README.md"]),

        // L2
        .target(name: "API", dependencies: [
            "WebCore", "Domain", "Crypto", "Persistence", "Catalog", "BitTorrentCore", "SourceLogic", "QRCode",
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["README.md"]),
        .target(name: "StreamServer", dependencies: [
            "WebCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["README.md"]),

        // L3
        .target(name: "App", dependencies: [
            "WebCore", "Domain", "Crypto", "HTTPClient", "Persistence", "FastCGI",
            "Scheduler", "SharedMemory", "Catalog", "API", "StreamServer", "TorrentEngine", "BitTorrentCore", "SourceLogic",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], exclude: ["README.md"]),

        // L4
        .executableTarget(name: "MiauflixCLI", dependencies: [
            "QRCode",
            "App",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["README.md"]),

        // Benchmark helper for bench/codec.sh (not part of the product).
        .executableTarget(name: "CodecBench", dependencies: ["Bencode", "BitTorrentProtocol"]),

        .testTarget(name: "WebCoreTests", dependencies: ["WebCore"]),
        .testTarget(name: "DomainTests", dependencies: ["Domain"]),
        .testTarget(name: "BencodeTests", dependencies: ["Bencode"]),
        .testTarget(name: "SwarmLogicTests", dependencies: ["SwarmLogic", "BitTorrentCore", "BitTorrentProtocol"]),
        .testTarget(name: "SourceLogicTests", dependencies: ["SourceLogic"]),
        .testTarget(name: "QRCodeTests", dependencies: ["QRCode"]),
        .testTarget(name: "BitTorrentProtocolTests", dependencies: ["BitTorrentProtocol", "BitTorrentCore", "Bencode", "Crypto"], exclude: ["Fixtures"]),
        .testTarget(name: "BitTorrentCoreTests", dependencies: ["BitTorrentCore", "Bencode", "Crypto"], exclude: ["Fixtures"]),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto"]),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "PersistenceTests", dependencies: [
            "Persistence", "Domain", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "FastCGITests", dependencies: [
            "FastCGI", "WebCore", "CFastCGI", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "TorrentEngineTests", dependencies: ["TorrentEngine", "BitTorrentCore", "Bencode", "Crypto"]),
        .testTarget(name: "CatalogTests", dependencies: ["Catalog", "Domain", "HTTPClient", "SourceLogic",
                                                        .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "SharedMemoryTests", dependencies: ["SharedMemory", "WebCore"]),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "APITests", dependencies: [
            "API", "WebCore", "Persistence", "Domain", "Crypto", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "StreamServerTests", dependencies: [
            "StreamServer", "WebCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "AppTests", dependencies: [
            "App", "Persistence", "Catalog", "Domain", "Crypto", .product(name: "Logging", package: "swift-log"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
