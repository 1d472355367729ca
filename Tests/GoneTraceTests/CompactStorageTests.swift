import Foundation
import Testing
@testable import GoneTrace

/// How the correlation state keeps a gigabyte's worth of evidence small: lines in a temporary
/// file (`TextStore`), ids inline (`CompactID`), origins packed. Each must give back exactly what
/// was put in, and compare exactly as the plain values do.
@Suite struct CompactStorageTests {
  /// Lines of every size and content, enough to pass the store's 1 MiB buffer several times, so
  /// some are read back from the file and some from the buffer.
  static func sampleLines() -> [[UInt8]] {
    var rng = SystemRandomNumberGenerator()
    // log-formats.md §2.2, a verbatim execution-log line.
    var lines: [[UInt8]] = [[], Array("(515f1e99-39db-11e9-9e96-01e5c04505b9) AWS Integration Endpoint RequestId : 57593f79-6e46-4a6f-91b1-f5d848cc2059".utf8)]
    lines.append([0x66, 0xFF, 0xFE, 0x6F, 0xC3])  // ill-formed UTF-8, cut mid-sequence
    lines.append(Array("café ☕ 𝄞".utf8))
    for n in 0..<4_000 {
      let length = n % 97 == 0 ? 5_000 : Int.random(in: 1...1_100, using: &rng)
      lines.append((0..<length).map { _ in UInt8.random(in: 0x20...0x7E, using: &rng) })
    }
    lines.append([UInt8](repeating: 0x61, count: 3 << 20))  // longer than the buffer: written through
    return lines
  }

  static func roundTrip(_ store: TextStore) {
    let lines = sampleLines()
    let texts = lines.map { line in line.withUnsafeBytes { store.append($0) } }
    for (line, text) in zip(lines, texts) {
      let expected = String(decoding: line, as: UTF8.self)
      #expect(text.string == expected)
      #expect(text == LineText(expected) || line != Array(expected.utf8), "a stored line equals the same line inline")
      #expect(text.byteCount == line.count)
    }
  }

  @Test func linesComeBackFromTheTemporaryFileAndTheBuffer() {
    let store = TextStore()
    #expect(store.isFileBacked)
    Self.roundTrip(store)
  }

  @Test func withoutAWritableTemporaryDirectoryLinesAreKeptInMemory() {
    let store = TextStore(directory: "/nonexistent/gonetrace-\(getpid())")
    #expect(!store.isFileBacked)
    Self.roundTrip(store)
  }

  /// A line of a regular input is kept as its place in the file (`SourceFile`) and read back
  /// from there: the same text, hash, equality and order as the line copied to the store, cut at the
  /// evidence limit the same way (a multi-byte character split by the cut included). A file cut
  /// short after it was read says so instead of showing other bytes.
  @Test func aLineOfAnInputFileReadsBackAsTheCopiedLine() throws {
    let lines = Self.sampleLines() + [Array((String(repeating: "x", count: 1_023) + "é and on").utf8)]
    var bytes: [UInt8] = []
    var offsets: [Int] = []
    for line in lines {
      offsets.append(bytes.count)
      bytes += line + [0x0A]
    }
    let url = Fixture.write(bytes: bytes, to: Fixture.directory().appendingPathComponent("exec.log"))
    let handle = try FileHandle(forReadingFrom: url)
    defer { try? handle.close() }
    let file = try #require(SourceFile.duplicating(handle.fileDescriptor, name: "exec.log"))
    let store = TextStore()
    var read: [LineText] = []
    for (line, offset) in zip(lines, offsets) {
      line.withUnsafeBytes { b in
        let kept = LineText(source: file, offset: Int64(offset), bytes: b, maxBytes: 1_024)
        let copied = Recognizer.evidenceText(b, maxBytes: 1_024, store: nil)
        let stored = Recognizer.evidenceText(b, maxBytes: 1_024, store: store)
        #expect(kept.string == copied.string && kept.string == stored.string)
        #expect(kept.hash == stored.hash && kept.byteCount == stored.byteCount)
        #expect(kept == stored && !(kept < stored) && !(stored < kept))
        // A string holds ill-formed UTF-8 repaired, so it equals the kept bytes only when well-formed.
        #expect((kept == copied) == (Array(copied.string.utf8) == Array(stored.withBytes { Array($0) })))
        read.append(kept)
      }
    }
    #expect(read.contains { $0.string.hasSuffix(" …") } && read.contains { $0.string.hasSuffix("\u{FFFD} …") })
    let sorted = read.sorted()
    #expect(zip(sorted, sorted.dropFirst()).allSatisfy { !($1 < $0) })
    try FileHandle(forWritingTo: url).truncate(atOffset: UInt64(offsets[lines.count / 2]))
    let last = try #require(read.last)
    #expect(last.string.contains("can no longer be read") && last.string.contains("exec.log"))
    #expect(read[0].string == String(decoding: lines[0], as: UTF8.self), "a line before the cut still reads")
  }

  /// Every fixture case read from its plain files (lines read back from them) and from the same
  /// files gzipped (lines copied out) gives the same verdicts, evidence lines and all.
  @Test func verdictsShowTheSameLinesWhereverTheyAreKept() throws {
    var placed = 0
    for name in FixtureCaseTests.cases {
      let dir = FixtureCaseTests.root.appendingPathComponent(name)
      let logs = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".log") }.sorted()
      let zipped = Fixture.directory()
      let gz = try logs.map { log in
        Fixture.write(bytes: Fixture.gzip(try String(contentsOf: dir.appendingPathComponent(log), encoding: .utf8)),
          to: zipped.appendingPathComponent(log + ".gz")).path
      }
      let plain = Analyzer.run(paths: logs.map { dir.appendingPathComponent($0).path }, options: AnalysisOptions())
      let copied = Analyzer.run(paths: gz, options: AnalysisOptions())
      func shown(_ a: Analysis) -> [[String]] {
        a.verdicts.map { v in (v.evidence + (v.recordedBy.map { [$0] } ?? [])).map { "\($0.time) \($0.origin.line ?? -1) \($0.text)" } }
      }
      #expect(shown(plain) == shown(copied), "\(name)")
      func placedLines(_ a: Analysis) -> Int {
        a.verdicts.reduce(0) { n, v in n + v.evidence.filter { if case .source = $0.body.storage { true } else { false } }.count }
      }
      placed += placedLines(plain)
      #expect(placedLines(copied) == 0, "an inflated file's lines are copied out")
    }
    #expect(placed > 0, "lines of plain files are read back from them")
  }

  @Test func lineTextOrderIsTotalAndEqualityIsByContent() {
    let store = TextStore()
    let words = ["", "a", "b", "ab", "GoneException", "(65muTWVBnVMFDlw=) Endpoint response headers: {}",
      String(repeating: "x", count: 2_000)]
    let stored = words.map { w in Array(w.utf8).withUnsafeBytes { store.append($0) } }
    let inline = words.map(LineText.init)
    let all = stored + inline
    for a in all {
      for b in all {
        let same = a.string == b.string
        #expect((a == b) == same, "\(a) vs \(b)")
        #expect(!(a < b && b < a))
        #expect(same || a < b || b < a, "distinct lines are ordered")
        if same { #expect(a.hashValue == b.hashValue) }
      }
    }
    // Transitive: sorting any arrangement gives one order of contents.
    let sorted = all.sorted().map(\.string)
    #expect(all.reversed().sorted().map(\.string) == sorted)
  }

  @Test func compactIDsAreEqualExactlyWhenTheirStringsAre() {
    let ids = [
      "", "a", "Iq9gjE_aIAMFZTg=", "Iq9gjE_aIAMFZTg", "Iq9gjE_aIAMFZTg==", "aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaab",
      "57593f79-6e46-4a6f-91b1-f5d848cc2059", "57593F79-6E46-4A6F-91B1-F5D848CC2059", "57593f79-6e46-4a6f-91b1-f5d848cc2058",
      "57593f79x6e46-4a6f-91b1-f5d848cc2059", "57593f79-6e46-4a6f-91b1-f5d848cc205g", "57593f79-6e46-4a6f-91b1-f5d848cc205G",
      "57593f79-6e46-4a6f-91b1-f5d848cc205/", "57593f79-6e46-4a6f-91b1-f5d848cc205:", "a\u{0}b", "a", "an id that is longer than sixteen bytes", "é",
      // The order is computed on the words (`<`): ids differing in each word, prefixes, case.
      "aaaaaaaa", "aaaaaaaab", "aaaaaaab", "aaaaaaaaaaaaaaa", "b", "B", "Z_-=", "zaaaaaaaaaaaaaaa", "Iq9gjE_aIAMFZTh=",
      "07593f79-6e46-4a6f-91b1-f5d848cc2059", "f7593f79-6e46-4a6f-91b1-f5d848cc2059", "57593f79-6e46-4a6f-01b1-f5d848cc2059",
      "57593f79-6e46-4a6f-a1b1-f5d848cc2059", "57593f79-6e47-4a6f-01b1-f5d848cc2059",
    ]
    for a in ids {
      #expect(CompactID(a).string == a, "\(a) round-trips")
      for b in ids {
        #expect((CompactID(a) == CompactID(b)) == (a == b), "\(a) vs \(b)")
        #expect((CompactID(a) < CompactID(b)) == (a < b))
      }
    }
    if case .uuid = CompactID("57593f79-6e46-4a6f-91b1-f5d848cc2059") {} else { Issue.record("a UUID is held as 16 bytes") }
    if case .short = CompactID("Iq9gjE_aIAMFZTg=") {} else { Issue.record("an API Gateway id is held inline") }
    #expect(MemoryLayout<CompactID>.size <= 17)
    // Plain bytes, ids that fit neither inline form included (they are numbered): copying a
    // fact copies its ids without reference counting.
    #expect(_isPOD(CompactID.self))
    let long = "an id that is longer than sixteen bytes"
    #expect(Set([CompactID(long), CompactID(String(long.reversed().reversed())), CompactID(long + "!")]).count == 2)
  }

  @Test func recentIDsRememberTheLatestAndNeverAnIdNotSeen() {
    func id(_ n: Int) -> CompactID {
      let digits = String(n)
      return n % 2 == 0
        ? CompactID("Iq9g" + String(repeating: "0", count: 11 - digits.count) + digits + "=")
        : CompactID("57593f79-6e46-4a6f-91b1-" + String(repeating: "0", count: 12 - digits.count) + digits)
    }
    var recent = RecentIDs(capacity: 8)
    #expect(!recent.contains(id(0)))
    for n in 0..<1_000 {
      recent.insert(id(n))
      #expect(recent.contains(id(n)), "the id just inserted, \(n)")
    }
    // Eight slots: most ids were evicted, none is invented.
    #expect((0..<1_000).filter { recent.contains(id($0)) }.count <= 8)
    #expect(!(1_000..<5_000).contains { recent.contains(id($0)) })
    // An id that packs into no slot is not remembered (forgetting is allowed; a false yes is not).
    let long = CompactID("an id that is longer than sixteen bytes")
    recent.insert(long)
    #expect(!recent.contains(long))
  }

  @Test func uuidsAreReadByTheirDigits() throws {
    let canonical = "57593f79-6e46-4a6f-91b1-f5d848cc2059"
    func uuid(_ s: String) -> (hi: UInt64, lo: UInt64, hasUpper: Bool)? {
      var s = s
      return s.withUTF8 { Bytes.uuid(UnsafeRawBufferPointer($0)) }
    }
    let v = try #require(uuid(canonical))
    #expect(v.hi == 0x5759_3f79_6e46_4a6f && v.lo == 0x91b1_f5d8_48cc_2059 && v.hasUpper == false)
    #expect(uuid(canonical.uppercased()).map { [$0.hi, $0.lo] } == [v.hi, v.lo])
    #expect(uuid(canonical.uppercased())?.hasUpper == true)
    // Each digit position rejects each byte that is not a hex digit; each dash position needs a dash.
    let bytes = Array(canonical.utf8)
    for i in bytes.indices {
      for bad in [UInt8(ascii: "g"), UInt8(ascii: "G"), UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "@"), 0x60, 0xC3, 0] {
        var b = bytes
        b[i] = bad
        #expect(b.withUnsafeBytes { Bytes.uuid($0) } == nil, "byte \(bad) at \(i)")
      }
    }
    #expect(uuid(String(canonical.dropLast())) == nil)
    #expect(uuid(canonical + "0") == nil)
  }

  @Test func fieldsAreCheckedOnTheirBytes() {
    var f = FactFields()
    func set(_ field: Field, _ raw: String) -> Bool { f.set(field, raw: raw) }
    #expect(!set(.lambdaRequestId, "Iq9gjE_aIAMFZTg="))
    #expect(set(.lambdaRequestId, "57593F79-6E46-4A6F-91B1-F5D848CC2059"))
    #expect(f.lambdaRequestId == "57593f79-6e46-4a6f-91b1-f5d848cc2059")
    #expect(!set(.apigwRequestId, "57593f79-6e46-4a6f-91b1-f5d848cc2059"))
    #expect(!set(.apigwRequestId, "-"))
    #expect(!set(.apigwRequestId, ""))
    #expect(f.apigwRequestId == nil)
    #expect(set(.disconnectReason, ""))
    #expect(f.disconnectReason == "")
    // Numbers read as `Int(text)` does, signs included.
    for (text, value) in [("410", 410), ("007", 7), ("+5", 5), ("-1", -1), ("99999999999999999999", nil), ("4 10", nil), ("x", nil)] {
      var g = FactFields()
      let fits = g.set(.status, raw: text)
      #expect(fits == (value != nil), "\(text)")
      #expect(g.status == value)
    }
    #expect(set(.role, "echo"))
    #expect(f.isEcho)
    #expect(set(.eventType, "message"))
    #expect(f.eventType == "MESSAGE")
  }

  @Test func packedOriginsKeepLinesRecordsAndOrder() {
    let origins = [
      Origin(input: 0), Origin(input: 0, line: 1), Origin(input: 0, line: 5_000_000_000), Origin(input: 3, record: 7),
      Origin(input: 3, line: 0), Origin(input: 2, line: 12),
    ]
    #expect(origins[0].line == nil && origins[0].record == nil)
    #expect(origins[2].line == 5_000_000_000)
    #expect(origins[3].record == 7 && origins[3].line == nil)
    var o = origins[1]
    o.line = nil
    o.record = 4
    #expect(o == Origin(input: 0, record: 4))
    for a in origins {
      for b in origins {
        #expect((a < b) == ((a.input, a.line ?? 0, a.record ?? 0) < (b.input, b.line ?? 0, b.record ?? 0)))
      }
    }
    #expect(MemoryLayout<Origin>.size == 16)
  }

  static func fact(_ kind: Fact.Kind, _ time: EpochMillis, line: Int, _ fields: (inout FactFields) -> Void) -> Fact {
    var f = FactFields()
    fields(&f)
    return Fact(kind: kind, rule: "test", time: time, origin: Origin(input: 0, line: line), fields: f, text: "line \(line)")
  }

  /// A MESSAGE request's link is kept without its line, whichever of the two is read first, and
  /// still names the invocation; a `$connect`'s link keeps its line as evidence. (Ids from
  /// log-formats.md: the §2.3 access-log row's requestId and connectionId, the §2.2 Lambda id.)
  @Test func messageLinksAreKeptBareAndStillResolve() {
    let message = Self.fact(.request, 1_000, line: 1) {
      $0.apigwRequestId = "Iq9gjE_aIAMFZTg="
      $0.connectionId = "Iq8gj1UmIAMCKpA="
      $0.eventType = "MESSAGE"
    }
    let link = Self.fact(.link, 1_001, line: 2) {
      $0.apigwRequestId = "Iq9gjE_aIAMFZTg="
      $0.lambdaRequestId = "57593f79-6e46-4a6f-91b1-f5d848cc2059"
    }
    // An API Gateway line recording the 410 of that request (no Lambda id of its own).
    let gone = Self.fact(.gone, 1_002, line: 3) { $0.apigwRequestId = "Iq9gjE_aIAMFZTg=" }
    for store in [nil, TextStore()] {
      for order in [[message, link], [link, message]] {
        var state = CorrelationState(store: store)
        for f in order + [gone] { state.add(f) }
        #expect(state.links.isEmpty)
        #expect(!state.messageLinks.isEmpty)
        let calls = state.correlate(CorrelationOptions()).calls
        #expect(calls.map(\.lambdaRequestId) == ["57593f79-6e46-4a6f-91b1-f5d848cc2059"])
      }
    }
    var connect = message
    connect.fields.eventType = "CONNECT"
    // The `$connect` and its link are kept for an invocation that made a failed call, and only
    // for one: no other is asked about (a day of logs holds an invocation per connection).
    for failed in [true, false] {
      var state = CorrelationState()
      state.add(connect)
      state.add(link)
      if failed { state.add(gone) }
      #expect(state.links.count == 1 && state.messageLinks.isEmpty)
      let correlation = state.correlate(CorrelationOptions())
      #expect(correlation.linkEvidence["57593f79-6e46-4a6f-91b1-f5d848cc2059"]?.text == (failed ? "line 2" : nil))
      #expect(correlation.triggerOf["57593f79-6e46-4a6f-91b1-f5d848cc2059"]?.connectionId
        == (failed ? "Iq8gj1UmIAMCKpA=" : nil))
    }
  }

  /// `Parallel.run` returns only when both jobs are done, on one thread or two, and lets go of
  /// the other thread's job (a closure that outlives the call traps in a debug build).
  @Test func aParallelRunReturnsWithBothJobsDone() {
    for threads in [1, 2] {
      for round in 0..<200 {
        var sum = 0
        var list: [Int] = []
        Parallel.run(threads: threads) {
          for i in 0..<(round * 10) { sum += i }
        } and: {
          list = Array(0..<round)
        }
        #expect(sum == (0..<(round * 10)).reduce(0, +))
        #expect(list.count == round)
      }
    }
  }

  /// Records spilled to the evidence file come back exactly, in the order appended (blocks of
  /// the file, the buffer, and a merged log's after the log's own), with or without a store.
  @Test func spilledRecordsComeBackInOrder() {
    struct Record: BitwiseCopyable, Sendable, Equatable {
      var n: Int64
      var tag: UInt8
    }
    for store in [TextStore(), TextStore(directory: "/nonexistent/gonetrace-\(getpid())"), nil] {
      var first = SpillLog<Record>(store: store), second = SpillLog<Record>(store: store)
      #expect(first.isEmpty)
      // Several 64 KB blocks, the store's 1 MiB buffer passed, and a partial block left over.
      for n in 0..<100_000 { first.append(Record(n: Int64(n) * 7, tag: UInt8(n % 251))) }
      for n in 0..<1_000 { second.append(Record(n: -Int64(n), tag: 1)) }
      first.append(contentsOf: second)
      first.append(Record(n: 42, tag: 2))
      var back: [Record] = []
      first.forEach { back.append($0) }
      let expected = (0..<100_000).map { Record(n: Int64($0) * 7, tag: UInt8($0 % 251)) }
        + (0..<1_000).map { Record(n: -Int64($0), tag: 1) } + [Record(n: 42, tag: 2)]
      #expect(back == expected)
    }
  }

  /// A message line kept as a string and moved to the store once its input is read is the same
  /// line: text, equality and order unchanged. (The §2.3 access-log row of log-formats.md.)
  @Test func aLineMovedToTheStoreIsTheSameLine() {
    let row = #"{"requestId":"Iq9gwFDNoAMFo1A=","ip":"1.128.0.0","caller":"-","user":"-","requestTime":"26/Jul/2023:12:20:46 +0000","eventType":"CONNECT","routeKey":"$connect","status":"500","connectionId":"Iq8gj1UmIAMCKpA=","apiId":"z1ctxygne5","stage":"production","domainName":"z1ctxygne5.execute-api.us-east-1.amazonaws.com"}"#
    let inline = LineText(row)
    var moved = inline
    let store = TextStore()
    moved.store(in: store)
    guard case .stored = moved.storage else {
      Issue.record("the line is still a string")
      return
    }
    #expect(moved.string == row && moved == inline && !(moved < inline) && !(inline < moved))
    #expect(moved.hash == inline.hash && moved.byteCount == inline.byteCount)
    var again = moved
    again.store(in: TextStore())  // already stored: left where it is
    guard case .stored(let where_, _, _) = again.storage else { return }
    #expect(where_ === store)
  }

  /// Message lines are held as strings only up to a bound: past it, every connection's latest
  /// message line goes to the store, and each still reads back as the line it was.
  @Test func messageLinesHeldAsStringsStayBounded() {
    // The §2.3 access-log row (elastic/integrations fixture) made a MESSAGE (eventType, routeKey
    // and status changed, apiId kept, stage and domainName dropped), one per connection.
    func row(_ n: Int) -> String {
      #"{"requestId":"Iq9gwFDNoAMF\#(String(format: "%04d", n))","ip":"1.128.0.0","requestTime":"26/Jul/2023:12:20:46 +0000","eventType":"MESSAGE","routeKey":"sendmessage","status":"200","connectionId":"Iq8gj1UmIA\#(String(format: "%04d", n))A=","apiId":"z1ctxygne5"}"#
    }
    var state = CorrelationState(store: TextStore())
    state.inlineMessageLimit = 2_000
    func inlineBytes() -> Int { state.activity.values.reduce(0) { $0 + ($1.lastEvidence?.body.inlineByteCount ?? 0) } }
    var mostInline = 0
    for n in 0..<100 {
      var f = FactFields()
      f.set(.connectionId, raw: "Iq8gj1UmIA\(String(format: "%04d", n))A=")
      f.set(.eventType, raw: "MESSAGE")
      f.set(.routeKey, raw: "sendmessage")
      state.add(Fact(kind: .request, rule: "request-context", time: 1_690_374_046_000 + EpochMillis(n),
        origin: Origin(input: 0, line: n + 1), fields: f, text: row(n)))
      #expect(inlineBytes() <= 2_000, "after row \(n)")
      mostInline = max(mostInline, inlineBytes())
    }
    #expect(mostInline > 1_000, "lines are held as strings up to the bound")
    let bodies = state.activity.values.compactMap { $0.lastEvidence?.body }
    #expect(bodies.count == 100)
    #expect(Set(bodies.map(\.string)) == Set((0..<100).map(row)))
  }

  /// Invocations merged from states that number their streams differently give the records one
  /// state would have: earliest START, latest END, the stream of the first line read. An id that
  /// does not pack (longer than 16 bytes, not a UUID) is kept as well as one that does.
  @Test func spilledInvocationsMergeAcrossStreamNumberings() {
    let lambda = "57593f79-6e46-4a6f-91b1-f5d848cc2059", odd = "custom-invocation-id-from-a-test-runtime"
    func line(_ kind: Fact.Kind, _ id: String, _ time: EpochMillis, stream: String) -> Fact {
      var f = FactFields()
      f.lambdaRequestId = id
      return Fact(kind: kind, rule: "test", time: time, origin: Origin(input: 0, line: 1), group: "/aws/lambda/chat",
        stream: stream, fields: f, text: "")
    }
    var a = CorrelationState(store: TextStore()), b = CorrelationState(store: TextStore())
    a.add(line(.invocationStart, lambda, 1_000, stream: "s1"))
    b.add(line(.invocationStart, "c793869b-ee49-115b-a5b6-4fd21e8dedac", 500, stream: "s2"))
    b.add(line(.invocationEnd, lambda, 2_000, stream: "s1"))
    b.add(line(.invocationEnd, lambda, 1_500, stream: "s1"))
    b.add(line(.invocationStart, odd, 3_000, stream: "s2"))
    a.merge(b)
    let s1 = a.streams.firstIndex { $0.stream == "s1" }!, s2 = a.streams.firstIndex { $0.stream == "s2" }!
    let found = a.invocations.records(ids: [CompactID(lambda)], streams: [CorrelationState.StreamID(s2)])
    #expect(found.count == 3)
    #expect(found[CompactID(lambda)].map { [$0.start, $0.end, EpochMillis($0.stream)] } == [1_000, 2_000, EpochMillis(s1)])
    #expect(found[CompactID(odd)].map { [$0.start, $0.end, EpochMillis($0.stream)] } == [3_000, .min, EpochMillis(s2)])
    #expect(found[CompactID("c793869b-ee49-115b-a5b6-4fd21e8dedac")]?.start == 500)
    // Asked for nothing: nothing is read back.
    #expect(a.invocations.records(ids: [], streams: []).isEmpty)
  }

  /// A streamed report is the rendered one, cut into pieces.
  @Test func aDrainedJSONWriterWritesTheSameBytes() {
    func build(_ w: inout JSONWriter) {
      w.array { w in
        for i in 0..<500 {
          w.object { w in
            w.field("i", int: i)
            w.field("text", "line \(i) \"quoted\"\n")
          }
          w.drain(over: 100)
        }
      }
    }
    var whole = JSONWriter(pretty: true)
    build(&whole)
    var pieces: [String] = []
    var streamed = JSONWriter(pretty: true) { pieces.append(String(decoding: $0, as: UTF8.self)) }
    build(&streamed)
    #expect(pieces.count > 10)
    #expect(pieces.joined() + streamed.output == whole.output)
  }

  @Test func anAtomicWriterShowsNothingUntilCommitted() throws {
    let dir = Fixture.directory()
    let path = dir.appendingPathComponent("report.json").path
    do {
      let writer = try AtomicFile.Writer(path: path)
      writer.write("{\"partial\":")
      #expect(!FileManager.default.fileExists(atPath: path))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "a dropped writer leaves nothing")
    let writer = try AtomicFile.Writer(path: path)
    for i in 0..<3 { writer.write("\(i)") }
    #expect(!FileManager.default.fileExists(atPath: path))
    try writer.commit()
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "012")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["report.json"])
  }

  /// The fields a fact keeps out of line (`OutOfLineDetails`) must behave as the stored fields
  /// they replaced: a copy changed does not change the original, and facts compare and hash by
  /// value, so a field set and cleared again leaves a fact equal to one never given it.
  @Test func outOfLineFactFieldsBehaveAsStoredOnes() throws {
    // log-formats.md §2.3 (VERIFIED-REAL), a `$connect` access-log row, read by the builtin rules.
    let row = #"{"requestId":"Iq9gwFDNoAMFo1A=","ip":"1.128.0.0","caller":"-","user":"-","requestTime":"26/Jul/2023:12:20:46 +0000","eventType":"CONNECT","routeKey":"$connect","status":"500","connectionId":"Iq8gj1UmIAMCKpA=","apiId":"z1ctxygne5","stage":"production","domainName":"z1ctxygne5.execute-api.us-east-1.amazonaws.com"}"#
    let read = try #require(recognize(row).first { $0.kind == .request }).fields
    #expect(read.status == 500 && read.sourceIp == "1.128.0.0" && read.connectionId == "Iq8gj1UmIAMCKpA=")
    var a = FactFields()
    a.connectionId = read.connectionId
    var b = a
    b.sourceIp = read.sourceIp
    b.userAgent = "Amazon CloudFront"  // §2.4 (VERIFIED-REAL): a captured `$disconnect` event's user agent
    #expect(a.sourceIp == nil && a.userAgent == nil, "setting a copy's detail leaves the original alone")
    #expect(b.sourceIp == "1.128.0.0" && b.userAgent == "Amazon CloudFront")
    var c = b
    c.userAgent = nil
    #expect(b.userAgent == "Amazon CloudFront", "clearing a copy's detail leaves the original alone")
    #expect(c.userAgent == nil && c.sourceIp == "1.128.0.0")
    #expect(a != b && b != c)
    c.sourceIp = nil
    #expect(c == a, "every detail cleared: equal to a fact never given one")
    #expect(c.hashValue == a.hashValue)
    var d = read
    d.status = nil
    #expect(read.status == 500 && d.status == nil && d != read, "a recognized fact's copy changes alone")
    #expect(Set([a, b, c, d, read]).count == 4, "a and c are the same value")
  }
}
