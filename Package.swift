// swift-tools-version: 6.0
import PackageDescription

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
    // glibc's mallopt (no library to link: it is libc).
    .systemLibrary(name: "CMalloc"),
    .target(name: "GoneTrace", dependencies: ["CPCRE2", "CIsal", "CMalloc"]),
    .executableTarget(
      name: "gonetrace",
      dependencies: [
        "GoneTrace",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .testTarget(
      name: "GoneTraceTests", dependencies: ["GoneTrace"], exclude: ["Fixtures"]),
  ],
  swiftLanguageModes: [.v6]
)
