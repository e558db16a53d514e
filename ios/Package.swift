// swift-tools-version:6.0
// fieldsync for iOS and macOS: the Rust core as an XCFramework (a static library with its C header and
// module map) plus the `FieldSync` Swift library (the uniffi-generated API and the Swift layer over it).
//
// Swift 6 language mode, so strict concurrency is checked everywhere (our sources, the tests, and the
// generated `fieldsync_ffi.swift`, which uniffi 0.32 writes Swift-6-clean: see README.md, "Swift 6").
// Build the XCFramework and the generated Swift first, on a Mac: `./build-xcframework.sh` (see README.md).
import PackageDescription

let package = Package(
    name: "FieldSync",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "FieldSync", targets: ["FieldSync"]),
    ],
    targets: [
        // libfieldsync_ffi.a for iOS devices, the simulators and macOS; its headers declare the
        // `fieldsync_ffiFFI` Clang module that the generated Swift imports.
        .binaryTarget(name: "FieldSyncFFI", path: "FieldSyncFFI.xcframework"),
        // Sources/FieldSync/Generated/fieldsync_ffi.swift (generated) + the hand-written Swift layer.
        .target(
            name: "FieldSync",
            dependencies: ["FieldSyncFFI"],
            path: "Sources/FieldSync",
            linkerSettings: [
                // The Rust library's TLS certificate verification (rustls-platform-verifier) uses the
                // Security framework; its HTTP client reads the system proxy settings.
                .linkedFramework("Security"),
                .linkedFramework("SystemConfiguration"),
            ]
        ),
        .testTarget(
            name: "FieldSyncTests",
            dependencies: ["FieldSync"],
            path: "Tests/FieldSyncTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
