/// The verdicts of a run, in report order.
///
/// A long run's verdicts are the one part of its memory that grows with the logs: about 1.4 KB
/// each (their ids, explanation, client and evidence), one per 410, and a busy API's day holds
/// tens of thousands. So a windowed run (`WindowedPass`) writes each window's verdicts to a
/// temporary store as they are decided (`spilling`), keeping where each is (16 bytes) and its
/// detail, and reports read them back one at a time, one read each. Evidence lines stay where
/// they were (a `TextStore`, an input file): only their place is written.
public struct VerdictList: RandomAccessCollection, Sendable {
  private var kept: [Verdict] = []
  private var spill: RecordSpill?
  private var places: [RecordSpill.Place] = []
  /// Each spilled verdict's detail, for the counts every report and the exit status start
  /// with (read without reading the verdict back).
  private var spilledDetails: [Detail] = []

  public init(_ verdicts: [Verdict] = []) { kept = verdicts }

  /// An empty list that writes what is appended to a temporary store (in `$TMPDIR`, as `TextStore`).
  static func spilling() -> VerdictList {
    var list = VerdictList()
    list.spill = RecordSpill()
    return list
  }

  public var startIndex: Int { 0 }
  public var endIndex: Int { spill == nil ? kept.count : places.count }

  public subscript(i: Int) -> Verdict {
    guard let spill else { return kept[i] }
    return spill.readVerdict(at: places[i])
  }

  mutating func append(_ verdict: Verdict) {
    if let spill {
      places.append(spill.write(verdict))
      spilledDetails.append(verdict.detail)
    } else {
      kept.append(verdict)
    }
  }

  mutating func append<S: Sequence>(contentsOf verdicts: S) where S.Element == Verdict {
    for v in verdicts { append(v) }
  }

  /// The verdicts `isIncluded` keeps, stored as these are (a spilled list is not read into memory).
  public func filtered(_ isIncluded: (Verdict) -> Bool) -> VerdictList {
    guard spill != nil else { return VerdictList(kept.filter(isIncluded)) }
    var list = self
    let included = indices.filter { isIncluded(self[$0]) }
    list.places = included.map { places[$0] }
    list.spilledDetails = included.map { spilledDetails[$0] }
    return list
  }

  /// The detail of verdict `i`.
  public func detail(at i: Int) -> Detail { spill == nil ? kept[i].detail : spilledDetails[i] }
}

extension RecordSpill {
  func write(_ v: Verdict) -> Place {
    write { w in
      w.int(v.time)
      w.string(v.operation)
      w.string(v.connectionId)
      w.string(v.lambdaRequestId)
      w.string(v.sdkRequestId)
      w.byte(UInt8(Detail.allCases.firstIndex(of: v.detail)!))
      w.byte(v.confidence == .low ? 0 : v.confidence == .medium ? 1 : 2)
      w.string(v.newConnectionId)
      if let c = v.connection {
        w.byte(1)
        w.int(c.connectRequestedAt)
        w.int(c.connectedAt)
        w.int(c.disconnectedAt)
        w.int(c.disconnectStatusCode.map(Int64.init))
        w.string(c.disconnectReason)
        write(c.client, &w)
      } else {
        w.byte(0)
      }
      w.string(v.explanation)
      write(v.evidence, &w)
      write(v.recordedBy, &w)
    }
  }

  func readVerdict(at place: Place) -> Verdict {
    read(at: place) { r in
      let time = r.int() ?? 0
      let operation = r.string(), connectionId = r.string(), lambda = r.string(), sdk = r.string()
      let detail = Detail.allCases[min(Int(r.byte()), Detail.allCases.count - 1)]
      let confidence: Confidence = [Confidence.low, .medium, .high][min(Int(r.byte()), 2)]
      let newConnectionId = r.string()
      var connection: ConnectionSummary?
      if r.byte() == 1 {
        let requested = r.int(), connected = r.int(), disconnected = r.int(), code = r.int().map(Int.init)
        let reason = r.string()
        connection = ConnectionSummary(connectRequestedAt: requested, connectedAt: connected,
          disconnectedAt: disconnected, disconnectStatusCode: code, disconnectReason: reason, client: readClient(&r))
      }
      let explanation = r.string() ?? ""
      let evidence = readEvidenceList(&r)
      return Verdict(time: time, operation: operation, connectionId: connectionId, lambdaRequestId: lambda,
        sdkRequestId: sdk, detail: detail, confidence: confidence, newConnectionId: newConnectionId,
        connection: connection, explanation: explanation, evidence: evidence, recordedBy: readOptionalEvidence(&r))
    }
  }
}
