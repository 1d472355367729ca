import Foundation
import Testing
@testable import GoneTrace

/// Collects decoded events for assertions.
struct CollectingSink: EventSink {
  var events: [LogEvent] = []
  var diagnostics: [Diagnostic] = []
  mutating func accept(_ event: RawEvent) { events.append(LogEvent(event)) }
  mutating func report(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }
}

enum Fixture {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
  static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// A fresh temporary directory for one test.
  static func directory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("gonetrace-test-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  @discardableResult
  static func write(_ text: String, to url: URL) -> URL {
    try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try! Data(text.utf8).write(to: url)
    return url
  }

  static func write(bytes: [UInt8], to url: URL) -> URL {
    try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try! Data(bytes).write(to: url)
    return url
  }

  /// gzip through the system's `gzip`, independent of the zlib code under test.
  static func gzip(_ text: String) -> [UInt8] {
    let result = run("/bin/gzip", ["-c", "-n"], stdin: Data(text.utf8))
    return [UInt8](result.stdout)
  }

  struct RunResult {
    var status: Int32
    var stdout: Data
    var stderr: String
    var out: String { String(decoding: stdout, as: UTF8.self) }
  }

  static func run(
    _ executable: String, _ arguments: [String], stdin: Data? = nil, cwd: URL? = nil, environment: [String: String]? = nil
  ) -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let cwd { process.currentDirectoryURL = cwd }
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    try! process.run()
    if let stdin {
      input.fileHandleForWriting.write(stdin)
      try? input.fileHandleForWriting.close()
    }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return RunResult(status: process.terminationStatus, stdout: o, stderr: String(decoding: e, as: UTF8.self))
  }

  /// The `gonetrace` executable built next to the test bundle.
  static var binary: String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
      let candidate = dir.appendingPathComponent("gonetrace").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      dir = dir.deletingLastPathComponent()
    }
    return repo.appendingPathComponent(".build/debug/gonetrace").path
  }

  static func gonetrace(
    _ arguments: [String], stdin: Data? = nil, cwd: URL? = nil, environment: [String: String]? = nil
  ) -> RunResult {
    run(binary, arguments, stdin: stdin, cwd: cwd, environment: environment)
  }
}

/// Decodes one file and returns its events, diagnostics and summary.
func decode(_ url: URL, format: EnvelopeFormat? = nil) throws -> (CollectingSink, InputSummary) {
  var sink = CollectingSink()
  let input = Input(name: url.path, path: url.path, streamFromPath: InputResolver.exportStream(of: url.path))
  let summary = try EnvelopeReader.read(input, index: 0, forcedFormat: format, into: &sink)
  return (sink, summary)
}

func decode(text: String, name: String = "input.log", format: EnvelopeFormat? = nil) throws -> (CollectingSink, InputSummary) {
  try decode(Fixture.write(text, to: Fixture.directory().appendingPathComponent(name)), format: format)
}

func ms(_ iso: String) -> EpochMillis { Timestamp.parseAny(iso)! }
