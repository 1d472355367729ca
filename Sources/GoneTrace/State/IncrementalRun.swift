import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// One run continuing from a `--state` file, for cron: reads only what was appended to each input
/// since the last run, replays the events of connections still open, and reports only 410s not
/// reported before.
public enum IncrementalRun {
  /// API Gateway closes every WebSocket connection after 2 hours, so nothing older can explain a
  /// new 410 (with `--skew` added for clock differences between log groups).
  public static let connectionLifetime: EpochMillis = 2 * 3_600_000

  public struct Outcome: Sendable {
    public var analysis: Analysis
    public var state: RunState
    /// 410s found again in replayed or re-read events, reported by an earlier run and left out.
    public var alreadyReported: Int
  }

  public static func run(
    paths: [String], options: AnalysisOptions, previous: consuming RunState?, statePath: String, window: TimeWindow?,
    version: String, now: EpochMillis
  ) -> Outcome {
    var diagnostics: [Diagnostic] = []
    var inputErrors: [InputError] = []
    var inputs = InputResolver.resolve(paths, diagnostics: &diagnostics, errors: &inputErrors)
    // A state file kept in the log directory is not a log.
    if let stateId = FileIdentity.ofRegularFile(statePath)?.identity {
      inputs.removeAll { $0.path.flatMap(FileIdentity.ofRegularFile)?.identity == stateId }
    }
    var previous = previous ?? RunState(writtenBy: version, savedAt: now)
    // Moved out, not copied: the window's events are the state's bulk (36 MB of messages in a
    // busy API's 2 hours), and each copy of the list is 80 bytes an event more.
    let previouslyRetained = previous.retained
    previous.retained = []

    // Plan what to read of each input, and set aside the ones with nothing new.
    var toRead: [Input] = []
    var plans: [Plan] = []
    var unchanged: [(Input, RunState.Cursor)] = []
    for var input in inputs {
      guard let path = input.path, let plan = Plan(path: path, name: input.name, previous: previous.cursors) else {
        toRead.append(input)
        plans.append(Plan.none)
        continue
      }
      if plan.isEmpty, let cursor = plan.previous {
        unchanged.append((input, cursor))
        continue
      }
      input.byteRange = plan.range
      input.linesBefore = plan.linesBefore
      input.format = plan.resumes ? plan.previous?.format : nil
      toRead.append(input)
      plans.append(plan)
    }

    // Inputs with nothing new, and those only known from the state, still own retained events.
    var extra = unchanged.map { input, cursor in
      InputSummary(name: input.name, format: cursor.format, compressed: cursor.compressed, events: 0, unparsed: 0, bytes: 0)
    }
    var names = toRead.map(\.name) + extra.map(\.name)
    var replay: [RetainedEvent] = []
    replay.reserveCapacity(previouslyRetained.reduce(0) { $0 + $1.events.count })
    for kept in consume previouslyRetained {
      let index: Int
      if let i = names.firstIndex(of: kept.name) {
        index = i
      } else {
        index = names.count
        names.append(kept.name)
        extra.append(InputSummary(name: kept.name, format: kept.format, compressed: false, events: 0, unparsed: 0, bytes: 0))
      }
      for var event in kept.events {
        event.origin.input = index
        replay.append(event)
      }
    }

    var options = options
    options.retainWindow = connectionLifetime + options.correlation.skew
    var analysis = Analyzer.run(inputs: toRead, diagnostics: diagnostics, inputErrors: inputErrors, options: options, replay: consume replay,
      extraInputs: extra)

    // Keep the 2-hour window that ends at the newest event ever read.
    let newest = [previous.newestEvent, analysis.timeRange?.upperBound].compactMap { $0 }.max()
    let cutoff = newest.map { $0 - connectionLifetime - options.correlation.skew } ?? .min

    // Report each 410 once: by the line that recorded it.
    let reportedBefore = Set(previous.reported.map(\.key))
    var reported = previous.reported.filter { $0.time >= cutoff }
    var fresh: [Verdict] = []
    var again = 0
    for v in analysis.verdicts where window?.contains(v.time) ?? true {
      let key = reportKey(v)
      if reportedBefore.contains(key) {
        again += 1
      } else {
        fresh.append(v)
        reported.append(RunState.Reported(key: key, time: v.time))
      }
    }
    analysis.verdicts = VerdictList(fresh)

    var state = RunState(writtenBy: version, savedAt: now)
    state.newestEvent = newest
    state.reported = reported
    state.totals = previous.totals + analysis
    // By input, then position: sorted in one list and cut at each input (one copy of the list,
    // not one per grouping and sorting step).
    var kept = analysis.retained.filter { $0.timestamp >= cutoff }
    analysis.retained = []
    kept.sort { ($0.origin, $0.timestamp) < ($1.origin, $1.timestamp) }
    var start = kept.startIndex
    while start < kept.endIndex {
      let i = kept[start].origin.input
      let end = kept[start...].firstIndex { $0.origin.input != i } ?? kept.endIndex
      state.retained.append(RunState.RetainedInput(name: analysis.inputs[i].name, format: analysis.inputs[i].format,
        events: Array(kept[start..<end])))
      start = end
    }

    // Advance the cursors of inputs read without error; keep the others (and those of files not
    // given this time but still there, as cron lines may alternate between directories).
    var cursors: [String: RunState.Cursor] = [:]
    for cursor in previous.cursors where FileManager.default.fileExists(atPath: cursor.name) {
      cursors[cursor.name] = cursor
    }
    for (input, cursor) in unchanged { cursors[input.name] = cursor }
    for (i, input) in toRead.enumerated() {
      guard let path = input.path, plans[i].identity != nil else { continue }
      guard !analysis.inputErrors.contains(where: { $0.input == input.name }) else { continue }
      cursors[input.name] = plans[i].advanced(path: path, name: input.name, format: analysis.inputs[i].format)
    }
    state.cursors = cursors.keys.sorted().map { cursors[$0]! }
    return Outcome(analysis: analysis, state: state, alreadyReported: again)
  }

  /// A 410's identity across runs: the time and text of the line that recorded it, wherever that
  /// line is read from. An overlapping fetch appended to a file (`filter-log-events >> f.json`)
  /// brings the same line at another position; it is still the same 410.
  static func reportKey(_ v: Verdict) -> String {
    guard let e = v.recordedBy ?? v.evidence.first else { return "\(v.time)|\(v.connectionId ?? "")" }
    return "\(e.time)|" + String(FNV1a.hash(e.text.utf8), radix: 16)
  }

  /// What to read of one file this run.
  struct Plan {
    /// The file's identity; nil for standard input.
    var identity: FileIdentity?
    var previous: RunState.Cursor?
    var range: Range<Int64>?
    var linesBefore = 0
    var resumes = false
    var compressed = false
    /// Newlines inside `range`.
    var newlines = 0

    static let none = Plan()
    /// How much of a file's head is hashed to tell a file rewritten in place.
    static let headLength: Int64 = 4096
    var isEmpty: Bool { range?.isEmpty ?? false }

    private init() {}

    init?(path: String, name: String, previous cursors: [RunState.Cursor]) {
      guard let (identity, size) = FileIdentity.ofRegularFile(path), let file = ReadOnlyFile(path: path) else {
        return nil
      }
      self.identity = identity
      compressed = file.startsWithGzipMagic
      // The cursor of this name, or of this file under an earlier name (rotated).
      let previous = cursors.first { $0.name == name && $0.inode == identity.inode && $0.device == identity.device }
        ?? cursors.first { $0.inode == identity.inode && $0.device == identity.device }
      var start: Int64 = 0
      if let previous, size >= previous.offset,
        file.headHash(length: min(previous.offset, Plan.headLength)) == previous.headHash
      {
        self.previous = previous
        start = previous.offset
        linesBefore = previous.lines
        resumes = start > 0
      } else {
        self.previous = nil
      }
      if compressed {
        // A gzip member cannot be entered in the middle: unchanged is skipped, changed is read whole
        // (the 410s it held are recognised as already reported).
        range = start == size && start > 0 ? size..<size : 0..<size
        resumes = false
        linesBefore = 0
        return
      }
      // Stop after the last complete line: a line being written is read whole next time.
      let scan = file.newlines(in: start..<size)
      if let end = scan.lastEnd {
        range = start..<end
        newlines = scan.count
      } else {
        range = start == 0 ? 0..<size : start..<start
      }
    }

    func advanced(path: String, name: String, format: EnvelopeFormat?) -> RunState.Cursor? {
      guard let identity, let range, let file = ReadOnlyFile(path: path) else { return nil }
      let offset = range.upperBound
      return RunState.Cursor(name: name, device: identity.device, inode: identity.inode, offset: offset,
        lines: linesBefore + newlines, headHash: file.headHash(length: min(offset, Plan.headLength)),
        compressed: compressed, format: format ?? previous?.format)
    }
  }
}

/// Positioned reads for planning an incremental run.
final class ReadOnlyFile {
  private let fd: Int32

  init?(path: String) {
    fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return nil }
  }

  deinit { close(fd) }

  private func read(_ count: Int, at offset: Int64) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
    return Array(bytes.prefix(max(0, n)))
  }

  var startsWithGzipMagic: Bool {
    let head = read(2, at: 0)
    return head.count == 2 && head[0] == GzipSource.gzipMagic.0 && head[1] == GzipSource.gzipMagic.1
  }

  /// FNV-1a 64 of the first `length` bytes.
  func headHash(length: Int64) -> UInt64 { FNV1a.hash(read(Int(length), at: 0)) }

  /// The newlines in `range`, and the offset just past the last one.
  func newlines(in range: Range<Int64>) -> (count: Int, lastEnd: Int64?) {
    let chunk = 1 << 20
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
    defer { buffer.deallocate() }
    var count = 0
    var lastEnd: Int64?
    var offset = range.lowerBound
    while offset < range.upperBound {
      let want = Int(min(Int64(chunk), range.upperBound - offset))
      let n = pread(fd, buffer.baseAddress, want, off_t(offset))
      if n <= 0 { break }
      var p = buffer.baseAddress!
      let end = p + n
      while p < end, let hit = memchr(p, 0x0A, end - p) {
        count += 1
        lastEnd = offset + Int64(buffer.baseAddress!.distance(to: hit)) + 1
        p = UnsafeMutableRawPointer(hit) + 1
      }
      offset += Int64(n)
    }
    return (count, lastEnd)
  }
}

/// FNV-1a, 64 bits: a stable hash for state keys (Swift's Hasher is seeded per process).
enum FNV1a {
  static func hash<S: Sequence<UInt8>>(_ bytes: S) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return hash
  }
}
