/// The default report for a person at a terminal: counts, what to do, then one line per 410.
public enum TextReport {
  public static func render(_ a: Analysis, _ context: ReportContext) -> String {
    let paint = Paint(enabled: context.color)
    let counts = GoneCounts(a.verdicts)
    var out = paint.bold("gonetrace: ") + ReportText.headline(a, context) + "\n"
    if !a.verdicts.isEmpty {
      out += "\n" + paint.bold("By cause") + "\n"
      for cause in Cause.allCases where counts[cause] > 0 {
        out += "  \(paint.cause(cause, pad(cause.rawValue, 24))) \(pad(String(counts[cause]), 5, left: true))   "
          + ReportText.details(of: cause, counts) + "\n"
      }
      out += "\n" + paint.bold("What to do") + "\n"
      for cause in Cause.allCases where counts[cause] > 0 {
        out += "  \(paint.cause(cause, cause.rawValue)): \(cause.advice)\n"
      }
      out += "\n" + paint.bold("410s") + "\n"
      for v in a.verdicts {
        out += "  \(Timestamp.format(v.time))  \(pad(v.operation ?? "-", 16))  \(pad(v.connectionId ?? "-", 16))  "
          + paint.cause(v.cause, "\(v.cause.rawValue)/\(v.detail.rawValue)") + " (\(v.confidence.rawValue))\n"
        out += "      \(v.explanation)\n"
        if let e = v.recordedBy ?? v.evidence.first { out += "      " + paint.dim(ReportText.location(e, a)) + "\n" }
      }
    }
    out += "\n" + paint.bold("Inputs") + "\n"
    for i in a.inputs {
      out += "  \(i.name): \(i.format?.rawValue ?? "unreadable")\(i.compressed ? " (gzip)" : ""), \(i.events) events"
        + (i.unparsed > 0 ? paint.warning(", \(i.unparsed) unparsed") : "") + "\n"
    }
    if !a.diagnostics.isEmpty {
      let shown = ReportText.diagnosticsShown
      out += "\n" + paint.warning("\(a.diagnostics.count) diagnostic\(a.diagnostics.count == 1 ? "" : "s")")
        + (a.diagnostics.count > shown ? " (first \(shown); all in --format json or jsonl)" : "") + "\n"
      for d in a.diagnostics.prefix(shown) { out += "  \(d)\n" }
    }
    return out
  }

  /// `gonetrace explain <connectionId>`: one connection's timeline and the verdicts about it.
  public static func explain(_ id: String, _ a: Analysis) -> String {
    var out = ""
    guard let t = a.timelines[id] else {
      out += "\(id): no lifecycle event in these logs\n"
      let related = a.verdicts.filter { $0.connectionId == id }
      for v in related { out += verdictBlock(v, a) }
      return out
    }
    out += "Connection \(id)\n"
    let c = t.client
    out += "  client: " + [c.principalId.map { "principal \($0)" }, c.sourceIp.map { "ip \($0)" },
      c.userAgent.map { "user agent \"\($0)\"" }].compactMap { $0 }.joined(separator: ", ") + "\n\n"
    var rows: [(EpochMillis, String, [Evidence])] = []
    for r in t.connects {
      rows.append((r.time, "CONNECT" + (r.status.map { " status \($0)" } ?? ""), r.evidence))
    }
    for r in t.messages { rows.append((r.time, "MESSAGE " + (r.routeKey ?? ""), r.evidence)) }
    if let a = t.activity {
      rows.append((a.first, "MESSAGEs from here (inbound traffic)", []))
      rows.append((a.last, "last MESSAGE", a.lastEvidence.map { [$0] } ?? []))
    }
    for r in t.disconnects {
      let code = r.disconnectStatusCode.map { " \($0)" } ?? ""
      let reason = r.disconnectReason.map { $0.isEmpty ? "" : " \"\($0)\"" } ?? ""
      rows.append((r.time, "DISCONNECT" + code + reason, r.evidence))
    }
    let verdicts = a.verdicts.filter { $0.connectionId == id || $0.newConnectionId == id }
    for v in verdicts { rows.append((v.time, "410 \(v.operation ?? "") → \(v.cause.rawValue)/\(v.detail.rawValue)", [])) }
    rows.sort { ($0.0, $0.1) < ($1.0, $1.1) }
    for (time, what, evidence) in rows {
      out += "  \(Timestamp.format(time))  \(what)\n"
      for e in evidence { out += "      \(ReportText.location(e, a))\n" }
    }
    if !verdicts.isEmpty {
      out += "\nVerdicts\n"
      for v in verdicts { out += verdictBlock(v, a) }
    }
    return out
  }

  static func verdictBlock(_ v: Verdict, _ a: Analysis) -> String {
    var out = "  \(Timestamp.format(v.time))  \(v.cause.rawValue)/\(v.detail.rawValue) (\(v.confidence.rawValue))\n"
    out += "    \(v.explanation)\n"
    for e in v.evidence { out += "    \(ReportText.location(e, a))\n" }
    return out
  }

  static func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
    s.count >= width ? s : left ? String(repeating: " ", count: width - s.count) + s : s + String(repeating: " ", count: width - s.count)
  }
}

/// ANSI SGR colour for the text report; every method returns the text unchanged when disabled.
struct Paint {
  var enabled: Bool

  func sgr(_ code: String, _ s: String) -> String { enabled ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
  func bold(_ s: String) -> String { sgr("1", s) }
  func dim(_ s: String) -> String { sgr("2", s) }
  func warning(_ s: String) -> String { sgr("33", s) }

  func cause(_ cause: Cause, _ s: String) -> String {
    switch cause {
    case .preConnectPost: sgr("35", s)
    case .terminatedConnection: sgr("31", s)
    case .reconnectWithOldId: sgr("36", s)
    case .unknown: sgr("2", s)
    }
  }
}
