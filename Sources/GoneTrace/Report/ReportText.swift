/// Phrases the human-readable reports share.
enum ReportText {
  static let diagnosticsShown = 20

  static func headline(_ a: Analysis, _ context: ReportContext) -> String {
    let span = a.timeRange.map { ", \(Timestamp.format($0.lowerBound)) → \(Timestamp.format($0.upperBound))" } ?? ""
    var s = "\(a.verdicts.count) × 410 GoneException in \(a.events) events from \(a.inputs.count) "
      + "input\(a.inputs.count == 1 ? "" : "s")\(span); \(a.connectionsSeen) connections seen."
    if let w = context.window {
      s += " Reporting 410s " + [w.since.map { "since \(Timestamp.format($0))" }, w.until.map { "until \(Timestamp.format($0))" }]
        .compactMap { $0 }.joined(separator: " ") + "."
    }
    return s
  }

  static func details(of cause: Cause, _ counts: GoneCounts) -> String {
    Detail.allCases.filter { $0.cause == cause && counts[$0] > 0 }.map { "\($0.rawValue) \(counts[$0])" }
      .joined(separator: ", ")
  }

  static func location(_ e: Evidence, _ a: Analysis, width: Int = 160) -> String {
    let position = e.origin.line.map { ":\($0)" } ?? e.origin.record.map { ":record \($0)" } ?? ""
    // Walks at most `width` characters: counting all of a kilobyte line's was most of a text
    // report's time on a gigabyte.
    let full = e.text
    let cut = full.index(full.startIndex, offsetBy: width, limitedBy: full.endIndex) ?? full.endIndex
    let text = cut < full.endIndex ? String(full[..<cut]) + " …" : full
    return "\(a.inputName(e.origin) ?? "?")\(position): "
      + text.replacingAll("\r", with: "⏎").replacingAll("\n", with: "⏎")
  }
}
