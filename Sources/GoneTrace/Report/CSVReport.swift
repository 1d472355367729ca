/// `--format csv`: one row per verdict for a spreadsheet, RFC 4180 (CRLF rows, fields quoted when
/// they hold a comma, quote or line break, quotes doubled), with a header row.
public enum CSVReport {
  static let header = [
    "time", "operation", "connectionId", "cause", "detail", "confidence", "newConnectionId",
    "lambdaRequestId", "sdkRequestId", "connectRequestedAt", "connectedAt", "disconnectedAt",
    "disconnectStatusCode", "disconnectReason", "sourceIp", "userAgent", "principalId",
    "explanation", "recordedByInput", "recordedByLine", "recordedByText",
  ]

  public static func render(_ a: Analysis) -> String {
    var out = ""
    write(a) { out += $0 }
    return out
  }

  /// Writes the report to `emit` one row at a time.
  public static func write(_ a: Analysis, to emit: (String) -> Void) {
    emit(row(header))
    for v in a.verdicts {
      let c = v.connection
      let recorded = v.recordedBy ?? v.evidence.first
      emit(row([
        Timestamp.format(v.time), v.operation, v.connectionId, v.cause.rawValue, v.detail.rawValue,
        v.confidence.rawValue, v.newConnectionId, v.lambdaRequestId, v.sdkRequestId,
        c?.connectRequestedAt.map(Timestamp.format), c?.connectedAt.map(Timestamp.format),
        c?.disconnectedAt.map(Timestamp.format), c?.disconnectStatusCode.map(String.init), c?.disconnectReason,
        c?.client.sourceIp, c?.client.userAgent, c?.client.principalId, v.explanation,
        recorded.flatMap { a.inputName($0.origin) }, recorded.flatMap { $0.origin.line.map(String.init) },
        recorded?.text,
      ]))
    }
  }

  static func row(_ fields: [String?]) -> String {
    fields.map { field($0 ?? "") }.joined(separator: ",") + "\r\n"
  }

  static func field(_ s: String) -> String {
    guard s.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return s }
    return "\"" + s.replacingAll("\"", with: "\"\"") + "\""
  }
}
