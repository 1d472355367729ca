import Dispatch
import FoundationEssentials

public struct AnalysisOptions: Sendable {
  public var forcedFormat: EnvelopeFormat?
  public var rules: RuleSet = .builtin
  /// Inputs are decoded and recognized on this many threads (each with its own recognizer and
  /// state, merged at the end: the result does not depend on it).
  public var threads = 2
  public var correlation = CorrelationOptions()
  public var limits = ReaderLimits()
  /// Keep a copy of every event that yields a fact and is at most this much older than the newest
  /// event of its input, for the next incremental run (`--state`); nil keeps none.
  public var retainWindow: EpochMillis?
  /// Counts bytes and events as they are read, for a progress display.
  public var progress: ProgressMeter?
  /// Keep every connection's timeline in the analysis (`gonetrace explain` prints one). Without
  /// it they are let go of once the 410s are classified: a day of them is a third of the peak,
  /// and a report only counts them.
  public var keepsTimelines = false
  /// Long runs over files that can be cut in time are decided window by window (`WindowedPass`),
  /// with memory for a window's traffic; nil decides everything at once (one pass).
  public var slicing: TimeSlicing? = .standard
  /// Line-shaped files at least this large are read in pieces of about `pieceBytes` by all workers.
  var splitMinimumBytes = ChunkedReader.minimumSplitBytes
  var splitPieceBytes = ChunkedReader.pieceBytes
  /// Calls are assembled and classified on several threads only with at least this many lines
  /// (calls) per thread.
  var minimumShare = 1024
  public init() {}
}

/// Everything one run found.
public struct Analysis: Sendable {
  public var inputs: [InputSummary]
  public var diagnostics: [Diagnostic]
  /// Inputs that could not be read at all (exit status 2).
  public var inputErrors: [InputError]
  /// Every connection the logs show, with `AnalysisOptions.keepsTimelines` (else empty: the
  /// correlation is folded into the verdicts and freed).
  public var timelines: [String: ConnectionTimeline]
  /// How many connections the logs show.
  public var connectionsSeen: Int
  public var verdicts: VerdictList
  public var timeRange: ClosedRange<EpochMillis>?
  /// With `retainWindow`: the events that yielded facts, for the next incremental run.
  public var retained: [RetainedEvent] = []
  public var events: Int { inputs.reduce(0) { $0 + $1.events } }
}

/// Wires the stages: Source → Envelope → Recognizer → Correlator → Classifier.
public enum Analyzer {
  public static func run(paths: [String], options: AnalysisOptions) -> Analysis {
    var diagnostics: [Diagnostic] = []
    var inputErrors: [InputError] = []
    // A path that cannot be read is an input error (exit status 2), but the others are still read.
    let inputs = InputResolver.resolve(paths, diagnostics: &diagnostics, errors: &inputErrors)
    return run(inputs: inputs, diagnostics: diagnostics, inputErrors: inputErrors, options: options)
  }

  /// Runs over resolved inputs. `replay` holds events kept by an earlier incremental run; their
  /// origins point into `inputs`, or past its end into `extraInputs` (inputs not given this time).
  public static func run(
    inputs: [Input], diagnostics: [Diagnostic] = [], inputErrors: [InputError] = [], options: AnalysisOptions,
    replay: consuming [RetainedEvent] = [], extraInputs: [InputSummary] = []
  ) -> Analysis {
    // Unreadable entries met in a directory walk are diagnostics (named, on stderr, in the report):
    // the rest of the tree is still read.
    MemoryTrace.mark("start")
    var diagnostics = diagnostics
    let inputErrorsBeforeReading = inputErrors
    var inputErrors = inputErrors
    let resolutionErrors = diagnostics.filter { $0.severity == .error }
    // Events replayed from a `--state` file belong to no slice: such runs are one pass.
    let pass: PassResult
    if replay.isEmpty, let windowed = WindowedPass.run(inputs, options: options) {
      pass = windowed
    } else {
      pass = onePass(inputs, options: options, replay: replay, extraInputs: extraInputs)
    }
    var summaries: [InputSummary] = []
    var range: ClosedRange<EpochMillis>?
    for r in pass.results {
      diagnostics.append(contentsOf: r.diagnostics)
      if let s = r.summary { summaries.append(s) }
      if let e = r.error { inputErrors.append(e) }
      if let rr = r.timeRange { range = range.map { min($0.lowerBound, rr.lowerBound)...max($0.upperBound, rr.upperBound) } ?? rr }
    }
    summaries += extraInputs
    // Paths that could not even be opened (missing, a dangling link, a loop, a locked directory)
    // are inputs too: listed with their problem counted as unparsed, after the inputs that were
    // read (evidence points into those by position).
    summaries += inputErrorsBeforeReading.map { e in
      InputSummary(name: e.input, format: nil, compressed: false, events: 0, unparsed: 1, bytes: 0)
    }
    summaries += resolutionErrors.map { d in
      InputSummary(name: d.input, format: nil, compressed: false, events: 0, unparsed: 1, bytes: 0)
    }
    diagnostics.append(contentsOf: duplicateDiagnostics(pass.duplicateGoneLines,
      names: inputs.map(\.name) + extraInputs.map(\.name)))
    return Analysis(inputs: summaries, diagnostics: diagnostics, inputErrors: inputErrors,
      timelines: pass.timelines, connectionsSeen: pass.connectionsSeen, verdicts: pass.verdicts, timeRange: range,
      retained: pass.results.flatMap(\.retained) + pass.replayed)
  }

  /// What reading and deciding gave, before it is summed up into an `Analysis`.
  struct PassResult {
    var results: [InputResult]
    var verdicts: VerdictList
    var connectionsSeen: Int
    var duplicateGoneLines: [DuplicateLine]
    var timelines: [String: ConnectionTimeline] = [:]
    /// Replayed events (`--state`), retained again.
    var replayed: [RetainedEvent] = []

    init(results: [InputResult], verdicts: VerdictList, connectionsSeen: Int, duplicateGoneLines: [DuplicateLine]) {
      self.results = results
      self.verdicts = verdicts
      self.connectionsSeen = connectionsSeen
      self.duplicateGoneLines = duplicateGoneLines
    }
  }

  /// Everything read, then correlated and classified at once.
  static func onePass(_ inputs: [Input], options: AnalysisOptions, replay: consuming [RetainedEvent],
    extraInputs: [InputSummary]) -> PassResult {
    var (results, state) = readAll(inputs, options: options)
    MemoryTrace.mark("read")
    var replayed: [RetainedEvent] = []
    if !replay.isEmpty {
      let names = (inputs.map(\.name) + extraInputs.map(\.name))
      var sink = RecognizingSink(recognizer: Recognizer(rules: options.rules), inputName: "", retainWindow: options.retainWindow)
      for event in replay {
        sink.inputName = names[event.origin.input]
        event.withRawEvent { sink.accept($0, kept: event) }
      }
      replay = []  // each event is in `sink.retained` now
      state.merge(sink.state)
      replayed = sink.retained
    }
    var correlation = (consume state).correlate(options.correlation, threads: options.threads,
      minimumShare: options.minimumShare)
    MemoryTrace.mark("correlated")
    let verdicts = Classifier(skew: options.correlation.skew).classify(draining: &correlation, threads: options.threads,
      minimumShare: options.minimumShare)
    MemoryTrace.mark("classified")
    var pass = PassResult(results: results, verdicts: VerdictList(verdicts), connectionsSeen: correlation.timelines.count,
      duplicateGoneLines: correlation.duplicateGoneLines)
    pass.replayed = replayed
    if options.keepsTimelines {
      swap(&pass.timelines, &correlation.timelines)
    } else {
      // Let go of on another thread while the report is written: freeing a day of timelines
      // one by one takes a tenth of a second per gigabyte.
      let doomed = Doomed(correlation)
      DispatchQueue.global().async { doomed.free() }
    }
    return pass
  }

  /// One warning per input that repeated 410 lines of another (or of itself): overlapping
  /// exports, a file given twice. Not counted as unparsed: the lines were read, and counted once.
  static func duplicateDiagnostics(_ duplicates: [DuplicateLine], names: [String]) -> [Diagnostic] {
    var byInput: [Int: [DuplicateLine]] = [:]
    for d in duplicates { byInput[d.dropped.input, default: []].append(d) }
    return byInput.keys.sorted().map { i in
      let lines = byInput[i]!.sorted { $0.dropped < $1.dropped }
      let first = lines[0]
      let keptName = names.indices.contains(first.kept.input) ? names[first.kept.input] : "?"
      let keptAt = first.kept.line.map { ":\($0)" } ?? first.kept.record.map { ":record \($0)" } ?? ""
      return Diagnostic(input: names.indices.contains(i) ? names[i] : "?", line: first.dropped.line,
        record: first.dropped.record, severity: .warning,
        message: "\(lines.count) line\(lines.count == 1 ? "" : "s") recording a 410 already read "
          + "(first one as \(keptName)\(keptAt)); the same event read twice is counted once")
    }
  }

  struct InputResult: Sendable {
    var summary: InputSummary?
    var error: InputError?
    /// Merged into the run's state as soon as the input is read (see `Collector`), then emptied.
    var state = CorrelationState()
    var diagnostics: [Diagnostic] = []
    var timeRange: ClosedRange<EpochMillis>?
    var retained: [RetainedEvent] = []
  }

  /// Reads inputs on `options.threads` workers: small inputs whole, one per worker; big
  /// line-shaped files in line-aligned pieces (`ChunkedReader`) so that one large file keeps
  /// every worker busy. Each input's (or piece's) state is merged into the run's state as soon
  /// as it is read, so the run holds one state, not one per input plus their merge: merging is
  /// commutative, and pieces are joined in file order, so the result does not depend on the
  /// split or on which worker finishes first.
  static func readAll(_ inputs: [Input], options: AnalysisOptions) -> ([InputResult], CorrelationState) {
    var plans: [Int: ChunkedReader.Plan] = [:]
    if options.threads > 1 {
      for (i, input) in inputs.enumerated() {
        if let plan = ChunkedReader.plan(input, index: i, options: options) { plans[i] = plan }
      }
    }
    enum Work: Sendable {
      case whole(Int)
      case piece(Int, Int)
    }
    // Whole inputs first: the pieces then fill whatever time the workers have left.
    var queue: [Work] = inputs.indices.filter { plans[$0] == nil }.map { .whole($0) }
    for i in inputs.indices {
      if let plan = plans[i] { queue += plan.starts.indices.map { .piece(i, $0) } }
    }
    let work = queue
    let workers = max(1, min(options.threads, work.count))
    let collector = Collector(count: inputs.count, plans: plans)
    let next = Counter()
    let plansCopy = plans
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
      let recognizer = Recognizer(rules: options.rules)
      let buffer = ReadBuffer(byteCount: options.limits.chunkBytes)
      while let w = next.take(below: work.count) {
        switch work[w] {
        case .whole(let i):
          collector.add(i, read(inputs[i], index: i, recognizer: recognizer, buffer: buffer, options: options))
        case .piece(let i, let k):
          collector.add(i, piece: k, ChunkedReader.read(plansCopy[i]!, piece: k, recognizer: recognizer, buffer: buffer,
            options: options))
        }
      }
    }
    return collector.finished()
  }

  static func read(_ input: Input, index: Int, recognizer: Recognizer, buffer: ReadBuffer,
    options: AnalysisOptions) -> InputResult {
    var sink = RecognizingSink(recognizer: recognizer, inputName: input.name, retainWindow: options.retainWindow,
      linesBefore: input.linesBefore, progress: options.progress)
    var result = InputResult()
    do {
      result.summary = try EnvelopeReader.read(input, index: index, forcedFormat: options.forcedFormat,
        limits: options.limits, progress: options.progress, buffer: buffer, into: &sink)
    } catch {
      // Unreadable, or no known shape, or a read that failed part way (the events before it stay).
      result.error = error
      result.summary = InputSummary(name: input.name, format: nil, compressed: false, events: sink.events,
        unparsed: 1 + sink.diagnostics.filter { $0.severity == .error }.count, bytes: 0)
    }
    // A line a rule could not finish matching (a PCRE2 limit) is an input problem too.
    let recognizerDiagnostics = recognizer.takeDiagnostics()
    result.summary?.unparsed += recognizerDiagnostics.filter { $0.severity == .error }.count
      + recognizer.takeSuppressedDiagnosticCount()
    sink.diagnostics.append(contentsOf: recognizerDiagnostics)
    options.progress?.add(events: sink.events % RecognizingSink.progressBatch)
    sink.state.inputRead()
    result.state = sink.state
    result.diagnostics = sink.diagnostics
    result.timeRange = sink.timeRange
    result.retained = sink.retained
    return result
  }
}

/// Recognizes each event as it is decoded and folds the facts into the correlation state, so
/// memory follows requests and connections, not lines.
struct RecognizingSink: EventSink {
  let recognizer: Recognizer
  var inputName: String
  let retainWindow: EpochMillis?
  /// Added to line numbers when an incremental run starts mid-file.
  var linesBefore = 0
  var retained: [RetainedEvent] = []
  var nextPrune = 65_536
  var progress: ProgressMeter?
  static let progressBatch = 4096
  var state: CorrelationState
  var diagnostics: [Diagnostic] = []
  var facts: [Fact] = []
  /// The file events with a `fileOffset` come from.
  var sourceFile: SourceFile?
  var timeRange: ClosedRange<EpochMillis>?
  var events = 0

  init(recognizer: Recognizer, inputName: String, retainWindow: EpochMillis?, linesBefore: Int = 0,
    progress: ProgressMeter? = nil)
  {
    self.recognizer = recognizer
    self.inputName = inputName
    self.retainWindow = retainWindow
    self.linesBefore = linesBefore
    self.progress = progress
    // The state's per-message records go where the recognizer keeps its evidence lines.
    state = CorrelationState(store: recognizer.textStore)
  }

  mutating func accept(_ event: RawEvent) { accept(event, kept: nil) }

  /// `kept`: the event as an earlier run retained it (replayed), retained again as it is rather
  /// than copied (a 2-hour window of a busy API is 36 MB of messages).
  mutating func accept(_ event: RawEvent, kept: RetainedEvent?) {
    // Copied only to be renumbered: a copy retains and releases its group and stream, for every
    // line of the run.
    if linesBefore > 0, let line = event.origin.line {
      var shifted = event
      shifted.origin.line = line + linesBefore
      recognize(shifted, kept: kept)
    } else {
      recognize(event, kept: kept)
    }
  }

  private mutating func recognize(_ event: RawEvent, kept: RetainedEvent?) {
    events += 1
    if events % Self.progressBatch == 0 { progress?.add(events: Self.progressBatch) }
    if event.hasOwnTime {
      timeRange = timeRange.map { min($0.lowerBound, event.timestamp)...max($0.upperBound, event.timestamp) }
        ?? event.timestamp...event.timestamp
    }
    recognizer.recognize(event, inputName: inputName, source: sourceFile, into: &facts)
    if let retainWindow, !facts.isEmpty { retain(kept ?? RetainedEvent(event), window: retainWindow) }
    // Moved out, not copied: a fact holds a dozen reference-counted fields, and copying each
    // one into the state (and destroying the original) was a fifth of the run. The state does
    // not depend on the order facts arrive in.
    while let fact = facts.popLast() { state.add(fact) }
  }

  /// Keeps the event, and now and then drops what fell out of the window behind this input's
  /// newest event, so a first `--state` run over a day of logs holds two hours of them, not a day.
  private mutating func retain(_ event: RetainedEvent, window: EpochMillis) {
    retained.append(event)
    guard retained.count >= nextPrune else { return }
    if let newest = timeRange?.upperBound { retained.removeAll { $0.timestamp < newest - window } }
    nextPrune = max(2 * retained.count, 65_536)
  }

  mutating func eventsAreIn(_ file: SourceFile) { sourceFile = file }

  mutating func report(_ diagnostic: Diagnostic) {
    var diagnostic = diagnostic
    if linesBefore > 0, let line = diagnostic.line { diagnostic.line = line + linesBefore }
    diagnostics.append(diagnostic)
  }
}

/// Gathers what the workers read: each input's result (its state merged into the run's at
/// once and dropped) and the pieces of split inputs, joined in file order as they arrive.
final class Collector: @unchecked Sendable {
  private var results: [Analyzer.InputResult?]
  private var joins: [Int: ChunkedReader.Join]
  private var state = CorrelationState()
  private let lock = Lock()

  init(count: Int, plans: [Int: ChunkedReader.Plan]) {
    results = Array(repeating: nil, count: count)
    joins = plans.mapValues(ChunkedReader.Join.init)
  }

  func add(_ i: Int, _ result: Analyzer.InputResult) {
    var result = result
    let inputState = result.state
    result.state = CorrelationState()
    lock.lock()
    defer { lock.unlock() }
    state.merge(inputState)
    results[i] = result
  }

  func add(_ i: Int, piece k: Int, _ piece: ChunkedReader.PieceResult) {
    lock.lock()
    defer { lock.unlock() }
    joins[i]!.add(k, piece) { _, pieceState in state.merge(pieceState) }
    if joins[i]!.isComplete { results[i] = joins[i]!.finished() }
  }

  func finished() -> ([Analyzer.InputResult], CorrelationState) {
    lock.lock()
    defer { lock.unlock() }
    return (results.map { $0! }, state)
  }
}

/// A value handed to another thread to be freed there (its only reference).
final class Doomed<Value>: @unchecked Sendable {
  private var value: Value?
  init(_ value: consuming Value) { self.value = value }
  func free() { value = nil }
}

final class Counter: @unchecked Sendable {
  private var value = 0
  private let lock = Lock()
  func take(below limit: Int) -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard value < limit else { return nil }
    value += 1
    return value - 1
  }
}
