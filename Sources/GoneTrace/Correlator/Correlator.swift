import Dispatch
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

  /// Streams are named once per state and referred to by number: a gigabyte holds a few
  /// hundred streams and hundreds of thousands of invocations.
  typealias StreamID = Int32

  /// When an invocation ran (`EpochMillis.max` / `.min` when its START / END was not read), and
  /// the streams its START and END were read in: one, unless the same log was read twice under
  /// two names (a raw file is a stream of its own). Every one of them is kept, not the first
  /// merged: which state is merged first depends on which worker finishes first, and a line of
  /// the other copy must find its invocation all the same.
  struct InvocationRecord: Sendable {
    var stream: StreamID
    var otherStreams: [StreamID]? = nil
    var start: EpochMillis = .max
    var end: EpochMillis = .min

    mutating func note(_ s: StreamID) {
      if s != stream, !(otherStreams?.contains(s) ?? false) { otherStreams = (otherStreams ?? []) + [s] }
    }
  }

  struct KeyedFact: Sendable {
    var fact: Fact
    var stream: StreamID
  }

  /// A line naming the connection a management call of its invocation was aimed at: only what
  /// `resolveTarget` reads of it, kept small (there is one per call a handler logs).
  struct TargetHint: Sendable {
    var connectionId: String
    var lambda: CompactID?
    var apigw: CompactID?
    var evidence: Evidence
    var stream: StreamID
  }

  struct Link: Sendable {
    var lambdaRequestId: CompactID
    var evidence: Evidence
  }

  /// By API Gateway request id (else by connection, kind and time: see `add`).
  var requests: [CompactID: RequestRecord] = [:]
  /// Client details (user agents, principals, addresses) held once per state: a client's
  /// requests name the same ones, and a user agent is a hundred bytes.
  private var clientStrings = Set<String>()
  /// MESSAGE requests folded per connection: memory follows connections, not messages.
  var activity: [CompactID: MessageActivity] = [:]
  /// API Gateway request id -> Lambda invocation id, with the line that said so.
  var links: [CompactID: Link] = [:]
  /// The same for MESSAGE requests, without the line: a message's link is only ever used to
  /// find the invocation of a line naming the request (its evidence is shown only for the
  /// `$connect` that triggered a call), and there is one per message.
  var messageLinks: MessageLinks
  /// MESSAGE requests seen lately, so that their links (logged after the request's event) are
  /// kept bare. Bounded: an id forgotten only costs its link's evidence being kept.
  private var recentMessages = RecentIDs()
  var invocations: Invocations
  var gones: [KeyedFact] = []
  var targets: [TargetHint] = []
  private(set) var streams: [StreamKey] = []
  private var streamIDs: [StreamKey: StreamID] = [:]
  /// The stream `stream(_:)` named last.
  private var lastStream: StreamID?

  /// Where lines and per-message records go (see `TextStore`, `SpillLog`); without one they
  /// stay in memory.
  private let store: TextStore?
  /// Bytes of the message lines held as strings (`activity`), and the most held before they
  /// all go to the store: a big access log names tens of thousands of connections, each with
  /// its latest message row in memory until the input ends (10 MB more peak at 1 GB).
  private var inlineMessageBytes = 0
  var inlineMessageLimit = 4 << 20

  public init(store: TextStore? = nil) {
    self.store = store
    messageLinks = MessageLinks(store: store)
    invocations = Invocations(store: store)
  }

  /// Once its input (or piece) is read: what it still holds in memory for the store goes there.
  /// The line of each connection's latest message, kept as a string while every next message
  /// replaced it; and the spilled records not yet a whole block (a piece of half an hour of a
  /// Lambda log holds less than one, and a window merges hundreds of pieces).
  mutating func inputRead() {
    storeMessageLines()
    messageLinks.seal()
    invocations.seal()
  }

  private mutating func storeMessageLines() {
    guard let store else { return }
    activity.updateEachValue { $0.lastEvidence?.body.store(in: store) }
    inlineMessageBytes = 0
  }

  /// Lines of one Lambda execution environment share a log stream, and one environment runs one
  /// invocation at a time: (group, stream) identifies where a line without a request id belongs.
  /// Inputs that do not name streams count as one stream each.
  mutating func stream(of f: borrowing Fact) -> StreamID {
    let key = f.stream == nil ? StreamKey(group: nil, stream: nil, input: f.origin.input) : StreamKey(group: f.group, stream: f.stream)
    return stream(key)
  }

  private mutating func stream(_ key: StreamKey) -> StreamID {
    // Facts come stream by stream: the last one named is checked before hashing the key (its
    // strings are the same objects, so comparing them is a pointer test). Hashing a stream's
    // name for every START, END and Lambda line was a tenth of the work on a Lambda log.
    if let last = lastStream, streams[Int(last)] == key { return last }
    if let id = streamIDs[key] {
      lastStream = id
      return id
    }
    let id = StreamID(streams.count)
    streams.append(key)
    streamIDs[key] = id
    lastStream = id
    return id
  }

  public mutating func add(_ fact: consuming Fact) {
    // Fields are read in place, not copied out, on the paths most facts take (messages, links,
    // invocation bounds): a copy of the fields retains (and later releases) each of their strings.
    switch fact.kind {
    case .request:
      if fact.isMessageRequest, let id = fact.fields.connection {
        let at = fact.fields.requestTime ?? fact.time
        let apigw = fact.fields.apigw
        let evidence = Evidence(fact)
        let dropped = activity[id, default: MessageActivity()].absorb(at, evidence)
        inlineMessageBytes += evidence.body.inlineByteCount - (dropped?.inlineByteCount ?? 0)
        if inlineMessageBytes > inlineMessageLimit { storeMessageLines() }
        if let apigw { noteMessage(apigw) }
        return
      }
      var fields = fact.fields
      let key = fields.apigw
        ?? CompactID("\(fields.connectionId ?? "?")|\(fields.eventType ?? fields.routeKey ?? "?")|\(fields.requestTime ?? fact.time)")
      fields.sourceIp = intern(fields.sourceIp)
      fields.userAgent = intern(fields.userAgent)
      fields.principalId = intern(fields.principalId)
      requests[key, default: RequestRecord()].absorb(fields, time: fact.time, evidence: Evidence(fact))
    case .link:
      guard let key = fact.fields.apigw, let value = fact.fields.lambda else { return }
      if recentMessages.contains(key) {
        messageLinks.add(key, value)
        return
      }
      let evidence = Evidence(fact)
      // One hash lookup: the same link is usually logged twice (integration id, response headers).
      if let i = links.index(forKey: key) {
        if evidence < links.values[i].evidence { links.values[i] = Link(lambdaRequestId: value, evidence: evidence) }
      } else {
        links[key] = Link(lambdaRequestId: value, evidence: evidence)
      }
    case .invocationStart, .invocationEnd:
      guard let lambda = fact.fields.lambda else { return }
      invocations.add(lambda, stream: stream(of: fact), time: fact.time, isStart: fact.kind == .invocationStart)
    case .gone:
      let stream = stream(of: fact)
      gones.append(KeyedFact(fact: fact, stream: stream))
    case .target:
      guard let id = fact.fields.connectionId else { return }
      let stream = stream(of: fact)
      targets.append(TargetHint(connectionId: id, lambda: fact.fields.lambda, apigw: fact.fields.apigw,
        evidence: Evidence(fact), stream: stream))
    case .invocation:
      break
    }
  }

  private mutating func intern(_ s: String?) -> String? {
    guard let s else { return nil }
    return clientStrings.insert(s).memberAfterInsert
  }

  private mutating func intern(_ client: inout ClientIdentity) {
    client.sourceIp = intern(client.sourceIp)
    client.userAgent = intern(client.userAgent)
    client.principalId = intern(client.principalId)
  }

  private mutating func noteMessage(_ apigw: CompactID) {
    if let link = links.removeValue(forKey: apigw) {
      messageLinks.add(apigw, link.lambdaRequestId)
    }
    recentMessages.insert(apigw)
  }

  /// Adds `delta` to every line number this state holds (a piece of a file read on its own,
  /// moved to its place in the file). Order within the state is unchanged by a uniform shift.
  mutating func shiftLines(by delta: Int) {
    func shift(_ o: inout Origin) { if let l = o.line { o.line = l + delta } }
    func shift(_ e: inout Evidence) { shift(&e.origin) }
    requests.updateEachValue { record in
      for j in record.evidence.indices { shift(&record.evidence[j]) }
    }
    activity.updateEachValue { a in
      if a.lastEvidence != nil { shift(&a.lastEvidence!) }
    }
    links.updateEachValue { shift(&$0.evidence) }
    for i in gones.indices { shift(&gones[i].fact.origin) }
    for i in targets.indices { shift(&targets[i].evidence) }
  }

  /// About how much memory the state holds: its requests, connections' activity, links, 410
  /// lines and target lines, at 460 bytes each. (Measured: after one pass over the 1 GB corpus the
  /// state holds 175,000 of them and the process 80 MB more than at its start. Message links and
  /// invocations are not counted: they are written to the store.)
  var estimatedBytes: Int {
    (requests.count + activity.count + links.count + gones.count + targets.count) * 460
  }

  public mutating func merge(_ other: CorrelationState) {
    // Merging into an empty state gives `other` itself: skip re-inserting every entry (a big
    // input's state is otherwise copied once per merge level).
    if requests.isEmpty, activity.isEmpty, links.isEmpty, messageLinks.isEmpty, invocations.isEmpty, gones.isEmpty,
      targets.isEmpty, streams.isEmpty
    {
      self = other
      return
    }
    for (key, var record) in other.requests {
      intern(&record.client)
      if let i = requests.index(forKey: key) {
        requests.values[i].absorb(record)
      } else {
        requests[key] = record
      }
    }
    for (key, link) in other.links {
      if let existing = links[key], !(link.evidence < existing.evidence) { continue }
      links[key] = link
    }
    messageLinks.append(contentsOf: other.messageLinks)
    // `other`'s stream numbers, in this state's numbering.
    var streamMap: [StreamID] = []
    streamMap.reserveCapacity(other.streams.count)
    for key in other.streams { streamMap.append(stream(key)) }
    invocations.append(contentsOf: other.invocations, streamMap: streamMap)
    for (id, a) in other.activity { activity[id, default: MessageActivity()].absorb(a) }
    gones.append(contentsOf: other.gones.map { KeyedFact(fact: $0.fact, stream: streamMap[Int($0.stream)]) })
    targets.append(contentsOf: other.targets.map { var t = $0; t.stream = streamMap[Int(t.stream)]; return t })
  }
}

/// Which lines of 410s can be one call: those of one invocation, else of one API Gateway
/// request, else of one stream. Typed rather than a string key: a key with `λ` in it was hashed
/// and compared through Unicode normalization, a tenth of assembling a day's calls.
enum CallGroup: Hashable, Sendable {
  case apigw(CompactID)
  case stream(CorrelationState.StreamID)
  case lambda(CompactID)

  /// The groups in a fixed order that does not depend on input order or stream numbering (the
  /// order of calls of equal time, target and line): requests, then streams by name, then
  /// invocations, each by id.
  static func ordered<Lines>(_ groups: [CallGroup: Lines], streams: [CorrelationState.StreamKey])
    -> [(key: CallGroup, value: Lines)]
  {
    func streamName(_ s: CorrelationState.StreamID) -> [UInt8] {
      let key = streams[Int(s)]
      return Array("\(key.group ?? "")|\(key.stream ?? "")|\(key.input ?? -1)".utf8)
    }
    var names: [CorrelationState.StreamID: [UInt8]] = [:]
    for case .stream(let s) in groups.keys { names[s] = streamName(s) }
    return groups.sorted { a, b in
      switch (a.key, b.key) {
      case (.apigw(let x), .apigw(let y)), (.lambda(let x), .lambda(let y)): return x < y
      case (.stream(let x), .stream(let y)): return names[x]!.lexicographicallyPrecedes(names[y]!)
      case (.apigw, _), (.stream, .lambda): return true
      default: return false
      }
    }
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
  /// Lambda invocation id -> the `$connect` request that triggered it (the one kind of trigger
  /// classification asks about: a post from inside a connection's own `$connect`), for the
  /// invocations that made a failed call: no other is ever asked about.
  public var triggerOf: [String: ConnectTrigger]
  /// For the invocations in `triggerOf`: the line linking the request to the invocation.
  public var linkEvidence: [String: Evidence]
  /// Client key -> its connections, by when their `$connect` was requested (unknown last).
  public var connectionsByClient: [String: [ClientConnection]]
  public var clientKey: ClientKey
  /// 410 lines read more than once (the same event in two inputs), each counted once.
  public var duplicateGoneLines: [DuplicateLine] = []
}

/// The `$connect` request an invocation ran for: the connection it was connecting, and its lines.
public struct ConnectTrigger: Sendable {
  public var connectionId: String?
  public var evidence: [Evidence]
}

public struct ClientConnection: Sendable, Equatable {
  /// The timeline's `connectRequestedAt`, `EpochMillis.max` when unknown.
  public var connectRequestedAt: EpochMillis
  public var id: String
  /// The earliest `$connect` request or completion of this connection and of every one after it
  /// in the list: a call before it cannot have found any of them open (`Classifier.newerConnection`).
  public var earliestFromHere: EpochMillis = .max
}

/// A line that repeats one already read: `dropped` was not counted again, `kept` was.
public struct DuplicateLine: Sendable, Hashable {
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
  /// Consumes the state: each part is released as soon as it has been used, so the run's peak
  /// memory is the state or the correlation, not both.
  /// With `threads` > 1 the steps that share nothing run at once, two by two (the timelines are
  /// built while the invocations are read back, and finished while the 410 lines are grouped),
  /// and the calls are assembled on every thread, `minimumShare` lines or more each.
  public consuming func correlate(_ options: CorrelationOptions, threads: Int = 1, minimumShare: Int = 1024)
    -> Correlation
  {
    // Requests → connections. The records leave the hash table first, moved out in descending
    // key order (not copied: `Array(requests)` retained every string of every record only for
    // the table to release them, and sorting it moved whole records around), and the table is
    // freed before the timelines are built. Descending, so that they are taken off the end in
    // key order (`reverse()` copied each record twice).
    var ordered: [(key: CompactID, value: RequestRecord)] = []
    ordered.reserveCapacity(requests.count)
    for key in requests.keys.sorted(by: >) { ordered.append((key, requests.removeValue(forKey: key)!)) }
    requests = [:]
    MemoryTrace.mark("correlate: requests sorted")

    // A MESSAGE request's link and an invocation's START and END are kept on disk (`SpillLog`)
    // and read back once, for the requests and lines that ask for them.
    var askedByLines = Set<CompactID>()
    for g in gones where g.fact.fields.lambda == nil {
      if let a = g.fact.fields.apigw { askedByLines.insert(a) }
    }
    for t in targets where t.lambda == nil { if let a = t.apigw { askedByLines.insert(a) } }
    var askedLinks = askedByLines
    for (_, r) in ordered where r.lambda == nil { if let a = r.apigw { askedLinks.insert(a) } }
    var messageLink = messageLinks.resolve(askedLinks)
    messageLinks = MessageLinks(store: nil)
    MemoryTrace.mark("correlate: message links read")

    // By invocation, for every `$connect`; only those of invocations that made a failed call are
    // kept once the 410 lines are grouped.
    var connectLinks: [CompactID: Evidence] = [:]
    var askedInvocations = Set<CompactID>()
    for i in ordered.indices {
      if ordered[i].value.lambda == nil, let key = ordered[i].value.apigw {
        if let link = links[key] {
          ordered[i].value.lambda = link.lambdaRequestId
          if ordered[i].value.kind == .connect { connectLinks[link.lambdaRequestId] = link.evidence }
        } else if let lambda = messageLink[key] {
          ordered[i].value.lambda = lambda
        }
      }
      if let lambda = ordered[i].value.lambda { askedInvocations.insert(lambda) }
    }
    // The invocation each API Gateway request named by a line ran, from either kind of link:
    // all the rest of the links is freed here.
    var linkedByLines: [CompactID: CompactID] = [:]
    for key in askedByLines {
      if let lambda = links[key]?.lambdaRequestId ?? messageLink[key] { linkedByLines[key] = lambda }
    }
    links = [:]
    messageLink = [:]
    askedLinks = []
    askedByLines = []
    // Lines without a Lambda request id belong to the invocation running in their stream then:
    // every invocation of the streams such lines were written to is read back.
    var wanted = Set(gones.lazy.filter { $0.fact.fields.lambda == nil }.map(\.stream))
    wanted.formUnion(targets.lazy.filter { $0.lambda == nil }.map(\.stream))
    let messageActivity = activity
    activity = [:]
    MemoryTrace.mark("correlate: links settled")

    // The timelines (kept to the end of the run) are built on another thread (see `Parallel.run`),
    // after each `$connect`'s invocation is noted, while the invocations are read back on this one.
    var timelines: [String: ConnectionTimeline] = [:]
    var invocationRecords: [CompactID: InvocationRecord] = [:]
    // Only what a 410 asks of the `$connect` that ran its invocation, not the whole record (a day
    // holds an invocation per connection); kept for the failed calls' invocations once grouped.
    var triggers: [CompactID: (time: EpochMillis, trigger: ConnectTrigger)] = [:]
    Parallel.run(threads: threads) {
      // Each invocation a `$connect` ran is that connect's (the earliest, should two name one).
      for i in ordered.indices.reversed() where ordered[i].value.kind == .connect {
        guard let lambda = ordered[i].value.lambda else { continue }
        if let existing = triggers[lambda], existing.time <= ordered[i].value.time {} else {
          triggers[lambda] = (ordered[i].value.time,
            ConnectTrigger(connectionId: ordered[i].value.connectionId, evidence: ordered[i].value.evidence))
        }
      }
      // Each record is moved into its timeline, in key order, and the timeline is appended to in
      // place (a copy of each record and of its growing timeline was a third of this stage).
      while let (_, r) = ordered.popLast() {
        guard let id = r.connectionId, let kind = r.kind else { continue }
        switch kind {
        case .connect: timelines[id, default: ConnectionTimeline(connectionId: id)].connects.append(r)
        case .message: timelines[id, default: ConnectionTimeline(connectionId: id)].messages.append(r)
        case .disconnect: timelines[id, default: ConnectionTimeline(connectionId: id)].disconnects.append(r)
        }
      }
      ordered = []  // its storage, emptied but still held
      MemoryTrace.mark("correlate: timelines built")
    } and: {
      invocationRecords = invocations.records(ids: askedInvocations, streams: wanted)
      invocations = Invocations(store: nil)
      askedInvocations = []
      MemoryTrace.mark("correlate: invocations read")
    }

    var byClient: [String: [ClientConnection]] = [:]
    var grouped = GroupedLines()
    Parallel.run(threads: threads) {
      Self.noteInvocationEnds(&timelines, invocationRecords)
      byClient = Self.finish(&timelines, activity: messageActivity, clientKey: options.clientKey)
      MemoryTrace.mark("correlate: timelines finished")
    } and: {
      grouped = groupFailedLines(invocationRecords: invocationRecords, wanted: wanted, linkedByLines: linkedByLines)
      MemoryTrace.mark("correlate: 410 lines grouped")
    }
    invocationRecords = [:]
    wanted = []
    var triggerOf: [String: ConnectTrigger] = [:]
    var linkEvidence: [String: Evidence] = [:]
    for case (.lambda(let lambda), _) in grouped.groups {
      if let t = triggers[lambda] { triggerOf[lambda.string] = t.trigger }
      if let e = connectLinks[lambda] { linkEvidence[lambda.string] = e }
    }
    triggers = [:]
    connectLinks = [:]
    // Each group's lines are taken out of the 410 lines, which are then freed (with the slack
    // their array grew by): the calls are assembled from the groups, each let go of once its
    // calls are made.
    var lines = grouped.groups.map { group in group.value.map { gones[$0].fact } }
    gones = []
    let calls = Self.assembleCalls(grouped, lines: &lines, triggerOf: triggerOf, options: options, threads: threads,
      minimumShare: minimumShare)
    MemoryTrace.mark("correlate: calls assembled")
    return Correlation(timelines: timelines, calls: calls, triggerOf: triggerOf, linkEvidence: linkEvidence,
      connectionsByClient: byClient, clientKey: options.clientKey, duplicateGoneLines: grouped.duplicates)
  }

  /// A request's integration ends with its invocation (when a `$connect` completes).
  private static func noteInvocationEnds(
    _ timelines: inout [String: ConnectionTimeline], _ invocations: [CompactID: InvocationRecord]
  ) {
    func note(_ list: inout [RequestRecord]) {
      for j in list.indices {
        if let lambda = list[j].lambda, let end = invocations[lambda]?.end {
          list[j].lastLoggedAt = max(list[j].lastLoggedAt, end)
        }
      }
    }
    timelines.updateEachValue { timeline in
      note(&timeline.connects)
      note(&timeline.messages)
      note(&timeline.disconnects)
    }
  }

  /// Orders each timeline's requests, settles who its client is, adds its message activity, and
  /// returns each client's connections in the order they were opened.
  private static func finish(
    _ timelines: inout [String: ConnectionTimeline], activity: [CompactID: MessageActivity], clientKey: ClientKey
  ) -> [String: [ClientConnection]] {
    func order(_ a: RequestRecord, _ b: RequestRecord) -> Bool {
      if a.time != b.time { return a.time < b.time }
      switch (a.apigw, b.apigw) {
      case (let x?, let y?): return x < y
      case (nil, _?): return true  // a request without an id first
      default: return false
      }
    }
    // In place (see `updateEachValue`).
    timelines.updateEachValue { timeline in
      timeline.connects.sort(by: order)
      timeline.messages.sort(by: order)
      timeline.disconnects.sort(by: order)
      // Who the client is: as its `$connect` saw it, else as any later request did.
      var client = timeline.client
      func fill(from list: [RequestRecord]) {
        for j in list.indices {
          if client.sourceIp == nil { client.sourceIp = list[j].client.sourceIp }
          if client.userAgent == nil { client.userAgent = list[j].client.userAgent }
          if client.principalId == nil { client.principalId = list[j].client.principalId }
        }
      }
      fill(from: timeline.connects)
      fill(from: timeline.messages)
      fill(from: timeline.disconnects)
      timeline.client = client
    }
    for (id, a) in activity {
      let id = id.string
      timelines[id, default: ConnectionTimeline(connectionId: id)].activity = a
    }
    // Each client's connections with when they were opened, worked out once per connection (not
    // looked up and recomputed in every comparison of the sort).
    var opened: [String: [ClientConnection]] = [:]
    for i in timelines.values.indices {
      if let key = clientKey.key(timelines.values[i].client) {
        let requested = timelines.values[i].connectRequestedAt ?? .max
        opened[key, default: []].append(ClientConnection(connectRequestedAt: requested, id: timelines.keys[i],
          earliestFromHere: min(requested, timelines.values[i].connectCompletedAt ?? .max)))
      }
    }
    return opened.mapValues { list in
      var list = list.sorted { ($0.connectRequestedAt, $0.id) < ($1.connectRequestedAt, $1.id) }
      var earliest = EpochMillis.max
      for i in list.indices.reversed() {
        earliest = min(earliest, list[i].earliestFromHere)
        list[i].earliestFromHere = earliest
      }
      return list
    }
  }

  /// The 410 lines grouped by the invocation (else request, else stream) that wrote them, and
  /// what assembling them into calls needs besides.
  struct GroupedLines: Sendable {
    /// Each group's lines (positions in `gones`, in time order), the groups in `CallGroup` order.
    var groups: [(key: CallGroup, value: [Int])] = []
    /// The lines naming a connection, of the invocations that made a failed call.
    var hints: [CallGroup: [TargetHint]] = [:]
    /// Lines dropped as repeats of lines already read.
    var duplicates: [DuplicateLine] = []
  }

  /// Groups the 410 lines by the invocation that wrote them (the same event read twice counted
  /// once), and keeps the lines naming a connection that those invocations wrote.
  private mutating func groupFailedLines(
    invocationRecords: [CompactID: InvocationRecord], wanted: Set<StreamID>, linkedByLines: [CompactID: CompactID]
  ) -> GroupedLines {
    var open: [(stream: StreamID, window: InvocationWindows.Window)] = []
    for (id, inv) in invocationRecords where inv.start != .max || inv.end != .min {
      let window = InvocationWindows.Window(start: inv.start == .max ? inv.end : inv.start,
        end: inv.end == .min ? .max : inv.end, id: id)
      if wanted.contains(inv.stream) { open.append((inv.stream, window)) }
      for other in inv.otherStreams ?? [] where wanted.contains(other) { open.append((other, window)) }
    }
    let windows = InvocationWindows(open)
    /// The invocation a line belongs to: the one it names, or the one its API Gateway request
    /// ran, or the one running in its stream at its time (see `InvocationWindows`).
    func invocation(lambda: CompactID?, apigw: CompactID?, time t: EpochMillis, stream: StreamID,
      prefers: ((CompactID) -> Bool)? = nil) -> CompactID?
    {
      if let lambda { return lambda }
      if let apigw, let lambda = linkedByLines[apigw] { return lambda }
      return windows.latestOpen(in: stream, at: t, prefers: prefers)
    }

    // The same event read twice (overlapping exports, a file given twice, a page fetched twice)
    // counts once: same stream, time and message, unless both copies carry CloudWatch event ids
    // and they differ. Not keyed by input: a raw file given twice names no stream, and its two
    // copies are still one event each. Sorted by time and text, copies are neighbours: only
    // the lines of one time and text are remembered at once.
    var seen: [String?: (kept: Origin, ids: [String?])] = [:]
    var result = GroupedLines()
    // Lines are grouped by position, not copied: a gigabyte holds tens of thousands of them.
    var groups: [CallGroup: [Int]] = [:]
    // Sorted on the keys alone: binding whole facts in the comparison copied two of them (a
    // dozen reference-counted fields each) per comparison.
    let sortKeys = gones.map { ($0.fact.time, $0.fact.body, $0.fact.origin) }
    let order = gones.indices.sorted { sortKeys[$0] < sortKeys[$1] }
    for (n, i) in order.enumerated() {
      let keyed = gones[i]
      if n > 0, case let previous = sortKeys[order[n - 1]], previous.0 != keyed.fact.time || previous.1 != keyed.fact.body {
        seen.removeAll(keepingCapacity: true)
      }
      if let earlier = seen[keyed.fact.stream] {
        let id = keyed.fact.eventId
        if id == nil || earlier.ids.contains(where: { $0 == nil || $0 == id }) {
          result.duplicates.append(DuplicateLine(dropped: keyed.fact.origin, kept: earlier.kept))
          continue
        }
        seen[keyed.fact.stream]?.ids.append(id)
      } else {
        seen[keyed.fact.stream] = (keyed.fact.origin, [keyed.fact.eventId])
      }
      let fields = keyed.fact.fields
      // An echo (the runtime's uncaught-error record) repeats a failure of its own invocation:
      // of two open ones, the one that has already recorded a 410 (lines come in time order).
      let lambda = invocation(lambda: fields.lambda, apigw: fields.apigw, time: keyed.fact.time,
        stream: keyed.stream, prefers: fields.isEcho ? { groups[.lambda($0)] != nil } : nil)
      gones[i].fact.fields.lambda = lambda
      let group: CallGroup = lambda.map { .lambda($0) } ?? fields.apigw.map { .apigw($0) } ?? .stream(keyed.stream)
      groups[group, default: []].append(i)
    }
    // Only the hints of invocations that made a failed call are ever read.
    for hint in targets {
      guard let lambda = invocation(lambda: hint.lambda, apigw: hint.apigw, time: hint.evidence.time,
        stream: hint.stream), case let group = CallGroup.lambda(lambda), groups[group] != nil else { continue }
      result.hints[group, default: []].append(hint)
    }
    targets = []
    result.groups = CallGroup.ordered(groups, streams: streams)
    return result
  }

  /// The failed calls of the grouped lines, each with its target resolved, in time order. The
  /// groups are independent: with `threads` > 1 each thread assembles a run of them holding
  /// about as many lines as the others' (at least `minimumShare`), and the runs are joined in
  /// group order, so the calls do not depend on the split.
  /// `lines`: each group's lines (in `grouped.groups` order), emptied as they are assembled.
  private static func assembleCalls(
    _ grouped: GroupedLines, lines: inout [[Fact]], triggerOf: [String: ConnectTrigger], options: CorrelationOptions,
    threads: Int, minimumShare: Int
  ) -> [GoneCall] {
    let groups = grouped.groups
    let lineCount = groups.reduce(0) { $0 + $1.value.count }
    let shares = max(1, min(threads, lineCount / max(1, minimumShare)))
    // Share t: the groups from bounds[t] up to bounds[t + 1], cut where the lines before reach
    // t / shares of them.
    var bounds = [0]
    var before = 0
    for (g, group) in groups.enumerated() where bounds.count < shares {
      before += group.value.count
      if before * shares >= lineCount * bounds.count { bounds.append(g + 1) }
    }
    while bounds.count <= shares { bounds.append(groups.count) }
    var calls: [GoneCall] = lines.withUnsafeMutableBufferPointer { lines in
      // Each thread takes (and empties) only the groups of its share.
      nonisolated(unsafe) let lines = lines
      @Sendable func assemble(_ range: Range<Int>) -> [GoneCall] {
        var calls: [GoneCall] = []
        for g in range {
          var facts: [Fact] = []
          swap(&facts, &lines[g])
          for var call in assembleCalls(facts, span: options.callSpan) {
            resolveTarget(&call, hints: grouped.hints[groups[g].key] ?? [], triggerOf: triggerOf, skew: options.skew)
            calls.append(call)
          }
        }
        return calls
      }
      if shares == 1 { return assemble(0..<groups.count) }
      let parts = [[GoneCall]](unsafeUninitializedCapacity: shares) { parts, initialized in
        // Each thread writes only its own share's slot.
        nonisolated(unsafe) let parts = parts
        let bounds = bounds
        DispatchQueue.concurrentPerform(iterations: shares) { t in
          (parts.baseAddress! + t).initialize(to: assemble(bounds[t]..<bounds[t + 1]))
        }
        initialized = shares
      }
      var calls: [GoneCall] = []
      calls.reserveCapacity(parts.reduce(0) { $0 + $1.count })
      for part in parts { calls += part }
      return calls
    }
    // By time, target and first line. The keys are taken once, as plain values (a line by its
    // hash and length: `LineText`'s own order), so comparing them retains nothing; a tie on all
    // of those (the same line text in two calls) compares the lines themselves.
    let firstLines = calls.map { $0.facts.isEmpty ? LineText.empty : $0.facts[0].body }
    calls.sort(byKey: { call in
      let line = call.facts.isEmpty ? LineText.empty : call.facts[0].body
      return (time: call.time, target: call.target.map(CompactID.init), line: (line.hash, line.byteCount))
    }) { a, b in
      if a.key.time != b.key.time { return a.key.time < b.key.time }
      if a.key.target != b.key.target {  // no target first
        guard let y = b.key.target else { return false }
        return a.key.target.map { $0 < y } ?? true
      }
      if a.key.line != b.key.line { return a.key.line < b.key.line }
      return firstLines[a.index] < firstLines[b.index]
    }
    return calls
  }

  /// Folds one invocation's 410 lines (time-sorted) into calls. One call leaves several lines
  /// (the app's message naming the target, the SDK's error dump, the runtime's uncaught record),
  /// so lines close in time that do not name different connections join one call, unless the
  /// call already holds a line of the same rule that is equally specific (both naming the target,
  /// or both not): the app logging its failure twice is two calls; so are lines quoting two
  /// different SDK request ids. Echo lines (uncaught-error
  /// records, API Gateway's view) join the call they follow and stand alone only when nothing
  /// else recorded it.
  static func assembleCalls(_ facts: [Fact], span: EpochMillis) -> [GoneCall] {
    var calls: [GoneCall] = []
    func accepts(_ call: GoneCall, _ f: Fact) -> Bool {
      if let a = call.target, let b = f.fields.connectionId, a != b { return false }
      // Each call to the API has its own request id: lines quoting two ids are two calls (a
      // broadcast's `Post failed: …GoneException… Request ID: X` beside the line for the call before).
      if let b = f.fields.sdkRequestId, call.facts.contains(where: { $0.fields.sdkRequestId.map { $0 != b } ?? false }) {
        return false
      }
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
        ($0.time, $0.fields.connection == nil ? 1 : 0, $0.body) < ($1.time, $1.fields.connection == nil ? 1 : 0, $1.body)
      }
      calls[i].time = calls[i].facts.map(\.time).min() ?? calls[i].time
      calls[i].sdkRequestId = calls[i].facts.lazy.compactMap(\.fields.sdkRequestId).first
      calls[i].operation = calls[i].facts.lazy.compactMap(\.fields.operation).first
        ?? calls[i].facts.lazy.compactMap(\.fields.namedOperation).first
      if calls[i].target != nil { calls[i].targetSource = .ownLine }
    }
    return calls
  }

  /// A call whose lines do not name its target: the nearest line of the same invocation that
  /// names a connection (before the call, else after it), else, in a `$connect` invocation, the
  /// connection being connected (a handler posting to its own connection).
  static func resolveTarget(_ call: inout GoneCall, hints: [TargetHint], triggerOf: [String: ConnectTrigger], skew: EpochMillis) {
    guard call.target == nil else { return }
    // The latest line before the call, else the earliest after it. The same line read from two
    // inputs is one line, shown as its first copy (the least origin, as for every repeated
    // line), whichever copy was merged first: so equal lines rank by origin reversed for `max`.
    let before = hints.filter { $0.evidence.time <= call.time + skew }.max { a, b in
      (a.evidence.time, a.evidence.body) != (b.evidence.time, b.evidence.body)
        ? (a.evidence.time, a.evidence.body) < (b.evidence.time, b.evidence.body) : b.evidence.origin < a.evidence.origin
    }
    let after = hints.filter { $0.evidence.time > call.time + skew }.min { $0.evidence < $1.evidence }
    if let hint = before ?? after {
      call.target = hint.connectionId
      call.targetSource = .invocationHint
      call.targetEvidence = hint.evidence
      if call.operation == nil { call.operation = GoneCall.operationNamed(in: hint.evidence.text) }
      return
    }
    // Only for `$connect`: a welcome message to the connecting client is the classic pre-connect
    // post. A `$disconnect` or message handler posting without naming its target is as likely to
    // be broadcasting to others, and guessing the sender there would be a made-up answer.
    if let lambda = call.lambdaRequestId, let id = triggerOf[lambda]?.connectionId {
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
    var text = text
    return text.withUTF8 { operationNamed(in: UnsafeRawBufferPointer($0)) }
  }

  /// Byte search, not Foundation's locale-aware `contains`. On a line's raw bytes it finds what
  /// it finds in the line's text: the names are ASCII, which repairing ill-formed UTF-8 never touches.
  static func operationNamed(in bytes: UnsafeRawBufferPointer) -> String? {
    operations.first { op in
      op.0.utf8.withContiguousStorageIfAvailable { Bytes.contains(bytes, UnsafeRawBufferPointer($0)) } ?? false
    }?.1
  }
}
