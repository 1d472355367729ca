import Foundation
import Testing
@testable import GoneTrace

#if canImport(Glibc)
import Glibc
#endif

/// Issue #5: hostile and broken input. Each test takes a copy of samples/ (15 inputs, 29 known
/// 410s: lines, tail, cli-json, an S3 export; generated from the real formats of
/// shared/reference/log-formats.md, truth in Fixtures/samples/expected.jsonl), breaks it in one
/// way, and checks (a) the diagnostic names the input and the line or record, and (b) the 410s
/// of the good part are still all found: the verdicts equal those of the clean copy.
@Suite struct HostileInputTests {
  static let samples = Fixture.repo.appendingPathComponent("samples")

  /// What identifies a verdict across runs.
  static func key(_ v: Verdict) -> String {
    "\(Timestamp.format(v.time)) \(v.operation ?? "-") \(v.connectionId ?? "-") "
      + "\(v.cause.rawValue)/\(v.detail.rawValue) \(v.newConnectionId ?? "-")"
  }

  static func analyze(_ paths: [String], options: AnalysisOptions = AnalysisOptions()) -> Analysis {
    Analyzer.run(paths: paths, options: options)
  }

  /// The verdicts of the clean samples, and the text of their evidence.
  static let clean = analyze([samples.path])
  static let baseline: [String] = clean.verdicts.map(key)

  /// The events of a `filter-log-events` file of several appended pages (as samples' execution log).
  static func pages(_ url: URL) throws -> [Any] {
    let text = String(decoding: bytes(url), as: UTF8.self)
    return try text.components(separatedBy: "\n}\n{").enumerated().flatMap { i, part -> [Any] in
      let doc = (i == 0 ? "" : "{") + part + (part.hasSuffix("}\n") || part.hasSuffix("}") ? "" : "}")
      let page = try JSONSerialization.jsonObject(with: Data(doc.utf8)) as! [String: Any]
      return page["events"] as! [Any]
    }
  }

  /// A fresh copy of samples/.
  static func copySamples() -> URL {
    let dir = Fixture.directory().appendingPathComponent("samples")
    try! FileManager.default.copyItem(at: samples, to: dir)
    return dir
  }

  static func bytes(_ url: URL) -> [UInt8] { [UInt8](try! Data(contentsOf: url)) }

  /// Inserts `line` (no newline) so that it becomes line `number` of the file.
  static func insert(_ line: [UInt8], into url: URL, asLine number: Int) {
    var lines = bytes(url).split(separator: Bytes.newline, omittingEmptySubsequences: false).map(Array.init)
    lines.insert(line, at: number - 1)
    _ = Fixture.write(bytes: Array(lines.joined(separator: [Bytes.newline])), to: url)
  }

  static func lineCount(_ url: URL) -> Int { bytes(url).filter { $0 == Bytes.newline }.count }

  /// The verdicts equal the clean run's and no input failed.
  static func expectAllFound(_ a: Analysis, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.inputErrors.isEmpty, "\(a.inputErrors)", sourceLocation: sourceLocation)
    #expect(baseline.count == 29, sourceLocation: sourceLocation)
    #expect(a.verdicts.map(key) == baseline, sourceLocation: sourceLocation)
  }

  static func diagnostic(
    _ a: Analysis, _ input: URL, line: Int? = nil, _ text: String
  ) -> Diagnostic? {
    a.diagnostics.first { $0.input == input.path && $0.message.contains(text) && (line == nil || $0.line == line) }
  }

  static func summary(_ a: Analysis, _ input: URL) -> InputSummary? { a.inputs.first { $0.name == input.path } }

  static let lambdaPrefix = "2024-05-09T10:02:40.030Z 2024-05-09T10:02:40.030Z\tfc553be8-0626-46ac-a2e3-8adc0c30810b\tINFO\t"

  // MARK: - Point 2: survive, with a diagnostic, without losing the good events around it

  @Test func invalidUTF8IsReadAsBytesAndNamed() {
    let dir = Self.copySamples()
    let log = dir.appendingPathComponent("lambda-chat-message.log")
    // A message with stray Latin-1, a truncated sequence and an encoded surrogate, then the same
    // inside a 410 line (line 5 after the insert): that one must still be recognised.
    Self.insert(Array(Self.lambdaPrefix.utf8) + [0x6E, 0x61, 0x6D, 0x65, 0x3D, 0xE9, 0xFF, 0xC3, 0x28, 0xED, 0xA0, 0x80],
      into: log, asLine: 3)
    var lines = Self.bytes(log).split(separator: Bytes.newline, omittingEmptySubsequences: false).map(Array.init)
    #expect(String(decoding: lines[4], as: UTF8.self).contains("GoneException"))
    lines[4] += [0x20, 0xFE, 0xFF]
    _ = Fixture.write(bytes: Array(lines.joined(separator: [Bytes.newline])), to: log)

    let a = Self.analyze([dir.path])
    Self.expectAllFound(a)
    let d = Self.diagnostic(a, log, line: 3, "invalid UTF-8")
    #expect(d?.message.hasPrefix("2 events") == true, "\(a.diagnostics)")
    #expect(d?.severity == .warning)
    // Shown repaired, never as broken bytes.
    #expect(a.verdicts.contains { $0.evidence.contains { $0.text.contains("GoneException: UnknownError \u{FFFD}") } })
  }

  /// The word-at-a-time test that lets plain lines skip the byte-wise check says "plain" exactly
  /// when no byte is NUL or past ASCII: every length to 80, with one such byte at every place.
  @Test func plainASCIIIsToldFromLinesWithNULOrHighBytes() {
    let text = Array("2024-05-09T10:00:42.000Z (QQGAoEcsoAMF09A=) AWS Integration Endpoint RequestId : x".utf8)
    for n in 0...80 {
      let line = Array(text.prefix(n))
      #expect(line.withUnsafeBytes(ContentCheck.isPlainASCII))
      for at in 0..<n {
        for bad: UInt8 in [0x00, 0x80, 0xC3, 0xFF] {
          var broken = line
          broken[at] = bad
          #expect(!broken.withUnsafeBytes(ContentCheck.isPlainASCII), "length \(n), \(bad) at \(at)")
        }
      }
    }
  }

  @Test func nulBytesDoNotHideTheLinesAfterThem() {
    let dir = Self.copySamples()
    let log = dir.appendingPathComponent("lambda-chat-message.log")
    // A zero-filled block before line 4 (the 410 line), as a writer crashing mid-file leaves, and
    // a NUL inside a message of line 3.
    var lines = Self.bytes(log).split(separator: Bytes.newline, omittingEmptySubsequences: false).map(Array.init)
    lines[3] = [UInt8](repeating: 0, count: 4096) + lines[3]
    lines[2] += [0x00, 0x41]
    _ = Fixture.write(bytes: Array(lines.joined(separator: [Bytes.newline])), to: log)

    let a = Self.analyze([dir.path])
    Self.expectAllFound(a)
    #expect(Self.diagnostic(a, log, line: 4, "starts with 4096 NUL bytes") != nil, "\(a.diagnostics)")
    #expect(Self.diagnostic(a, log, line: 3, "NUL bytes (the first here)") != nil, "\(a.diagnostics)")
    #expect(Self.summary(a, log)?.unparsed == 0)  // nothing lost

    // Binary data (NULs scattered in many runs) is still no log, even with a line starting `{`.
    var binary = (0..<65_536).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
    for i in stride(from: 500, to: binary.count, by: 1000) { binary[i] = 0 }
    binary[100...102] = [Bytes.newline, UInt8(ascii: "{"), UInt8(ascii: "x")]
    let url = Fixture.write(bytes: binary, to: Fixture.directory().appendingPathComponent("image.png"))
    #expect(throws: InputError.unknownEnvelope(input: url.path)) { try decode(url) }
  }

  @Test func crlfLineEndsEverywhere() {
    let dir = Self.copySamples()
    // Every text input (lines, tail, cli-json) rewritten with CRLF, as Windows tools save them.
    for name in try! FileManager.default.contentsOfDirectory(atPath: dir.path) where !name.hasSuffix("export") {
      let url = dir.appendingPathComponent(name)
      let crlf = Self.bytes(url).flatMap { $0 == Bytes.newline ? [Bytes.carriageReturn, Bytes.newline] : [$0] }
      _ = Fixture.write(bytes: crlf, to: url)
    }
    let a = Self.analyze([dir.path])
    Self.expectAllFound(a)
    #expect(a.diagnostics.isEmpty, "\(a.diagnostics)")  // CRLF is not a problem: no diagnostic
    // The evidence reads as in the clean run: the CR of each line end is gone (a `\r` inside a
    // message, as Lambda's Python runtime writes for newlines, stays).
    #expect(a.verdicts.map { $0.evidence.map(\.text) } == Self.clean.verdicts.map { $0.evidence.map(\.text) })
  }

  @Test func aFiftyMegabyteLine() {
    let dir = Self.copySamples()
    let log = dir.appendingPathComponent("lambda-chat-message.log")
    let clean = Self.analyze([dir.path])
    var huge = Array(Self.lambdaPrefix.utf8)
    huge += [UInt8](repeating: UInt8(ascii: "x"), count: 50 * 1024 * 1024)
    Self.insert(huge, into: log, asLine: 3)

    // Under the 64 MiB default cap: kept whole, one more event, nothing to report.
    let a = Self.analyze([dir.path])
    Self.expectAllFound(a)
    #expect(Self.summary(a, log)?.events == (Self.summary(clean, log)?.events ?? 0) + 1)
    #expect(a.diagnostics.isEmpty, "\(a.diagnostics)")

    // Over a lower cap: cut, with an error naming the line, counted as unparsed.
    var options = AnalysisOptions()
    options.limits.maxLineBytes = 8 * 1024 * 1024
    let cut = Self.analyze([dir.path], options: options)
    Self.expectAllFound(cut)
    let d = Self.diagnostic(cut, log, line: 3, "line longer than 8 MiB")
    #expect(d?.severity == .error, "\(cut.diagnostics)")
    #expect(Self.summary(cut, log)?.unparsed == 1)
  }

  @Test func emptyAndBlankFiles() {
    let dir = Self.copySamples()
    let empty = Fixture.write("", to: dir.appendingPathComponent("empty.log"))
    let blank = Fixture.write("\n  \r\n\t\n", to: dir.appendingPathComponent("blank.log"))
    let emptyGzip = Fixture.write(bytes: Fixture.gzip(""), to: dir.appendingPathComponent("empty.log.gz"))
    let a = Self.analyze([dir.path])
    Self.expectAllFound(a)
    // An empty input has no line to name: the diagnostic names the input.
    for url in [empty, blank, emptyGzip] {
      #expect(Self.diagnostic(a, url, "empty input")?.severity == .warning, "\(url.lastPathComponent): \(a.diagnostics)")
      #expect(Self.summary(a, url)?.events == 0)
    }
  }

  /// gzip of `text`, then `extra` appended (a second member, cut or corrupted).
  static func gzipWithSecondMember(_ first: URL, second: [UInt8]) -> [UInt8] {
    Fixture.gzip(String(decoding: bytes(first), as: UTF8.self)) + second
  }

  @Test func truncatedGzipMember() {
    let dir = Self.copySamples()
    let log = dir.appendingPathComponent("lambda-chat-message.log")
    let lines = Self.lineCount(log)
    // Firehose-style concatenated members; the second (a re-upload of the first lines) is cut.
    let again = Fixture.gzip(String(decoding: Self.bytes(log).prefix(2000), as: UTF8.self))
    let gz = Fixture.write(bytes: Self.gzipWithSecondMember(log, second: Array(again.prefix(again.count / 2))),
      to: dir.appendingPathComponent("lambda-chat-message.log.gz"))
    try! FileManager.default.removeItem(at: log)

    let a = Self.analyze([dir.path])
    Self.expectAllFound(a)
    let d = Self.diagnostic(a, gz, "gzip stream truncated")
    #expect(d?.severity == .error, "\(a.diagnostics)")
    #expect((d?.line ?? 0) >= lines, "names the last event read before the cut: \(String(describing: d))")
    #expect(Self.summary(a, gz)?.unparsed == 1)
  }

  @Test func corruptGzipMember() {
    let dir = Self.copySamples()
    let log = dir.appendingPathComponent("lambda-chat-message.log")
    var second = Fixture.gzip(String(decoding: Self.bytes(dir.appendingPathComponent("lambda-chat-broadcast.log")), as: UTF8.self))
    for i in stride(from: 20, to: second.count - 8, by: 7) { second[i] ^= 0x5A }  // deflate data and CRC
    let gz = Fixture.write(bytes: Self.gzipWithSecondMember(log, second: second),
      to: dir.appendingPathComponent("lambda-chat-message.log.gz"))
    try! FileManager.default.removeItem(at: log)

    let a = Self.analyze([dir.path])
    Self.expectAllFound(a)
    let d = Self.diagnostic(a, gz, "corrupt gzip data")
    #expect(d?.severity == .error, "\(a.diagnostics)")
    #expect(d?.line != nil)
    #expect((Self.summary(a, gz)?.unparsed ?? 0) >= 1)
  }

  /// `count` × 16 MiB of `byte`, as gzip members concatenated (decompresses to their concatenation).
  static func gzipOf(_ byte: Character, mebibytes: Int) -> [UInt8] {
    let member = Fixture.gzip(String(repeating: byte, count: 16 * 1024 * 1024))
    return Array([[UInt8]](repeating: member, count: mebibytes / 16).joined())
  }

  @Test func gzipBombIsStreamedAndStopped() throws {
    let dir = Self.copySamples()
    // A real first line (so the diagnostic has a line to name), then 1.5 GiB of 'A' without a
    // newline, gzipped twice: a 1.5 MB layer inside a file of a few kB.
    let first = Fixture.gzip(
      "2024-05-09T09:00:00.000Z START RequestId: 00000000-0000-4000-8000-000000000000 Version: $LATEST\n")
    let inner = first + Self.gzipOf("A", mebibytes: 1536)
    let result = Fixture.run("/bin/gzip", ["-c", "-n"], stdin: Data(inner))
    let bomb = Fixture.write(bytes: [UInt8](result.stdout), to: dir.appendingPathComponent("bomb.log.gz"))
    #expect(Self.bytes(bomb).count < 64 * 1024)

    // Through the binary, to measure its memory: it must not hold the inflated data.
    // Its own peak (VmHWM, through the memory trace): `getrusage(RUSAGE_CHILDREN)` gave the
    // largest of every child of the test process, other tests' included, and failed at random.
    let run = Fixture.gonetrace(["analyze", "--format", "json", dir.path], environment: ["GONETRACE_TRACE_MEMORY": "1"])
    #expect(run.status == 1, "\(run.stderr)")
    let report = try JSONSerialization.jsonObject(with: run.stdout) as! [String: Any]
    let verdicts = report["verdicts"] as! [[String: Any]]
    #expect(verdicts.count == Self.baseline.count)
    let diagnostics = report["diagnostics"] as! [[String: Any]]
    let bombDiagnostic = diagnostics.first { ($0["input"] as? String) == bomb.path && ($0["message"] as? String)?.contains("gzip bomb") == true }
    #expect(bombDiagnostic?["line"] as? Int == 1, "\(diagnostics)")
    #expect(diagnostics.contains { ($0["input"] as? String) == bomb.path && $0["line"] as? Int == 2
      && ($0["message"] as? String)?.contains("line longer than") == true })
    // Holding the data would take over 1 GiB; streamed, it is the line cap (64 MiB) and buffers,
    // about 150 MB (nearer 600 MB under AddressSanitizer, whose quarantine keeps freed memory).
    let peaks = run.stderr.split(separator: "\n").compactMap { line -> Int? in
      guard line.hasPrefix("memory "), let r = line.range(of: "peak ") else { return nil }
      return Int(line[r.upperBound...].prefix { $0.isNumber })
    }
    let peak = try #require(peaks.last, "no memory trace in: \(run.stderr)")
    #expect(peak > 16 * 1024, "a peak in kB, from /proc/self/status: \(peak)")
    #expect(peak < 768 * 1024, "peak RSS \(peak) KiB")
  }

  @Test func subscriptionBombIsCappedWithoutInflatingWhole() {
    let dir = Self.copySamples()
    // `{"awslogs":{"data":…}}` whose data inflates to 96 MiB of white space: cut at the cap.
    let data = Data(Self.gzipOf(" ", mebibytes: 96)).base64EncodedString()
    let bomb = Fixture.write("{\"awslogs\":{\"data\":\"\(data)\"}}\n", to: dir.appendingPathComponent("bomb.json"))
    var options = AnalysisOptions()
    #expect(options.limits.maxInflatedPayload == 64 * 1024 * 1024)
    options.limits.maxInflatedPayload = 16 * 1024 * 1024  // the same cap, reached sooner
    let a = Self.analyze([dir.path], options: options)
    Self.expectAllFound(a)
    let d = Self.diagnostic(a, bomb, line: 1, "inflates to more than 16 MiB")
    #expect(d?.severity == .error, "\(a.diagnostics)")
    #expect(Self.summary(a, bomb)?.format == .subscription)
  }

  @Test func awslogsDataTruncatedCorruptOrNested() throws {
    // The §1.2/§4.3 payload of EnvelopeTests, wrapped as a subscribed Lambda receives it: one
    // record whole, one with its gzip cut, one whose data is not base64, one nesting another wrapper.
    let payload = EnvelopeTests.payload("34592803782802773986954514236420494137821591878455918592",
      "(4f3e3b0f-39db-11e9-9c2e-5bd7c2de5998) Method completed with status: 410")
    let gz = Fixture.gzip(payload)
    func wrap(_ bytes: [UInt8]) -> String { "{\"awslogs\": {\"data\": \"\(Data(bytes).base64EncodedString())\"}}" }
    let text = [wrap(gz), wrap(Array(gz.prefix(gz.count - 20))), "{\"awslogs\": {\"data\": \"not base64!\"}}",
      wrap(Fixture.gzip(wrap(gz)))].joined(separator: "\n") + "\n"
    let (sink, summary) = try decode(text: text, name: "lambda-events.json")
    #expect(summary.format == .subscription)
    #expect(sink.events.count == 1 || sink.events.count == 2)  // the cut one may keep its event
    #expect(sink.events.first?.message.hasSuffix("status: 410") == true)
    #expect(sink.diagnostics.contains { $0.line == 2 && $0.message.contains("gzip data truncated") }, "\(sink.diagnostics)")
    #expect(sink.diagnostics.contains { $0.line == 3 && $0.message.contains("not valid base64") })
    #expect(sink.diagnostics.contains { $0.line == 4 && $0.message.contains("awslogs.data inside awslogs.data") })
    #expect(summary.unparsed == 3)
  }

  @Test func jsonCutMidRecord() {
    let dir = Self.copySamples()
    let json = dir.appendingPathComponent("execution-logs.json")
    // A second page appended with `>>` by a command that was interrupted mid-record.
    var text = String(decoding: Self.bytes(json), as: UTF8.self)
    text += "{\n    \"events\": [\n        {\n            \"logStreamName\": \"6475c5e327ce095023ec5a5800896e86\",\n"
      + "            \"timestamp\": 1715254441387,\n            \"message\": \"(66Q2U1nRwnMFVUA=) Endpoint requ"
    Fixture.write(text, to: json)
    let a = Self.analyze([dir.path])
    Self.expectAllFound(a)
    let d = Self.diagnostic(a, json, line: Self.lineCount(json) + 1, "JSON ends in the middle of a value")
    #expect(d?.severity == .error, "\(a.diagnostics)")
    #expect(Self.summary(a, json)?.unparsed == 1)
  }

  @Test func jsonRecordsOfUnexpectedShape() {
    let dir = Self.copySamples()
    let json = dir.appendingPathComponent("execution-logs.json")
    let odd = [
      #"        {"timestamp": "soon", "message": "(x) not a time"},"#,  // line 3
      #"        {"timestamp": 1715248830045, "message": {"nested": true}},"#,  // line 4
      #"        {"unexpected": {"shape": [1, 2]}},"#,  // line 5
      #"        [1, 2, 3],"#,  // line 6
    ]
    for (i, line) in odd.enumerated() { Self.insert(Array(line.utf8), into: json, asLine: 3 + i) }
    let a = Self.analyze([dir.path])
    Self.expectAllFound(a)
    #expect(Self.diagnostic(a, json, line: 3, "without a valid timestamp") != nil, "\(a.diagnostics)")
    #expect(Self.diagnostic(a, json, line: 4, "without a message") != nil)
    #expect(Self.diagnostic(a, json, line: 5, "neither \"timestamp\" nor \"message\"") != nil)
    #expect(Self.diagnostic(a, json, line: 6, "malformed event record") != nil)
    #expect(Self.summary(a, json)?.unparsed == 4)
  }

  @Test func aFileThatOnlyLooksLikeJSON() {
    let dir = Self.copySamples()
    // Starts as `filter-log-events` output, then is not JSON.
    let notes = Fixture.write(
      "{\"nextToken\": \"abc\", \"events\": [{\"timestamp\": 1715248830045, message: \"x\"}]}\nthis is not JSON at all\n",
      to: dir.appendingPathComponent("notes.json"))
    // A JSON object of no CloudWatch shape: read as an untimed line, and said so.
    let config = Fixture.write("{\"hello\": \"world\"}\n", to: dir.appendingPathComponent("config.json"))
    let a = Self.analyze([dir.path])
    Self.expectAllFound(a)
    #expect(Self.diagnostic(a, notes, line: 1, "malformed event record")?.severity == .error, "\(a.diagnostics)")
    #expect(Self.diagnostic(a, notes, line: 2, "bytes outside any JSON value")?.severity == .error)
    #expect(Self.summary(a, notes)?.unparsed == 2)
    #expect(Self.diagnostic(a, config, line: 1, "carry no time") != nil)
  }

  @Test func unreadableEntriesAndSymlinkLoopsInADirectoryWalk() throws {
    let dir = Self.copySamples()
    let fm = FileManager.default
    let loop = dir.appendingPathComponent("access-export/loop")
    try fm.createSymbolicLink(atPath: loop.path, withDestinationPath: "..")  // back up the tree
    let selfLink = dir.appendingPathComponent("self")
    try fm.createSymbolicLink(atPath: selfLink.path, withDestinationPath: "self")  // ELOOP
    let dangling = dir.appendingPathComponent("dangling.log")
    try fm.createSymbolicLink(atPath: dangling.path, withDestinationPath: "nowhere.log")
    let fifo = dir.appendingPathComponent("pipe")
    #expect(mkfifo(fifo.path, 0o644) == 0)

    let a = Self.analyze([dir.path])
    Self.expectAllFound(a)
    #expect(Self.diagnostic(a, loop, "directory already read")?.severity == .warning, "\(a.diagnostics)")
    #expect(Self.diagnostic(a, selfLink, "cannot read: Too many levels of symbolic links")?.severity == .error)
    #expect(Self.diagnostic(a, dangling, "cannot read: No such file")?.severity == .error)
    #expect(Self.diagnostic(a, fifo, "not a regular file")?.severity == .warning)
    // Each unreadable entry is listed as an input with its problem counted.
    for url in [selfLink, dangling] { #expect(Self.summary(a, url)?.unparsed == 1) }
    // A missing path on the command line is an input error, and the other paths are still read.
    let missing = dir.appendingPathComponent("missing.log")
    let withMissing = Self.analyze([missing.path, dir.path])
    #expect(withMissing.inputErrors == [.notFound(path: missing.path)])
    #expect(withMissing.verdicts.map(Self.key) == Self.baseline)
    #expect(Self.summary(withMissing, missing)?.unparsed == 1)

    // Unreadable file and directory: as root nothing is unreadable, so run the binary as nobody.
    let secret = Fixture.write("2024-05-09T10:00:00.000Z secret\n", to: dir.appendingPathComponent("secret.log"))
    let locked = dir.appendingPathComponent("locked")
    try fm.createDirectory(at: locked, withIntermediateDirectories: false)
    Fixture.write("2024-05-09T10:00:00.000Z locked\n", to: locked.appendingPathComponent("x.log"))
    chmod(secret.path, 0)
    chmod(locked.path, 0)
    var parent = dir
    while parent.path != "/" {  // the temporary directory tree must be passable for nobody
      chmod(parent.path, 0o755)
      parent = parent.deletingLastPathComponent()
      if parent.path == FileManager.default.temporaryDirectory.path { break }
    }
    let run: Fixture.RunResult
    if geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
      run = Fixture.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Fixture.binary,
        "analyze", "--format", "json", dir.path])
    } else {
      run = Fixture.gonetrace(["analyze", "--format", "json", dir.path])
    }
    #expect(run.status == 2, "an unreadable input is exit status 2: \(run.stderr)")
    #expect(run.stderr.contains("\(secret.path): cannot read: Permission denied"), "\(run.stderr)")
    #expect(run.stderr.contains("\(locked.path): error: cannot open directory: Permission denied"), "\(run.stderr)")
    let report = try JSONSerialization.jsonObject(with: run.stdout) as! [String: Any]
    #expect((report["verdicts"] as! [[String: Any]]).count == Self.baseline.count, "the rest was read")
    let inputs = report["inputs"] as! [[String: Any]]
    #expect(inputs.first { ($0["name"] as? String) == secret.path }?["unparsed"] as? Int == 1)
  }

  @Test func timestampsOutOfRange() {
    let dir = Self.copySamples()
    let json = dir.appendingPathComponent("execution-logs.json")
    let odd = [
      #"        {"logStreamName": "s", "timestamp": 99999999999999999999, "message": "(x) overflow"},"#,  // line 3
      #"        {"logStreamName": "s", "timestamp": -1715248830045, "message": "(x) negative"},"#,  // line 4
      #"        {"logStreamName": "s", "timestamp": 1.7e12, "message": "(x) float"},"#,  // line 5
    ]
    for (i, line) in odd.enumerated() { Self.insert(Array(line.utf8), into: json, asLine: 3 + i) }
    let log = dir.appendingPathComponent("lambda-chat-message.log")
    Self.insert(Array("0000-13-45T99:99:99.000Z 2024-05-09T10:02:40.030Z\tfc553be8-0626-46ac-a2e3-8adc0c30810b\tINFO\tjunk".utf8),
      into: log, asLine: 3)
    let a = Self.analyze([dir.path])
    Self.expectAllFound(a)
    for line in 3...5 {
      #expect(Self.diagnostic(a, json, line: line, "without a valid timestamp")?.severity == .error, "\(a.diagnostics)")
    }
    #expect(Self.diagnostic(a, log, line: 3, "time out of range")?.severity == .warning)
    #expect(Self.summary(a, json)?.unparsed == 3)
  }

  @Test func eventsOutOfOrderByHours() throws {
    let dir = Self.copySamples()
    // The execution log's events reversed (the last is 1.5 hours after the first).
    let json = dir.appendingPathComponent("execution-logs.json")
    let page: [String: Any] = ["events": Array(try Self.pages(json).reversed()), "searchedLogStreams": []]
    try JSONSerialization.data(withJSONObject: page, options: [.prettyPrinted, .sortedKeys]).write(to: json)
    // A Lambda log rotated at an event boundary: its second half first.
    let log = dir.appendingPathComponent("lambda-chat-message.log")
    let lines = String(decoding: Self.bytes(log), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    let mid = lines.indices.first { $0 >= lines.count / 2 && lines[$0].contains(" START RequestId: ") }!
    Fixture.write((lines[mid...].filter { !$0.isEmpty } + lines[..<mid]).joined(separator: "\n") + "\n", to: log)
    // S3 export chunks in the other order.
    let stream = dir.appendingPathComponent("access-export/exportedlogs/b7d01b8c-1828-4b01-80b4-14d23d9b9309/25af7045ad6518c12935266e5f3c7eea")
    let chunks = try FileManager.default.contentsOfDirectory(atPath: stream.path).sorted()
    #expect(chunks.count >= 2)
    try FileManager.default.moveItem(at: stream.appendingPathComponent(chunks[0]), to: stream.appendingPathComponent("tmp"))
    try FileManager.default.moveItem(at: stream.appendingPathComponent(chunks[1]), to: stream.appendingPathComponent(chunks[0]))
    try FileManager.default.moveItem(at: stream.appendingPathComponent("tmp"), to: stream.appendingPathComponent(chunks[1]))

    let a = Self.analyze([dir.path])
    Self.expectAllFound(a)
    // Order is not a problem (correlation does not depend on it), so nothing is reported.
    #expect(a.diagnostics.isEmpty, "\(a.diagnostics)")
  }

  // MARK: - Point 3: duplicates count once

  @Test func theSameDirectoryTwiceAndAnOverlappingExport() throws {
    let dir = Self.copySamples()
    // The same paths given twice (and a file inside a directory given).
    let twice = Self.analyze([dir.path, dir.path, dir.appendingPathComponent("lambda-chat-message.log").path])
    Self.expectAllFound(twice)
    #expect(twice.inputs.count == 15)
    #expect(twice.diagnostics.contains { $0.message.contains("read once") || $0.message.contains("already read") })

    // A second copy (other files, same content) plus an overlapping export: the access-log export
    // again under another task id, the execution log re-fetched as two overlapping pages in one
    // file, and the first page fetched twice in another.
    let other = Fixture.directory()
    try FileManager.default.copyItem(at: dir, to: other.appendingPathComponent("copy"))
    let export = dir.appendingPathComponent("access-export/exportedlogs/b7d01b8c-1828-4b01-80b4-14d23d9b9309")
    try FileManager.default.copyItem(at: export,
      to: other.appendingPathComponent("export2/exportedlogs/0f9d2c5e-0000-4000-8000-000000000000"))
    let events = try Self.pages(dir.appendingPathComponent("execution-logs.json"))
    func pageData(_ slice: ArraySlice<Any>) throws -> Data {
      try JSONSerialization.data(withJSONObject: ["events": Array(slice), "searchedLogStreams": []], options: [.prettyPrinted, .sortedKeys])
    }
    let first = try pageData(events[..<(events.count * 6 / 10)])
    let second = try pageData(events[(events.count * 4 / 10)...])
    try (first + Data("\n".utf8) + second).write(to: other.appendingPathComponent("pages.json"))
    try (first + first).write(to: other.appendingPathComponent("page-twice.json"))

    let overlapping = Self.analyze([dir.path, other.path])
    Self.expectAllFound(overlapping)
    let chunks = try FileManager.default.subpathsOfDirectory(atPath: export.path).filter { $0.hasSuffix(".gz") }.count
    #expect(overlapping.inputs.count == 15 + 15 + chunks + 2)
    // The repeats are said, once per input that repeats.
    #expect(overlapping.diagnostics.contains {
      $0.input.hasSuffix("copy/lambda-chat-message.log") && $0.message.contains("recording a 410 already read")
    }, "\(overlapping.diagnostics)")
    // No line is shown twice as evidence.
    for v in overlapping.verdicts {
      let lines = v.evidence.map { "\($0.time)|\($0.text)" }
      #expect(Set(lines).count == lines.count, "\(lines)")
    }
  }

  @Test func distinctEventIdsStayDistinct() {
    // Two calls failing in the same millisecond with the same message in one stream: CloudWatch's
    // event ids tell them apart, so they stay two 410s, also when the page is read twice.
    // (Message: the §Node v3 line of the samples.)
    let message = "2024-05-09T10:02:40.126Z\tfc553be8-0626-46ac-a2e3-8adc0c30810b\tERROR\tError sending to connection 65muq1QQBCMCkog=: GoneException: UnknownError"
    func event(_ id: String) -> String {
      "{\"logStreamName\": \"2024/05/09/[$LATEST]abc\", \"timestamp\": 1715248960126, \"message\": \"\(message.replacingOccurrences(of: "\t", with: "\\t"))\", \"eventId\": \"\(id)\"}"
    }
    let page = "{\"events\": [\(event("01715248960126000000000000000000000000000000000001")), \(event("01715248960126000000000000000000000000000000000002"))]}\n"
    let dir = Fixture.directory()
    let a = Fixture.write(page, to: dir.appendingPathComponent("a.json"))
    let b = Fixture.write(page + page, to: dir.appendingPathComponent("b.json"))
    #expect(Self.analyze([a.path]).verdicts.count == 2)
    #expect(Self.analyze([a.path, b.path]).verdicts.count == 2)
  }

  // MARK: - Point 4: limits

  @Test func aPathologicalLineAgainstAUserRuleIsADiagnosticNotAHang() throws {
    // `(?:a|aa)+` splits n letters Fibonacci(n) ways before failing on the `[#%]`: exponential.
    let rule = RuleDefinition(name: "my-app-catastrophic", fact: .target, prefilter: "aaaa",
      pattern: #"(?:a|aa)+[#%](?<connectionId>\S+)"#)  // no single literal for PCRE2 to require first
    var options = AnalysisOptions()
    options.rules = try RuleSet(files: [("mine.json", RuleFile(version: 1, rules: [rule])), ("built-in rules", BuiltinRules.file)])
    let dir = Self.copySamples()
    let log = dir.appendingPathComponent("lambda-chat-message.log")
    Self.insert(Array((Self.lambdaPrefix + String(repeating: "a", count: 60) + "!").utf8), into: log, asLine: 3)
    let clock = ContinuousClock()
    let start = clock.now
    let a = Self.analyze([dir.path], options: options)
    #expect(clock.now - start < .seconds(30))
    Self.expectAllFound(a)
    let d = Self.diagnostic(a, log, line: 3, "rule \"my-app-catastrophic\"")
    #expect(d?.severity == .error, "\(a.diagnostics)")
    #expect(d?.message.contains("limit") == true)
    #expect(Self.summary(a, log)?.unparsed == 1)
  }

  @Test func diagnosticsPerInputAreCappedButAllCounted() throws {
    let lines = (1...3000).map { _ in "{\"timestamp\": \"bad\", \"message\": \"m\"}" }
    let url = Fixture.write("[\n" + lines.joined(separator: ",\n") + "\n]\n", to: Fixture.directory().appendingPathComponent("bad.json"))
    let a = Self.analyze([url.path])
    #expect(Self.summary(a, url)?.unparsed == 3000)
    #expect(a.diagnostics.count == ReaderLimits().maxDiagnosticsPerInput + 1)
    #expect(a.diagnostics.last?.message.contains("2000 more diagnostics") == true, "\(String(describing: a.diagnostics.last))")
  }

  @Test func jsonRecordsAndCSVRowsOverTheCap() throws {
    let dir = Fixture.directory()
    var options = AnalysisOptions()
    options.limits.maxRecordBytes = 1024 * 1024
    options.limits.maxLineBytes = 1024 * 1024
    let big = String(repeating: "y", count: 2 * 1024 * 1024)
    let json = Fixture.write("{\"events\": [{\"timestamp\": 1715248830045, \"message\": \"\(big)\"},\n"
      + "{\"timestamp\": 1715248830046, \"message\": \"small\"}]}\n", to: dir.appendingPathComponent("big.json"))
    let csv = Fixture.write("@timestamp,@message\n2024-05-09 10:00:30.045,\"\(big)\"\n2024-05-09 10:00:30.046,small\n",
      to: dir.appendingPathComponent("big.csv"))
    let a = Self.analyze([json.path, csv.path], options: options)
    #expect(Self.diagnostic(a, json, line: 1, "event record larger than 1 MiB")?.severity == .error, "\(a.diagnostics)")
    #expect(Self.diagnostic(a, csv, line: 2, "CSV row longer than 1 MiB")?.severity == .error, "\(a.diagnostics)")
    #expect(Self.summary(a, json)?.events == 1)
    #expect(Self.summary(a, csv)?.events == 1)
  }
}
