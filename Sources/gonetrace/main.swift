import ArgumentParser
import FoundationEssentials
import GoneTrace

#if canImport(Glibc)
import Glibc
#endif

let version = "0.2.0"

/// Exit statuses, as grep and ripgrep use them.
enum Status {
  static let noGone: Int32 = 0
  static let goneFound: Int32 = 1
  static let error: Int32 = 2
}

let exitStatusHelp = """
  Exit status: 0 no 410 found (or all under the --fail-on/--max-gone thresholds); 1 410s found \
  (or a threshold exceeded); 2 error: an unreadable input, a bad option or rules file, a corrupt \
  or foreign state file, or any diagnostic with --strict.
  """

struct InputOptions: ParsableArguments {
  @Argument(help: "Log files or directories (walked recursively); '-' or nothing reads standard input.")
  var paths: [String] = []

  @Option(name: .long, help: "Force the input envelope: \(EnvelopeFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
  var inputFormat: EnvelopeFormat?

  @Option(name: .long, help: "A rules file adding recognition rules (see README, 'Rules'). Repeatable.")
  var rules: [String] = []

  @Option(name: .long, help: "Tolerated clock skew between log groups, in seconds.")
  var skew: Double = 2

  @Option(name: .long, help: "How a client is recognised across reconnects: auto (principal, else IP + user agent), principal, ip, ip-ua.")
  var clientKey: ClientKey = .auto

  @Option(name: .long, help: "Worker threads for decoding, recognition and the JSON reports (results do not depend on it).")
  var threads: Int = 2

  @Flag(name: .long, help: ArgumentHelp("Decide every 410 in one pass over all the logs, not in 6-hour windows of a long run (more memory; for checking the windows).", visibility: .hidden))
  var onePass = false

  @Option(name: .long, help: ArgumentHelp("Hours of log time whose 410s one window decides (2 h 30 min of logs either side of them are read too).", visibility: .hidden))
  var windowCoreHours: Double = 6

  @Option(name: .long, help: ArgumentHelp("MiB of state a long run may hold in one pass before it is decided in windows (0: always windows).", visibility: .hidden))
  var wholeRunBudgetMib: Int = TimeSlicing.standard.wholeRunBudget >> 20

  func analysisOptions() throws -> AnalysisOptions {
    var options = AnalysisOptions()
    options.forcedFormat = inputFormat
    options.rules = try RuleSet.load(userFiles: rules)
    options.threads = max(1, threads)
    options.correlation.skew = EpochMillis(skew * 1000)
    options.correlation.clientKey = clientKey
    if onePass {
      options.slicing = nil
    } else {
      let slice = TimeSlicing.standard.sliceMillis
      options.slicing?.coreSlices = max(1, Int((windowCoreHours * 3_600_000 / Double(slice)).rounded()))
      options.slicing?.wholeRunBudget = max(0, wholeRunBudgetMib) << 20
    }
    return options
  }
}

extension EnvelopeFormat: ExpressibleByArgument {}
extension ClientKey: ExpressibleByArgument {}
extension ReportFormat: ExpressibleByArgument {}

enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
  case auto, always, never
}

struct Gonetrace: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gonetrace",
    abstract: "Tells why an API Gateway WebSocket backend gets 410 GoneException.",
    discussion: """
      Reads CloudWatch logs (API Gateway execution and access logs, Lambda logs) in any of their \
      shapes, correlates request ids and connection ids, and classifies every 410 with the lines \
      that decided it.

      \(exitStatusHelp)
      """,
    version: version,
    subcommands: [Analyze.self, Explain.self],
    defaultSubcommand: Analyze.self)
}

struct Analyze: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Classify every 410 GoneException in the given logs.",
    discussion: exitStatusHelp)

  @OptionGroup var input: InputOptions

  @Option(name: .long, help: "Report format: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")) (default: from the -o file's extension, else text).")
  var format: ReportFormat?

  @Option(name: [.short, .customLong("output")], help: "Write the report to this file (atomically) instead of standard output.")
  var output: String?

  @Option(name: .long, help: "Colour in the text report: auto (on a terminal, unless NO_COLOR is set), always, never.")
  var color: ColorChoice = .auto

  @Option(name: .long, help: "Only these causes or details make the exit status 1, comma-separated (e.g. pre-connect-post,reconnect-with-old-id).")
  var failOn: String?

  @Option(name: .long, help: "Exit status 1 only when more than N 410s (of the --fail-on causes) are found.")
  var maxGone: Int?

  @Option(name: .long, help: "Report only 410s at or after this time: ISO-8601 (2024-05-19T06:10:00Z) or an age (30m, 2h, 7d).")
  var since: String?

  @Option(name: .long, help: "Report only 410s at or before this time (same forms as --since).")
  var until: String?

  @Option(name: .long, help: "Incremental runs: read only what is new since the run that wrote FILE, and never report a 410 twice.")
  var state: String?

  @Flag(name: .long, help: "Start the --state file over, even when it is corrupt or not a gonetrace state file.")
  var resetState = false

  @Flag(name: .long, help: "Treat any diagnostic about the input (a bad line, a cut gzip) as an error: exit status 2.")
  var strict = false

  @Flag(name: [.short, .long], help: "No progress display and no warnings on standard error (errors are still printed).")
  var quiet = false

  @Option(name: .long, help: ArgumentHelp("Take this ISO-8601 time as now (for relative --since/--until and report stamps).", visibility: .hidden))
  var now: String?

  func validate() throws {
    if let maxGone, maxGone < 0 { throw ValidationError("--max-gone must be 0 or more, not \(maxGone)") }
    if resetState, state == nil { throw ValidationError("--reset-state needs --state FILE") }
    if format == nil, let output, ReportFormat(fileName: output) == nil {
      throw ValidationError("cannot tell the format from '\(output)': give --format")
    }
    _ = try failCriteria()
  }

  func failCriteria() throws -> FailCriteria {
    guard let failOn else { return FailCriteria(causes: nil, details: nil, maxGone: maxGone ?? 0) }
    var causes = Set<Cause>(), details = Set<Detail>()
    // `--fail-on "pre-connect-post, reconnect-with-old-id"`: names are trimmed of the blanks around them.
    func trimmed(_ part: Substring) -> String {
      let head = part.drop(while: \.isWhitespace)
      return String(head[..<(head.lastIndex { !$0.isWhitespace }.map(head.index(after:)) ?? head.startIndex)])
    }
    for name in failOn.split(separator: ",").map(trimmed) where !name.isEmpty {
      if let c = Cause(rawValue: name) {
        causes.insert(c)
      } else if let d = Detail(rawValue: name) {
        details.insert(d)
      } else {
        throw ValidationError("--fail-on: '\(name)' is not a cause or detail; causes are "
          + Cause.allCases.map(\.rawValue).joined(separator: ", "))
      }
    }
    return FailCriteria(causes: causes, details: details, maxGone: maxGone ?? 0)
  }

  func run() throws {
    let clock = try now.map { try parseTime($0, now: 0, option: "--now") } ?? EpochMillis(Date().timeIntervalSince1970 * 1000)
    let window = TimeWindow(since: try since.map { try parseTime($0, now: clock, option: "--since") },
      until: try until.map { try parseTime($0, now: clock, option: "--until") })
    var options = try input.analysisOptions()
    let progress = ProgressDisplay.start(paths: input.paths, enabled: !quiet && isatty(2) == 1)
    options.progress = progress?.meter

    var context = ReportContext(version: version, generatedAt: clock)
    context.threads = options.threads
    context.window = window.since == nil && window.until == nil ? nil : window
    var analysis: Analysis
    var newState: RunState?
    var lock: StateLock?
    defer { withExtendedLifetime(lock) {} }
    if let statePath = state {
      let previous: RunState?
      do {
        lock = try StateLock(statePath: statePath)
        previous = resetState ? nil : try RunState.load(path: statePath)
      } catch {
        progress?.stop()
        Output.error("gonetrace: \(error)")
        throw ExitCode(Status.error)
      }
      let outcome = IncrementalRun.run(paths: input.paths, options: options, previous: consume previous, statePath: statePath,
        window: context.window, version: version, now: clock)
      analysis = outcome.analysis
      newState = outcome.state
      context.cumulative = outcome.state.totals
      if outcome.alreadyReported > 0, !quiet {
        Output.error("gonetrace: \(outcome.alreadyReported) 410s were reported by an earlier run (--state \(statePath)) and are left out")
      }
    } else {
      analysis = Analyzer.run(paths: input.paths, options: options)
      if let w = context.window { analysis = analysis.restricted(to: w) }
    }
    progress?.stop()

    let format = format ?? output.flatMap(ReportFormat.init(fileName:)) ?? .text
    context.color = format == .text && output == nil && useColor()
    if let output {
      do {
        let file = try AtomicFile.Writer(path: output)
        format.write(analysis, context) { file.write($0) }
        try file.commit()
      } catch {
        Output.error("gonetrace: \(error)")
        throw ExitCode(Status.error)
      }
    } else {
      format.write(analysis, context) { Output.write($0) }
    }
    MemoryTrace.mark("reported")
    // The state is saved only once the report is out, so a failed run is repeated, not skipped.
    if let newState, let statePath = state {
      do {
        try newState.save(path: statePath)
      } catch {
        Output.error("gonetrace: \(error)")
        throw ExitCode(Status.error)
      }
    }
    // The analysis lives until the process exits: freeing a day of verdicts (and, for `explain`,
    // timelines) one by one only to exit is time for nothing.
    keptUntilExit = analysis
    // A text report on the terminal ends with the diagnostics already; elsewhere they go to stderr.
    let reportShowsDiagnostics = format == .text && output == nil
    try finish(analysis, criteria: try failCriteria(), strict: strict, showDiagnostics: !quiet && !reportShowsDiagnostics)
  }

  func useColor() -> Bool {
    switch color {
    case .always: return true
    case .never: return false
    case .auto:
      if let noColor = ProcessInfo.processInfo.environment["NO_COLOR"], !noColor.isEmpty { return false }
      return isatty(1) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }
  }
}

func parseTime(_ text: String, now: EpochMillis, option: String) throws -> EpochMillis {
  do {
    return try TimeWindow.parseBound(text, now: now)
  } catch {
    throw ValidationError("\(option): \(error)")
  }
}

/// Which 410s make the exit status 1.
struct FailCriteria {
  /// nil: every cause counts.
  var causes: Set<Cause>?
  var details: Set<Detail>?
  var maxGone: Int

  func exceeded(by verdicts: VerdictList) -> Bool {
    guard let causes, let details else { return verdicts.count > maxGone }
    // Counted in place: filtering copied every verdict (a dozen reference-counted fields each).
    var counted = 0
    for i in verdicts.indices where causes.contains(verdicts.detail(at: i).cause) || details.contains(verdicts.detail(at: i)) {
      counted += 1
    }
    return counted > maxGone
  }
}

struct Explain: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show one connection's timeline, every event with its origin, and the verdicts about it.",
    discussion: exitStatusHelp)

  @Argument(help: "The connectionId, e.g. R1kmxc2VNjMCFIA=")
  var connectionId: String

  @OptionGroup var input: InputOptions

  func run() throws {
    var options = try input.analysisOptions()
    options.keepsTimelines = true
    let analysis = Analyzer.run(paths: input.paths, options: options)
    Output.write(TextReport.explain(connectionId, analysis))
    try finish(analysis, criteria: FailCriteria(causes: nil, details: nil, maxGone: 0), strict: false, showDiagnostics: true)
  }
}

/// See `keptUntilExit = analysis` in `Analyze.run`.
nonisolated(unsafe) var keptUntilExit: Analysis?

func finish(_ analysis: Analysis, criteria: FailCriteria, strict: Bool, showDiagnostics: Bool) throws {
  let shown = 20
  if showDiagnostics {
    for d in analysis.diagnostics.prefix(shown) { Output.error(d.description) }
    if analysis.diagnostics.count > shown {
      Output.error("gonetrace: \(analysis.diagnostics.count - shown) more diagnostics in the report (--format json or jsonl lists all)")
    }
  }
  for e in analysis.inputErrors { Output.error("gonetrace: \(e)") }
  if !analysis.inputErrors.isEmpty { throw ExitCode(Status.error) }
  if strict, !analysis.diagnostics.isEmpty {
    Output.error("gonetrace: \(analysis.diagnostics.count) diagnostics about the input (--strict)")
    throw ExitCode(Status.error)
  }
  throw ExitCode(criteria.exceeded(by: analysis.verdicts) ? Status.goneFound : Status.noGone)
}

enum Output {
  static func write(_ s: String) {
    var s = s
    s.withUTF8 { write(UnsafeRawBufferPointer($0)) }
  }

  static func write(_ bytes: UnsafeRawBufferPointer) {
    var offset = 0
    while offset < bytes.count {
      let n = Glibc.write(1, bytes.baseAddress! + offset, bytes.count - offset)
      if n < 0 {
        if errno == EINTR { continue }
        // A closed pipe (`| head`) ends the run quietly.
        exit(errno == EPIPE ? 0 : Status.error)
      }
      offset += n
    }
  }

  static func error(_ s: String) {
    ProgressDisplay.clearLine()
    let line = s + "\n"
    _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
  }
}

signal(SIGPIPE, SIG_IGN)
ProcessAllocator.start()
do {
  var command = try Gonetrace.parseAsRoot()
  try command.run()
} catch let code as ExitCode {
  exit(code.rawValue)
} catch {
  // Usage errors and library errors (bad rules, unreadable inputs) all exit 2, never 1:
  // 1 means "410s found" to a script.
  let message = Gonetrace.fullMessage(for: error)
  if !message.isEmpty { Output.error(message) }
  let code = Gonetrace.exitCode(for: error)
  exit(code == .success ? 0 : Status.error)
}
