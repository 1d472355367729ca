/// `--format jsonl`: one compact JSON object per line, each with a `type` (`input`, `verdict`,
/// `diagnostic`, and last `summary`), in ripgrep's `--json` manner, for `jq` and log shippers.
/// The members are those of the JSON report, so a consumer learns one schema.
public enum JSONLinesReport {
  public static func render(_ a: Analysis, _ context: ReportContext) -> String {
    var out: [UInt8] = []
    write(a, context) { out.append(contentsOf: $0) }
    return String(decoding: out, as: UTF8.self)
  }

  /// Writes the report's UTF-8 to `emit` one line at a time (the verdicts a batch at a time).
  public static func write(_ a: Analysis, _ context: ReportContext, to emit: (UnsafeRawBufferPointer) -> Void) {
    func line(_ type: String, _ body: (inout JSONWriter) -> Void) {
      text(type, body).withUnsafeBytes(emit)
    }
    for input in a.inputs { line("input") { JSONReport.inputFields(input, &$0) } }
    let names = a.inputNames
    ParallelRender.write(count: a.verdicts.count, threads: context.threads) { range, buffer in
      for i in range { buffer += text("verdict") { JSONReport.verdictFields(a.verdicts[i], inputNames: names, &$0) } }
    } emit: { emit($0) }
    for d in a.diagnostics { line("diagnostic") { JSONReport.diagnosticFields(d, &$0) } }
    line("summary") { w in
      w.field("tool", "gonetrace")
      w.field("version", context.version)
      w.field("schemaVersion", int: JSONReport.schemaVersion)
      JSONReport.summaryFields(a, &w)
      w.field("events", int: a.events)
      w.field("unparsed", int: a.unparsed)
    }
  }

  /// One line: a compact object led by its `type`.
  private static func text(_ type: String, _ body: (inout JSONWriter) -> Void) -> [UInt8] {
    var w = JSONWriter(pretty: false)
    w.object { w in
      w.field("type", type)
      body(&w)
    }
    w.finish()
    return w.takeBytes()
  }
}
