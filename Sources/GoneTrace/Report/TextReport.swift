/// The default report for a person at a terminal: counts, what to do, then one line per 410.
public enum TextReport {
  public static func render(_ a: Analysis) -> String {
    var out = ""
    let n = a.verdicts.count
    let span = a.timeRange.map { " (\(Timestamp.format($0.lowerBound)) → \(Timestamp.format($0.upperBound)))" } ?? ""
    out += "gonetrace: \(n) × 410 GoneException in \(a.events) events from \(a.inputs.count) "
      + "input\(a.inputs.count == 1 ? "" : "s")\(span); \(a.correlation.timelines.count) connections seen\n"
    if n > 0 {
      out += "\nBy cause\n"
      for cause in Cause.allCases {
        let vs = a.verdicts.filter { $0.cause == cause }
        guard !vs.isEmpty else { continue }
        let details = Detail.allCases.filter { $0.cause == cause }.compactMap { d -> String? in
          let k = vs.filter { $0.detail == d }.count
          return k == 0 ? nil : "\(d.rawValue) \(k)"
        }
        out += "  \(pad(cause.rawValue, 24)) \(pad(String(vs.count), 5, left: true))   \(details.joined(separator: ", "))\n"
      }
      out += "\nWhat to do\n"
      for cause in Cause.allCases where a.verdicts.contains(where: { $0.cause == cause }) {
        out += "  \(cause.rawValue): \(cause.advice)\n"
      }
      out += "\n410s\n"
      for v in a.verdicts {
        out += "  \(Timestamp.format(v.time))  \(pad(v.operation ?? "-", 16))  \(pad(v.connectionId ?? "-", 16))  "
          + "\(v.cause.rawValue)/\(v.detail.rawValue) (\(v.confidence.rawValue))\n"
        out += "      \(v.explanation)\n"
        if let e = v.recordedBy ?? v.evidence.first { out += "      \(location(e, a))\n" }
      }
    }
    out += "\nInputs\n"
    for i in a.inputs {
      out += "  \(i.name): \(i.format?.rawValue ?? "unreadable")\(i.compressed ? " (gzip)" : ""), \(i.events) events"
        + (i.unparsed > 0 ? ", \(i.unparsed) unparsed" : "") + "\n"
    }
    if !a.diagnostics.isEmpty {
      out += "\n\(a.diagnostics.count) diagnostic\(a.diagnostics.count == 1 ? "" : "s")"
        + (a.diagnostics.count > 20 ? " (first 20; all in --format json)" : "") + "\n"
      for d in a.diagnostics.prefix(20) { out += "  \(d)\n" }
    }
    return out
  }

  /// `gonetrace explain <connectionId>`: one connection's timeline and the verdicts about it.
  public static func explain(_ id: String, _ a: Analysis) -> String {
    var out = ""
    guard let t = a.correlation.timelines[id] else {
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
      for e in evidence { out += "      \(location(e, a))\n" }
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
    for e in v.evidence { out += "    \(location(e, a))\n" }
    return out
  }

  static func location(_ e: Evidence, _ a: Analysis) -> String {
    let input = a.inputs.indices.contains(e.origin.input) ? a.inputs[e.origin.input].name : "?"
    let position = e.origin.line.map { ":\($0)" } ?? e.origin.record.map { ":record \($0)" } ?? ""
    let text = e.text.count > 160 ? String(e.text.prefix(160)) + " …" : e.text
    return "\(input)\(position): \(text.replacingOccurrences(of: "\r", with: "⏎").replacingOccurrences(of: "\n", with: "⏎"))"
  }

  static func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
    s.count >= width ? s : left ? String(repeating: " ", count: width - s.count) + s : s + String(repeating: " ", count: width - s.count)
  }
}
