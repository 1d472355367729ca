/// Accumulates facts into state that is bounded by requests and connections, not lines, and that
/// merges commutatively: per-input (or per-thread) states can be built in any order and merged,
/// and the result is the same as one pass over time-sorted input. This is how gonetrace meets
/// "input order means nothing": nothing here depends on the order facts arrive in.
public struct CorrelationState: Sendable {
  /// Where a Lambda line was written: (group, stream), or the input when the envelope names no stream.
  struct StreamKey: Hashable, Sendable {
    var group: String?
    var stream: String?
    var input: Int?
  }

  struct InvocationRecord: Sendable {
    var streamKey: StreamKey
    var start: EpochMillis?
    var end: EpochMillis?
  }

  struct KeyedFact: Sendable {
    var fact: Fact
    var streamKey: StreamKey
  }

  var requests: [String: RequestRecord] = [:]
  /// MESSAGE requests folded per connection: memory follows connections, not messages.
  var activity: [String: MessageActivity] = [:]
  /// API Gateway request id -> Lambda invocation id, with the line that said so.
  var links: [String: (lambdaRequestId: String, evidence: Evidence)] = [:]
  var invocations: [String: InvocationRecord] = [:]
  var gones: [KeyedFact] = []
  var targets: [KeyedFact] = []

  public init() {}

  /// Lines of one Lambda execution environment share a log stream, and one environment runs one
  /// invocation at a time: (group, stream) identifies where a line without a request id belongs.
  /// Inputs that do not name streams count as one stream each.
  static func streamKey(_ f: Fact) -> StreamKey {
    f.stream == nil ? StreamKey(group: nil, stream: nil, input: f.origin.input) : StreamKey(group: f.group, stream: f.stream)
  }

  public mutating func add(_ fact: Fact) {
    let f = fact.fields
    switch fact.kind {
    case .request:
      if let id = f.connectionId, RequestKind(eventType: f.eventType, routeKey: f.routeKey) == .message {
        let at = f.requestTime ?? fact.time
        activity[id, default: MessageActivity()].absorb(at, Evidence(fact))
        return
      }
      let key = f.apigwRequestId ?? "\(f.connectionId ?? "?")|\(f.eventType ?? f.routeKey ?? "?")|\(f.requestTime ?? fact.time)"
      let evidence = Evidence(fact)
      requests[key, default: RequestRecord()].absorb(f, time: fact.time, evidence: evidence)
    case .link:
      guard let apigw = f.apigwRequestId, let lambda = f.lambdaRequestId else { return }
      let evidence = Evidence(fact)
      // One hash lookup: the same link is usually logged twice (integration id, response headers).
      if let i = links.index(forKey: apigw) {
        if evidence < links.values[i].evidence { links.values[i] = (lambda, evidence) }
      } else {
        links[apigw] = (lambda, evidence)
      }
    case .invocationStart, .invocationEnd:
      guard let lambda = f.lambdaRequestId else { return }
      let isStart = fact.kind == .invocationStart
      let time = fact.time
      if let i = invocations.index(forKey: lambda) {
        if isStart {
          invocations.values[i].start = invocations.values[i].start.minNonNil(time)
        } else {
          invocations.values[i].end = invocations.values[i].end.maxNonNil(time)
        }
      } else {
        var record = InvocationRecord(streamKey: CorrelationState.streamKey(fact))
        if isStart { record.start = time } else { record.end = time }
        invocations[lambda] = record
      }
    case .gone:
      gones.append(KeyedFact(fact: fact, streamKey: CorrelationState.streamKey(fact)))
    case .target:
      targets.append(KeyedFact(fact: fact, streamKey: CorrelationState.streamKey(fact)))
    case .invocation:
      break
    }
  }

  /// Adds `delta` to every line number this state holds (a piece of a file read on its own,
  /// moved to its place in the file). Order within the state is unchanged by a uniform shift.
  mutating func shiftLines(by delta: Int) {
    func shift(_ o: inout Origin) { if let l = o.line { o.line = l + delta } }
    func shift(_ e: inout Evidence) { shift(&e.origin) }
    for i in requests.values.indices {
      for j in requests.values[i].evidence.indices { shift(&requests.values[i].evidence[j]) }
    }
    for i in activity.values.indices where activity.values[i].lastEvidence != nil {
      shift(&activity.values[i].lastEvidence!)
    }
    for i in links.values.indices { shift(&links.values[i].evidence) }
    for i in gones.indices { shift(&gones[i].fact.origin) }
    for i in targets.indices { shift(&targets[i].fact.origin) }
  }

  public mutating func merge(_ other: CorrelationState) {
    // Merging into an empty state gives `other` itself: skip re-inserting every entry (a big
    // input's state is otherwise copied once per merge level).
    if requests.isEmpty, activity.isEmpty, links.isEmpty, invocations.isEmpty, gones.isEmpty, targets.isEmpty {
      self = other
      return
    }
    for (key, record) in other.requests {
      if var mine = requests[key] {
        mine.absorb(record)
        requests[key] = mine
      } else {
        requests[key] = record
      }
    }
    for (key, link) in other.links {
      if let existing = links[key], !(link.evidence < existing.evidence) { continue }
      links[key] = link
    }
    for (key, inv) in other.invocations {
      if var mine = invocations[key] {
        mine.start = mine.start.minNonNil(inv.start)
        mine.end = mine.end.maxNonNil(inv.end)
        invocations[key] = mine
      } else {
        invocations[key] = inv
      }
    }
    for (id, a) in other.activity { activity[id, default: MessageActivity()].absorb(a) }
    gones.append(contentsOf: other.gones)
    targets.append(contentsOf: other.targets)
  }
}

/// One failed management call, assembled from every line that records it.
public struct GoneCall: Sendable {
  public enum TargetSource: String, Sendable {
    /// The failing line itself names the connection.
    case ownLine
    /// Another line of the same invocation names it.
    case invocationHint
    /// Nothing names it; the invocation was triggered by that connection's own request.
    case invocationTrigger
  }

  /// The earliest line recording the call.
  public var time: EpochMillis
  public var facts: [Fact]
  public var lambdaRequestId: String?
  public var sdkRequestId: String?
  public var operation: String?
  public var target: String?
  public var targetSource: TargetSource?
  public var targetEvidence: Evidence?
}

/// Correlated view of the whole input, ready for classification.
public struct Correlation: Sendable {
  public var timelines: [String: ConnectionTimeline]
  public var calls: [GoneCall]
  /// Lambda invocation id -> the API Gateway request that triggered it.
  public var triggerOf: [String: RequestRecord]
  public var linkEvidence: [String: Evidence]
  /// Client key -> its connections, opened earliest first.
  public var connectionsByClient: [String: [String]]
  public var clientKey: ClientKey
  /// 410 lines read more than once (the same event in two inputs), each counted once.
  public var duplicateGoneLines: [DuplicateLine] = []
}

/// A line that repeats one already read: `dropped` was not counted again, `kept` was.
public struct DuplicateLine: Sendable, Equatable {
  public var dropped: Origin
  public var kept: Origin
}

public struct CorrelationOptions: Sendable {
  /// Tolerated clock difference between log groups.
  public var skew: EpochMillis = 2_000
  public var clientKey: ClientKey = .auto
  /// Lines of one call are written within this span (app message, SDK dump, uncaught record).
  public var callSpan: EpochMillis = 5_000
  public init() {}
}

extension CorrelationState {
  public func correlate(_ options: CorrelationOptions) -> Correlation {
    // Requests → connections.
    var timelines: [String: ConnectionTimeline] = [:]
    var triggerOf: [String: RequestRecord] = [:]
    var linkEvidence: [String: Evidence] = [:]
    for (_, request) in requests.sorted(by: { $0.key < $1.key }) {
      var r = request
      if r.lambdaRequestId == nil, let apigw = r.apigwRequestId, let link = links[apigw] {
        r.lambdaRequestId = link.lambdaRequestId
        linkEvidence[link.lambdaRequestId] = link.evidence
      }
      if let lambda = r.lambdaRequestId {
        // The end of the integration is when a `$connect` completes.
        if let end = invocations[lambda]?.end { r.lastLoggedAt = max(r.lastLoggedAt, end) }
        if let existing = triggerOf[lambda], existing.time <= r.time {} else { triggerOf[lambda] = r }
      }
      guard let id = r.connectionId, let kind = r.kind else { continue }
      var timeline = timelines[id] ?? ConnectionTimeline(connectionId: id)
      switch kind {
      case .connect: timeline.connects.append(r)
      case .message: timeline.messages.append(r)
      case .disconnect: timeline.disconnects.append(r)
      }
      timelines[id] = timeline
    }
    for (id, var t) in timelines {
      // Who the client is: as its `$connect` saw it, else as any later request did.
      t.connects.sort { ($0.time, $0.apigwRequestId ?? "") < ($1.time, $1.apigwRequestId ?? "") }
      t.messages.sort { ($0.time, $0.apigwRequestId ?? "") < ($1.time, $1.apigwRequestId ?? "") }
      t.disconnects.sort { ($0.time, $0.apigwRequestId ?? "") < ($1.time, $1.apigwRequestId ?? "") }
      for r in t.connects + t.messages + t.disconnects {
        if t.client.sourceIp == nil { t.client.sourceIp = r.client.sourceIp }
        if t.client.userAgent == nil { t.client.userAgent = r.client.userAgent }
        if t.client.principalId == nil { t.client.principalId = r.client.principalId }
      }
      timelines[id] = t
    }
    for (id, a) in activity {
      timelines[id, default: ConnectionTimeline(connectionId: id)].activity = a
    }
    var byClient: [String: [String]] = [:]
    for (id, t) in timelines {
      if let key = options.clientKey.key(t.client) { byClient[key, default: []].append(id) }
    }
    for (key, ids) in byClient {
      byClient[key] = ids.sorted { (timelines[$0]?.connectRequestedAt ?? .max, $0) < (timelines[$1]?.connectRequestedAt ?? .max, $1) }
    }

    // Lines without a Lambda request id belong to the invocation running in their stream then.
    var windows: [StreamKey: [(start: EpochMillis, end: EpochMillis, id: String)]] = [:]
    for (id, inv) in invocations {
      guard let start = inv.start ?? inv.end else { continue }
      windows[inv.streamKey, default: []].append((start, inv.end ?? .max, id))
    }
    func invocation(of keyed: KeyedFact) -> String? {
      if let id = keyed.fact.fields.lambdaRequestId { return id }
      if let apigw = keyed.fact.fields.apigwRequestId, let link = links[apigw] { return link.lambdaRequestId }
      let t = keyed.fact.time
      return windows[keyed.streamKey]?.filter { $0.start <= t && t <= $0.end }.max { $0.start < $1.start }?.id
    }

    // The same event read twice (overlapping exports, a file given twice, a page fetched twice)
    // counts once: same stream, time and message, unless both copies carry CloudWatch event ids
    // and they differ. Not keyed by input: a raw file given twice names no stream, and its two
    // copies are still one event each.
    struct LineKey: Hashable {
      var time: EpochMillis
      var stream: String?
      var text: LineText
    }
    var seen: [LineKey: (kept: Origin, ids: [String?])] = [:]
    var duplicates: [DuplicateLine] = []
    var groups: [String: [Fact]] = [:]
    for keyed in gones.sorted(by: { ($0.fact.time, $0.fact.body, $0.fact.origin) < ($1.fact.time, $1.fact.body, $1.fact.origin) }) {
      let key = LineKey(time: keyed.fact.time, stream: keyed.fact.stream, text: keyed.fact.body)
      if let earlier = seen[key] {
        let id = keyed.fact.eventId
        if id == nil || earlier.ids.contains(where: { $0 == nil || $0 == id }) {
          duplicates.append(DuplicateLine(dropped: keyed.fact.origin, kept: earlier.kept))
          continue
        }
        seen[key]?.ids.append(id)
      } else {
        seen[key] = (keyed.fact.origin, [keyed.fact.eventId])
      }
      var fact = keyed.fact
      let lambda = invocation(of: keyed)
      fact.fields.lambdaRequestId = lambda
      let group = lambda.map { "λ" + $0 } ?? fact.fields.apigwRequestId.map { "apigw:" + $0 }
        ?? "stream:\(keyed.streamKey.group ?? "")|\(keyed.streamKey.stream ?? "")|\(keyed.streamKey.input ?? -1)"
      groups[group, default: []].append(fact)
    }
    var hints: [String: [Fact]] = [:]
    for keyed in targets {
      guard let lambda = invocation(of: keyed) else { continue }
      var fact = keyed.fact
      fact.fields.lambdaRequestId = lambda
      hints["λ" + lambda, default: []].append(fact)
    }

    var calls: [GoneCall] = []
    for (group, facts) in groups.sorted(by: { $0.key < $1.key }) {
      for var call in assembleCalls(facts, span: options.callSpan) {
        resolveTarget(&call, hints: hints[group] ?? [], triggerOf: triggerOf, skew: options.skew)
        calls.append(call)
      }
    }
    calls.sort { ($0.time, $0.target ?? "", $0.facts.first?.body ?? LineText("")) < ($1.time, $1.target ?? "", $1.facts.first?.body ?? LineText("")) }
    return Correlation(timelines: timelines, calls: calls, triggerOf: triggerOf, linkEvidence: linkEvidence,
      connectionsByClient: byClient, clientKey: options.clientKey, duplicateGoneLines: duplicates)
  }

  /// Folds one invocation's 410 lines (time-sorted) into calls. One call leaves several lines
  /// (the app's message naming the target, the SDK's error dump, the runtime's uncaught record),
  /// so lines close in time that do not name different connections join one call, unless the
  /// call already holds a line of the same rule that is equally specific (both naming the target,
  /// or both not): the app logging its failure twice is two calls. Echo lines (uncaught-error
  /// records, API Gateway's view) join the call they follow and stand alone only when nothing
  /// else recorded it.
  func assembleCalls(_ facts: [Fact], span: EpochMillis) -> [GoneCall] {
    var calls: [GoneCall] = []
    func accepts(_ call: GoneCall, _ f: Fact) -> Bool {
      if let a = call.target, let b = f.fields.connectionId, a != b { return false }
      let named = f.fields.connectionId != nil
      return !call.facts.contains { $0.rule == f.rule && ($0.fields.connectionId != nil) == named }
    }
    for f in facts where !f.fields.isEcho {
      if let i = calls.lastIndex(where: { c in
        accepts(c, f) && f.time - (c.facts.last?.time ?? c.time) <= span
      }) {
        calls[i].facts.append(f)
        calls[i].target = calls[i].target ?? f.fields.connectionId
      } else {
        calls.append(GoneCall(time: f.time, facts: [f], lambdaRequestId: f.fields.lambdaRequestId, target: f.fields.connectionId))
      }
    }
    let echoes = facts.filter(\.fields.isEcho)
    if calls.isEmpty, let first = echoes.first {
      calls.append(GoneCall(time: first.time, facts: echoes, lambdaRequestId: first.fields.lambdaRequestId,
        target: echoes.lazy.compactMap(\.fields.connectionId).first))
    } else {
      for e in echoes {
        let i = calls.lastIndex { $0.time <= e.time && (e.fields.connectionId == nil || $0.target == nil || $0.target == e.fields.connectionId) } ?? 0
        calls[i].facts.append(e)
      }
    }
    for i in calls.indices {
      // Lines of the same millisecond: the one naming the target first (it reads best as
      // "recorded by"), then an order that depends on content only, never on input order.
      calls[i].facts.sort {
        ($0.time, $0.fields.connectionId == nil ? 1 : 0, $0.body) < ($1.time, $1.fields.connectionId == nil ? 1 : 0, $1.body)
      }
      calls[i].time = calls[i].facts.map(\.time).min() ?? calls[i].time
      calls[i].sdkRequestId = calls[i].facts.lazy.compactMap(\.fields.sdkRequestId).first
      calls[i].operation = calls[i].facts.lazy.compactMap(\.fields.operation).first
        ?? calls[i].facts.lazy.compactMap { GoneCall.operationNamed(in: $0.text) }.first
      if calls[i].target != nil { calls[i].targetSource = .ownLine }
    }
    return calls
  }

  /// A call whose lines do not name its target: the nearest line of the same invocation that
  /// names a connection (before the call, else after it), else, in a `$connect` invocation, the
  /// connection being connected (a handler posting to its own connection).
  func resolveTarget(_ call: inout GoneCall, hints: [Fact], triggerOf: [String: RequestRecord], skew: EpochMillis) {
    guard call.target == nil else { return }
    let before = hints.filter { $0.time <= call.time + skew }.max { ($0.time, $0.body) < ($1.time, $1.body) }
    let after = hints.filter { $0.time > call.time + skew }.min { ($0.time, $0.body) < ($1.time, $1.body) }
    if let hint = before ?? after, let id = hint.fields.connectionId {
      call.target = id
      call.targetSource = .invocationHint
      call.targetEvidence = Evidence(hint)
      if call.operation == nil { call.operation = GoneCall.operationNamed(in: hint.text) }
      return
    }
    // Only for `$connect`: a welcome message to the connecting client is the classic pre-connect
    // post. A `$disconnect` or message handler posting without naming its target is as likely to
    // be broadcasting to others, and guessing the sender there would be a made-up answer.
    if let lambda = call.lambdaRequestId, let trigger = triggerOf[lambda], trigger.kind == .connect,
      let id = trigger.connectionId
    {
      call.target = id
      call.targetSource = .invocationTrigger
    }
  }
}

extension GoneCall {
  private static let operations: [(String, String)] = [
    ("PostToConnection", "PostToConnection"), ("postToConnection", "PostToConnection"),
    ("post_to_connection", "PostToConnection"), ("GetConnection", "GetConnection"),
    ("getConnection", "GetConnection"), ("get_connection", "GetConnection"),
    ("DeleteConnection", "DeleteConnection"), ("deleteConnection", "DeleteConnection"),
    ("delete_connection", "DeleteConnection"), ("POST https://", "PostToConnection"),
  ]

  static func operationNamed(in text: String) -> String? {
    // Byte search, not Foundation's locale-aware `contains` (this runs for every call's lines).
    var text = text
    return text.withUTF8 { t in
      operations.first { op in op.0.utf8.withContiguousStorageIfAvailable { Bytes.contains(UnsafeRawBufferPointer(t), UnsafeRawBufferPointer($0)) } ?? false }?.1
    }
  }
}
