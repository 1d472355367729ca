import ArgumentParser
import GoneTrace

#if canImport(Glibc)
import Glibc
#endif

let version = "0.1.0"

/// Exit statuses, as grep and ripgrep use them.
enum Status {
  static let noGone: Int32 = 0
  static let goneFound: Int32 = 1
  static let error: Int32 = 2
}

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

  @Option(name: .long, help: "Worker threads for decoding and recognition (results do not depend on it).")
  var threads: Int = 2

  func analysisOptions() throws -> AnalysisOptions {
    var options = AnalysisOptions()
    options.forcedFormat = inputFormat
    options.rules = try RuleSet.load(userFiles: rules)
    options.threads = max(1, threads)
    options.correlation.skew = EpochMillis(skew * 1000)
    options.correlation.clientKey = clientKey
    return options
  }
}

extension EnvelopeFormat: ExpressibleByArgument {}
extension ClientKey: ExpressibleByArgument {}

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
  case text, json
}

struct Gonetrace: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gonetrace",
    abstract: "Tells why an API Gateway WebSocket backend gets 410 GoneException.",
    discussion: """
      Reads CloudWatch logs (API Gateway execution and access logs, Lambda logs) in any of their \
      shapes, correlates request ids and connection ids, and classifies every 410 with the lines \
      that decided it.

      Exit status: 0 no 410 found, 1 410s found, 2 error (unreadable input, bad option or rules).
      """,
    version: version,
    subcommands: [Analyze.self, Explain.self],
    defaultSubcommand: Analyze.self)
}

struct Analyze: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Classify every 410 GoneException in the given logs.",
    discussion: "Exit status: 0 no 410 found, 1 410s found, 2 error.")

  @OptionGroup var input: InputOptions

  @Option(name: .long, help: "Report format: text, json.")
  var format: ReportFormat = .text

  func run() throws {
    let analysis = Analyzer.run(paths: input.paths, options: try input.analysisOptions())
    switch format {
    case .text: Output.write(TextReport.render(analysis))
    case .json: Output.write(JSONReport.render(analysis, version: version))
    }
    try finish(analysis)
  }
}

struct Explain: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show one connection's timeline, every event with its origin, and the verdicts about it.")

  @Argument(help: "The connectionId, e.g. R1kmxc2VNjMCFIA=")
  var connectionId: String

  @OptionGroup var input: InputOptions

  func run() throws {
    let analysis = Analyzer.run(paths: input.paths, options: try input.analysisOptions())
    Output.write(TextReport.explain(connectionId, analysis))
    try finish(analysis)
  }
}

func finish(_ analysis: Analysis) throws {
  for d in analysis.diagnostics where d.severity == .error { Output.error(d.description) }
  for e in analysis.inputErrors { Output.error("gonetrace: \(e)") }
  if !analysis.inputErrors.isEmpty { throw ExitCode(Status.error) }
  throw ExitCode(analysis.verdicts.isEmpty ? Status.noGone : Status.goneFound)
}

enum Output {
  static func write(_ s: String) {
    var bytes = Array(s.utf8)
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeMutableBytes { Glibc.write(1, $0.baseAddress! + offset, $0.count - offset) }
      if n < 0 {
        if errno == EINTR { continue }
        // A closed pipe (`| head`) ends the run quietly.
        exit(errno == EPIPE ? 0 : Status.error)
      }
      offset += n
    }
  }

  static func error(_ s: String) {
    let line = s + "\n"
    _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
  }
}

signal(SIGPIPE, SIG_IGN)
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
