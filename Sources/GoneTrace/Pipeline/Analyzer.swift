import Foundation

public struct AnalysisOptions: Sendable {
  public var forcedFormat: EnvelopeFormat?
  public var rules: RuleSet = .builtin
  /// Inputs are decoded and recognized on this many threads (each with its own recognizer and
  /// state, merged at the end: the result does not depend on it).
  public var threads = 2
  public var correlation = CorrelationOptions()
  public var limits = ReaderLimits()
  public init() {}
}

/// Everything one run found.
public struct Analysis: Sendable {
  public var inputs: [InputSummary]
  public var diagnostics: [Diagnostic]
  /// Inputs that could not be read at all (exit status 2).
  public var inputErrors: [InputError]
  public var correlation: Correlation
  public var verdicts: [Verdict]
  public var timeRange: ClosedRange<EpochMillis>?
  public var events: Int { inputs.reduce(0) { $0 + $1.events } }
}

/// Wires the stages: Source → Envelope → Recognizer → Correlator → Classifier.
public enum Analyzer {
  public static func run(paths: [String], options: AnalysisOptions) -> Analysis {
    var diagnostics: [Diagnostic] = []
    var inputErrors: [InputError] = []
    // A path that cannot be read is an input error (exit status 2), but the others are still read.
    let inputs = InputResolver.resolve(paths, diagnostics: &diagnostics, errors: &inputErrors)
    // Unreadable entries met in a directory walk are diagnostics (named, on stderr, in the report):
    // the rest of the tree is still read.
    let results = readAll(inputs, options: options)
    var state = CorrelationState()
    // Paths that could not even be opened (missing, a dangling link, a loop, a locked directory)
    // are inputs too: listed, with their problem counted as unparsed.
    var summaries: [InputSummary] = inputErrors.map { e in
      InputSummary(name: e.input, format: nil, compressed: false, events: 0, unparsed: 1, bytes: 0)
    }
    summaries += diagnostics.filter { $0.severity == .error }.map { d in
      InputSummary(name: d.input, format: nil, compressed: false, events: 0, unparsed: 1, bytes: 0)
    }
    var range: ClosedRange<EpochMillis>?
    for r in results {
      state.merge(r.state)
      diagnostics.append(contentsOf: r.diagnostics)
      if let s = r.summary { summaries.append(s) }
      if let e = r.error { inputErrors.append(e) }
      if let rr = r.timeRange { range = range.map { min($0.lowerBound, rr.lowerBound)...max($0.upperBound, rr.upperBound) } ?? rr }
    }
    let correlation = state.correlate(options.correlation)
    diagnostics.append(contentsOf: duplicateDiagnostics(correlation.duplicateGoneLines, inputs: inputs))
    let verdicts = Classifier(skew: options.correlation.skew).classify(correlation)
    return Analysis(inputs: summaries, diagnostics: diagnostics, inputErrors: inputErrors, correlation: correlation,
      verdicts: verdicts, timeRange: range)
  }

  /// One warning per input that repeated 410 lines of another (or of itself): overlapping
  /// exports, a file given twice. Not counted as unparsed: the lines were read, and counted once.
  static func duplicateDiagnostics(_ duplicates: [DuplicateLine], inputs: [Input]) -> [Diagnostic] {
    var byInput: [Int: [DuplicateLine]] = [:]
    for d in duplicates { byInput[d.dropped.input, default: []].append(d) }
    return byInput.keys.sorted().map { i in
      let lines = byInput[i]!.sorted { $0.dropped < $1.dropped }
      let first = lines[0]
      let keptName = inputs.indices.contains(first.kept.input) ? inputs[first.kept.input].name : "?"
      let keptAt = first.kept.line.map { ":\($0)" } ?? first.kept.record.map { ":record \($0)" } ?? ""
      return Diagnostic(input: inputs.indices.contains(i) ? inputs[i].name : "?", line: first.dropped.line,
        record: first.dropped.record, severity: .warning,
        message: "\(lines.count) line\(lines.count == 1 ? "" : "s") recording a 410 already read "
          + "(first one as \(keptName)\(keptAt)); the same event read twice is counted once")
    }
  }

  struct InputResult: Sendable {
    var summary: InputSummary?
    var error: InputError?
    var state = CorrelationState()
    var diagnostics: [Diagnostic] = []
    var timeRange: ClosedRange<EpochMillis>?
  }

  /// Reads inputs on `options.threads` workers, each input whole on one worker.
  static func readAll(_ inputs: [Input], options: AnalysisOptions) -> [InputResult] {
    let workers = max(1, min(options.threads, inputs.count))
    let results = ResultBox(count: inputs.count)
    let next = Counter()
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
      let recognizer = Recognizer(rules: options.rules)
      while let i = next.take(below: inputs.count) {
        results.set(i, read(inputs[i], index: i, recognizer: recognizer, options: options))
      }
    }
    return results.values
  }

  static func read(_ input: Input, index: Int, recognizer: Recognizer, options: AnalysisOptions) -> InputResult {
    var sink = RecognizingSink(recognizer: recognizer, inputName: input.name)
    var result = InputResult()
    do {
      result.summary = try EnvelopeReader.read(input, index: index, forcedFormat: options.forcedFormat,
        limits: options.limits, into: &sink)
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
    result.state = sink.state
    result.diagnostics = sink.diagnostics
    result.timeRange = sink.timeRange
    return result
  }
}

/// Recognizes each event as it is decoded and folds the facts into the correlation state, so
/// memory follows requests and connections, not lines.
struct RecognizingSink: EventSink {
  let recognizer: Recognizer
  let inputName: String
  var state = CorrelationState()
  var diagnostics: [Diagnostic] = []
  var facts: [Fact] = []
  var timeRange: ClosedRange<EpochMillis>?
  var events = 0

  mutating func accept(_ event: RawEvent) {
    events += 1
    if event.hasOwnTime {
      timeRange = timeRange.map { min($0.lowerBound, event.timestamp)...max($0.upperBound, event.timestamp) }
        ?? event.timestamp...event.timestamp
    }
    facts.removeAll(keepingCapacity: true)
    recognizer.recognize(event, inputName: inputName, into: &facts)
    for f in facts { state.add(f) }
  }

  mutating func report(_ diagnostic: Diagnostic) {
    diagnostics.append(diagnostic)
  }
}

/// Thread-safe slots for per-input results.
final class ResultBox: @unchecked Sendable {
  private var storage: [Analyzer.InputResult?]
  private let lock = NSLock()
  init(count: Int) { storage = Array(repeating: nil, count: count) }
  func set(_ i: Int, _ value: Analyzer.InputResult) {
    lock.lock()
    storage[i] = value
    lock.unlock()
  }
  var values: [Analyzer.InputResult] { storage.map { $0! } }
}

final class Counter: @unchecked Sendable {
  private var value = 0
  private let lock = NSLock()
  func take(below limit: Int) -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard value < limit else { return nil }
    value += 1
    return value - 1
  }
}
