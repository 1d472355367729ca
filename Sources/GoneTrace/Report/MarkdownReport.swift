/// `--format markdown`: a report to paste into an incident ticket (GitHub-flavoured tables).
public enum MarkdownReport {
  public static func render(_ a: Analysis, _ context: ReportContext) -> String {
    let counts = GoneCounts(a.verdicts)
    var out = "# gonetrace: \(a.verdicts.count) × 410 GoneException\n\n"
    out += ReportText.headline(a, context) + "\n\n"
    if !a.verdicts.isEmpty {
      out += "## Summary\n\n| Cause | 410s | Details |\n|---|---:|---|\n"
      for cause in Cause.allCases where counts[cause] > 0 {
        out += "| \(cause.rawValue) | \(counts[cause]) | \(ReportText.details(of: cause, counts)) |\n"
      }
      out += "\n## What to do\n\n"
      for cause in Cause.allCases where counts[cause] > 0 {
        out += "- **\(cause.rawValue)** (\(counts[cause])): \(cause.advice)\n"
      }
      out += "\n## 410s\n\n| Time | Operation | Connection | Cause / detail | Confidence | Why | Recorded by |\n"
        + "|---|---|---|---|---|---|---|\n"
      for v in a.verdicts {
        let recorded = (v.recordedBy ?? v.evidence.first).map { ReportText.location($0, a) } ?? ""
        out += "| \(Timestamp.format(v.time)) | \(cell(v.operation)) | \(code(v.connectionId)) | "
          + "\(v.cause.rawValue) / \(v.detail.rawValue) | \(v.confidence.rawValue) | \(cell(v.explanation)) | "
          + "\(code(recorded)) |\n"
      }
    }
    out += "\n## Inputs\n\n| Input | Format | Events | Unparsed |\n|---|---|---:|---:|\n"
    for i in a.inputs {
      out += "| \(code(i.name)) | \(i.format?.rawValue ?? "unreadable")\(i.compressed ? " (gzip)" : "") | "
        + "\(i.events) | \(i.unparsed) |\n"
    }
    if !a.diagnostics.isEmpty {
      out += "\n## Diagnostics\n\n"
      for d in a.diagnostics.prefix(ReportText.diagnosticsShown) { out += "- \(code(d.description))\n" }
      if a.diagnostics.count > ReportText.diagnosticsShown {
        out += "- … \(a.diagnostics.count - ReportText.diagnosticsShown) more in `--format json`\n"
      }
    }
    return out
  }

  /// A table cell: pipes escaped, line breaks flattened.
  static func cell(_ s: String?) -> String {
    guard let s, !s.isEmpty else { return "" }
    return s.replacingAll("|", with: "\\|").replacingAll("\r", with: " ").replacingAll("\n", with: " ")
  }

  /// Code span: ids and log text keep their underscores and asterisks.
  static func code(_ s: String?) -> String {
    guard let s, !s.isEmpty else { return "" }
    let flat = cell(s).replacingAll("`", with: "ˋ")
    return "`\(flat)`"
  }
}
