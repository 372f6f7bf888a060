// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "yidai",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "yidai", targets: ["yidai"]),
        .library(name: "LendingCore", targets: ["LendingCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.0"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/vapor/leaf.git", from: "4.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
    ],
    targets: [
        // The ZEN expression language of GoRules' JDM (zen-engine 2.1.3's answers, exact decimals). Foundation only.
        .target(name: "ZenEngine"),
        // Pure domain: money, loan mathematics, validation, state machine, decision graphs. Foundation only.
        .target(name: "LendingCore", dependencies: ["ZenEngine"]),
        // One protocol per outside service and its deterministic sandbox (the ID card OCR is a real engine, Tesseract;
        // the mini-program code's sandbox draws a plain QR code, so the QR encoder lives here too).
        .target(
            name: "Providers",
            dependencies: [
                "LendingCore",
                "CPangoCairo",
                "CQREncode",
                "CTesseract",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("SandboxCards")]
        ),
        // Tesseract 5 + leptonica from Debian (libtesseract-dev; tesseract-ocr-chi-sim at run time): the ID card OCR.
        .systemLibrary(name: "CTesseract", pkgConfig: "tesseract", providers: [.apt(["libtesseract-dev", "tesseract-ocr-chi-sim"])]),
        // pango + cairo from Debian (libpango1.0-dev libcairo2-dev; fonts-noto-cjk at run time): the contract PDF.
        .systemLibrary(name: "CPangoCairo", pkgConfig: "pangocairo", providers: [.apt(["libpango1.0-dev", "libcairo2-dev"])]),
        // libqrencode from Debian (libqrencode-dev): QR codes (the staff second factor's enrolment, managers' codes).
        .systemLibrary(name: "CQREncode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        // Brotli from Debian (libbrotli-dev): responses compressed with br when the client accepts it.
        .systemLibrary(name: "CBrotli", pkgConfig: "libbrotlienc", providers: [.apt(["libbrotli-dev"])]),
        // zlib from Debian (zlib1g-dev): responses gzipped from kept deflate streams (reset, not set up, per answer).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // jemalloc from Debian (libjemalloc-dev): the server's allocator (the `yidai` executable only), as Vapor's
        // deployment template links it; about 3 % less of the server's CPU per journey than glibc's (BENCHMARKS.md).
        .systemLibrary(name: "CJemalloc", pkgConfig: "jemalloc", providers: [.apt(["libjemalloc-dev"])]),
        // getrandom(2) for a whole buffer at once (header only): ids made from the system's random bytes, 256 per call.
        .systemLibrary(name: "CSystemRandom"),
        .target(
            name: "App",
            dependencies: [
                "LendingCore",
                "ZenEngine",
                "Providers",
                "CPangoCairo",
                "CQREncode",
                "CBrotli",
                "CZlib",
                "CSystemRandom",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Leaf", package: "leaf"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(name: "yidai", dependencies: ["App", "CJemalloc"]),
        .testTarget(name: "ZenEngineTests", dependencies: ["ZenEngine"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "LendingCoreTests",
            dependencies: [
                "LendingCore",
                "ZenEngine",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "ProvidersTests",
            dependencies: [
                "Providers",
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("OCRPhotos")]
        ),
        .testTarget(
            name: "AppTests",
            dependencies: [
                "App",
                "ZenEngine",
                .product(name: "VaporTesting", package: "vapor"),
            ]
        ),
    ]
)
