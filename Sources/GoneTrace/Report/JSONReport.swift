/// The `--format json` object (schemaVersion 1, documented in the README). JSONL writes the same
/// members, one object per line.
public enum JSONReport {
  public static let schemaVersion = 1

  public static func render(_ a: Analysis, version: String, pretty: Bool = true, threads: Int = 1) -> String {
    var out: [UInt8] = []
    write(a, version: version, pretty: pretty, threads: threads) { out.append(contentsOf: $0) }
    return String(decoding: out, as: UTF8.self)
  }

  /// Writes the report's UTF-8 to `emit` in pieces of about a megabyte; the verdicts' text is
  /// built on `threads` threads (the output does not depend on it).
  public static func write(
    _ a: Analysis, version: String, pretty: Bool = true, threads: Int = 1, to emit: (UnsafeRawBufferPointer) -> Void
  ) {
    withoutActuallyEscaping(emit) { emit in
      write(a, version: version, pretty: pretty, threads: threads, sink: emit)
    }
  }

  private static func write(
    _ a: Analysis, version: String, pretty: Bool, threads: Int, sink: @escaping (UnsafeRawBufferPointer) -> Void
  ) {
    var w = JSONWriter(pretty: pretty, sink: sink)
    w.object { w in
      w.field("tool", "gonetrace")
      w.field("version", version)
      w.field("schemaVersion", int: schemaVersion)
      w.key("inputs")
      w.array { w in
        for input in a.inputs { w.object { inputFields(input, &$0) } }
      }
      w.key("summary")
      w.object { summaryFields(a, &$0) }
      w.key("verdicts")
      w.array { w in
        let position = w.position
        let names = a.inputNames
        ParallelRender.write(count: a.verdicts.count, threads: threads) { range, buffer in
          var items = JSONWriter(itemsAt: position, first: range.lowerBound == 0, appendingTo: buffer)
          for i in range { items.object { verdictFields(a.verdicts[i], inputNames: names, &$0) } }
          buffer = items.takeBytes()
        } emit: { text in
          w.append(items: text)
        }
      }
      w.key("diagnostics")
      w.array { w in
        for d in a.diagnostics { w.object { diagnosticFields(d, &$0) } }
      }
    }
    w.finish()
  }

  static func inputFields(_ input: InputSummary, _ w: inout JSONWriter) {
    w.field("name", input.name)
    w.field("format", input.format?.rawValue)
    w.field("events", int: input.events)
    w.field("unparsed", int: input.unparsed)
  }

  static func summaryFields(_ a: Analysis, _ w: inout JSONWriter) {
    let counts = GoneCounts(a.verdicts)
    w.field("gone", int: a.verdicts.count)
    w.key("byCause")
    w.object { w in
      for cause in Cause.allCases { w.field(named: cause.rawValue, int: counts[cause]) }
    }
    w.key("byDetail")
    w.object { w in
      for detail in Detail.allCases { w.field(named: detail.rawValue, int: counts[detail]) }
    }
    w.field("connectionsSeen", int: a.connectionsSeen)
    w.key("timeRange")
    w.object { w in
      w.field("start", time: a.timeRange?.lowerBound)
      w.field("end", time: a.timeRange?.upperBound)
    }
  }

  /// `inputNames`: `Analysis.inputNames` (not the analysis: a closure passing it on copied it,
  /// a retain of each of its arrays, for every verdict).
  static func verdictFields(_ v: Verdict, inputNames: [String], _ w: inout JSONWriter) {
    w.field("time", time: v.time)
    w.field("operation", v.operation)
    w.field("connectionId", v.connectionId)
    w.field("lambdaRequestId", v.lambdaRequestId)
    w.field("sdkRequestId", v.sdkRequestId)
    w.field("cause", v.cause.rawValue)
    w.field("detail", v.detail.rawValue)
    w.field("confidence", v.confidence.rawValue)
    w.field("newConnectionId", v.newConnectionId)
    w.key("connection")
    if let c = v.connection {
      w.object { w in
        w.field("connectRequestedAt", time: c.connectRequestedAt)
        w.field("connectedAt", time: c.connectedAt)
        w.field("disconnectedAt", time: c.disconnectedAt)
        w.field("disconnectStatusCode", int: c.disconnectStatusCode)
        w.field("disconnectReason", c.disconnectReason)
        w.key("client")
        w.object { w in
          w.field("sourceIp", c.client.sourceIp)
          w.field("userAgent", c.client.userAgent)
          w.field("principalId", c.client.principalId)
        }
      }
    } else {
      w.string(nil)
    }
    w.field("explanation", v.explanation)
    w.key("evidence")
    w.array { w in
      for e in v.evidence { writeEvidence(e, inputNames: inputNames, &w) }
    }
  }

  static func writeEvidence(_ e: Evidence, inputNames: [String], _ w: inout JSONWriter) {
    w.object { w in
      w.field("input", inputNames.indices.contains(e.origin.input) ? inputNames[e.origin.input] : nil)
      w.field("line", int: e.origin.line)
      if let record = e.origin.record { w.field("record", int: record) }
      w.field("time", time: e.time)
      w.field("text", line: e.body)
    }
  }

  static func diagnosticFields(_ d: Diagnostic, _ w: inout JSONWriter) {
    w.field("input", d.input)
    w.field("line", int: d.line)
    w.field("record", int: d.record)
    w.field("severity", d.severity.rawValue)
    w.field("message", d.message)
  }
}
