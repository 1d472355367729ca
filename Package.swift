// swift-tools-version: 6.0
import Foundation
import PackageDescription

// The executable links mimalloc (Sources/gonetrace/ProcessAllocator.swift), except in builds that
// bring their own allocator: AddressSanitizer's replaces malloc anyway, and with mimalloc loaded
// too its leak checker reported the runtime's caches as leaks (scripts/test-asan sets this).
let systemMalloc = ProcessInfo.processInfo.environment["GONETRACE_SYSTEM_MALLOC"] != nil

let package = Package(
  name: "gonetrace",
  products: [
    .executable(name: "gonetrace", targets: ["gonetrace"]),
    .library(name: "GoneTrace", targets: ["GoneTrace"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
  ],
  targets: [
    // C libraries through pkg-config; the shims exist because Swift cannot import
    // PCRE2's function-like macros or its cast constants (see swift-and-pcre2.md, B2).
    .systemLibrary(
      name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
    // ISA-L's igzip inflates gzip inputs and subscription payloads (Source/Inflater.swift).
    .systemLibrary(name: "CIsal", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),
    // glibc's mallinfo2 (no library to link: it is libc), for the library's memory trace.
    .systemLibrary(name: "CMalloc"),
    // mimalloc, the executable's allocator (Sources/gonetrace/ProcessAllocator.swift says why).
    .systemLibrary(name: "CMimalloc", providers: [.apt(["libmimalloc-dev"])]),
    .target(name: "GoneTrace", dependencies: ["CPCRE2", "CIsal", "CMalloc"]),
    .executableTarget(
      name: "gonetrace",
      dependencies: [
        "GoneTrace",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ] + (systemMalloc ? [] : ["CMimalloc"])),
    .testTarget(
      name: "GoneTraceTests", dependencies: ["GoneTrace"], exclude: ["Fixtures"]),
  ],
  swiftLanguageModes: [.v6]
)
