import FoundationEssentials

/// The report shapes, one per audience: a person at a terminal, a ticket, a browser, a script,
/// a log shipper, a spreadsheet, a Prometheus scraper.
public enum ReportFormat: String, Sendable, CaseIterable {
  case text, json, jsonl, csv, markdown, html, prometheus

  /// The format a file name asks for (`-o report.html`), or nil when its extension says nothing.
  public init?(fileName: String) {
    switch PathName.pathExtension(of: fileName).lowercased() {
    case "txt", "log": self = .text
    case "json": self = .json
    case "jsonl", "ndjson": self = .jsonl
    case "csv": self = .csv
    case "md", "markdown": self = .markdown
    case "html", "htm": self = .html
    case "prom": self = .prometheus
    default: return nil
    }
  }

  public func render(_ a: Analysis, _ context: ReportContext) -> String {
    var out: [UInt8] = []
    write(a, context) { out.append(contentsOf: $0) }
    return String(decoding: out, as: UTF8.self)
  }

  /// Writes the report's UTF-8 to `emit` in pieces: the formats that list every verdict row by
  /// row (JSON, JSON Lines, CSV) are streamed, so a large report is never held whole.
  public func write(_ a: Analysis, _ context: ReportContext, to emit: (UnsafeRawBufferPointer) -> Void) {
    func emitText(_ text: String) {
      var text = text
      text.withUTF8 { emit(UnsafeRawBufferPointer($0)) }
    }
    switch self {
    case .json: JSONReport.write(a, version: context.version, threads: context.threads, to: emit)
    case .jsonl: JSONLinesReport.write(a, context, to: emit)
    case .csv: CSVReport.write(a, to: emitText)
    case .text: emitText(TextReport.render(a, context))
    case .markdown: emitText(MarkdownReport.render(a, context))
    case .html: emitText(HTMLReport.render(a, context))
    case .prometheus: emitText(PrometheusReport.render(a, context))
    }
  }
}

/// What a report needs besides the analysis: who wrote it, when, and how to draw it.
public struct ReportContext: Sendable {
  public var version: String
  /// The run's "now": report stamps and the Prometheus last-run gauge.
  public var generatedAt: EpochMillis
  /// ANSI colour in the text report.
  public var color = false
  /// The `--since`/`--until` window the verdicts were restricted to, for the report's header.
  public var window: TimeWindow?
  /// Counts over every run that shared a `--state` file (Prometheus counters must only grow);
  /// nil for a one-off run, whose own counts are used.
  public var cumulative: RunTotals?
  /// Threads building the text of the verdicts in the JSON and JSON Lines reports.
  public var threads = 1

  public init(version: String, generatedAt: EpochMillis) {
    self.version = version
    self.generatedAt = generatedAt
  }
}

/// Running totals kept in the state file across incremental runs.
public struct RunTotals: Sendable, Equatable, Codable {
  public var gone = GoneCounts()
  public var events = 0
  public var unparsed = 0
  public var runs = 0
  public init() {}

  public static func + (a: RunTotals, b: Analysis) -> RunTotals {
    var t = a
    t.gone = t.gone + GoneCounts(b.verdicts)
    t.events += b.events
    t.unparsed += b.inputs.reduce(0) { $0 + $1.unparsed }
    t.runs += 1
    return t
  }
}

extension Analysis {
  /// The name of the input an origin points into.
  public func inputName(_ origin: Origin) -> String? {
    inputs.indices.contains(origin.input) ? inputs[origin.input].name : nil
  }

  /// Each input's name, by position (what evidence origins point at).
  public var inputNames: [String] { inputs.map(\.name) }

  public var unparsed: Int { inputs.reduce(0) { $0 + $1.unparsed } }
}
