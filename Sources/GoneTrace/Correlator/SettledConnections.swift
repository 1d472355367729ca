/// The connections of a windowed run (`WindowedPass`) that earlier windows finished, written
/// away: a backend that stored a connection id posts to it hours after it closed, and deciding
/// that 410 needs the connection's whole timeline, which the window of the post no longer holds.
/// Each connection is written once, by the window whose core it was first logged in (its
/// timeline is whole there: a connection lives at most 2 hours, less than a margin); memory
/// keeps only where each one is (an id and a place per connection).
struct SettledConnections {
  private let spill = RecordSpill()
  private var places: [String: RecordSpill.Place] = [:]

  var count: Int { places.count }

  mutating func add(_ t: ConnectionTimeline) {
    places[t.connectionId] = spill.write { w in
      w.string(t.connectionId)
      for list in [t.connects, t.messages, t.disconnects] {
        w.int(Int64(list.count))
        for record in list { write(record, &w) }
      }
      if let a = t.activity {
        w.byte(1)
        w.int(a.first)
        w.int(a.last)
        spill.write(a.lastEvidence, &w)
      } else {
        w.byte(0)
      }
      spill.write(t.client, &w)
    }
  }

  func timeline(_ id: String) -> ConnectionTimeline? {
    guard let place = places[id] else { return nil }
    return spill.read(at: place) { r in
      var t = ConnectionTimeline(connectionId: r.string() ?? id)
      var lists: [[RequestRecord]] = []
      for _ in 0..<3 {
        let n = max(0, Int(r.int() ?? 0))
        lists.append((0..<n).map { _ in readRecord(&r) })
      }
      (t.connects, t.messages, t.disconnects) = (lists[0], lists[1], lists[2])
      if r.byte() == 1 {
        var a = MessageActivity()
        a.first = r.int() ?? .max
        a.last = r.int() ?? .min
        a.lastEvidence = spill.readOptionalEvidence(&r)
        t.activity = a
      }
      t.client = spill.readClient(&r)
      return t
    }
  }

  private func write(_ q: RequestRecord, _ w: inout ByteWriter) {
    w.string(q.apigwRequestId)
    w.string(q.connectionId)
    w.string(q.lambdaRequestId)
    w.string(q.kind?.rawValue)
    w.string(q.routeKey)
    w.int(q.status.map(Int64.init))
    w.int(q.requestedAt)
    w.int(q.lastLoggedAt)
    w.int(q.firstLoggedAt)
    w.int(q.connectedAt)
    w.int(q.disconnectStatusCode.map(Int64.init))
    w.string(q.disconnectReason)
    spill.write(q.client, &w)
    spill.write(q.evidence, &w)
  }

  private func readRecord(_ r: inout ByteReader) -> RequestRecord {
    var q = RequestRecord()
    q.apigwRequestId = r.string()
    q.connectionId = r.string()
    q.lambdaRequestId = r.string()
    q.kind = r.string().flatMap(RequestKind.init(rawValue:))
    q.routeKey = r.string()
    q.status = r.int().map(Int.init)
    q.requestedAt = r.int()
    q.lastLoggedAt = r.int() ?? .min
    q.firstLoggedAt = r.int() ?? .max
    q.connectedAt = r.int()
    q.disconnectStatusCode = r.int().map(Int.init)
    q.disconnectReason = r.string()
    q.client = spill.readClient(&r)
    q.evidence = spill.readEvidenceList(&r)
    return q
  }
}
