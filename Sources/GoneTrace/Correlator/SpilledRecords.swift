/// The two kinds of record the correlation state holds one of per message, and reads only for
/// the few requests and 410 lines that need them: kept in a `SpillLog`, off the heap.
extension CorrelationState {
  /// API Gateway request id -> Lambda invocation id, for MESSAGE requests.
  struct MessageLinks: Sendable {
    struct Record: BitwiseCopyable, Sendable {
      var apigw: PackedID
      var lambda: PackedID
    }

    private var log: SpillLog<Record>
    /// Links naming an id that does not pack (longer than 16 bytes and not a UUID): rare.
    private var unpacked: [(apigw: CompactID, lambda: CompactID)] = []

    init(store: TextStore?) {
      log = SpillLog(store: store)
    }

    var isEmpty: Bool { log.isEmpty && unpacked.isEmpty }

    mutating func add(_ apigw: CompactID, _ lambda: CompactID) {
      if let a = PackedID(apigw), let l = PackedID(lambda) {
        log.append(Record(apigw: a, lambda: l))
      } else {
        unpacked.append((apigw, lambda))
      }
    }

    mutating func seal() { log.seal() }

    mutating func append(contentsOf other: MessageLinks) {
      log.append(contentsOf: other.log)
      unpacked += other.unpacked
    }

    /// The invocation linked to each request of `keys` that has one. Two lines naming different
    /// invocations for one request: the least, so the answer does not depend on the order read.
    func resolve(_ keys: Set<CompactID>) -> [CompactID: CompactID] {
      var found: [CompactID: CompactID] = [:]
      guard !keys.isEmpty else { return found }
      func take(_ apigw: CompactID, _ lambda: CompactID) {
        guard keys.contains(apigw) else { return }
        if let existing = found[apigw], !(lambda < existing) { return }
        found[apigw] = lambda
      }
      log.forEach { take($0.apigw.id, $0.lambda.id) }
      for (apigw, lambda) in unpacked { take(apigw, lambda) }
      return found
    }
  }

  /// Every START and END (or REPORT) read, with its stream.
  struct Invocations: Sendable {
    struct Event: BitwiseCopyable, Sendable {
      var id: PackedID
      var time: EpochMillis
      var stream: StreamID
      var isStart: Bool
    }

    private let store: TextStore?
    private var current: SpillLog<Event>
    /// Logs merged in from other states, with their stream numbers in this state's numbering.
    private var merged: [(log: SpillLog<Event>, streams: [StreamID]?)] = []
    /// Events naming an id that does not pack (streams in this state's numbering).
    private var unpacked: [(id: CompactID, event: Event)] = []

    init(store: TextStore?) {
      self.store = store
      current = SpillLog(store: store)
    }

    var isEmpty: Bool { current.isEmpty && merged.isEmpty && unpacked.isEmpty }

    mutating func seal() { current.seal() }

    mutating func add(_ id: CompactID, stream: StreamID, time: EpochMillis, isStart: Bool) {
      if let packed = PackedID(id) {
        current.append(Event(id: packed, time: time, stream: stream, isStart: isStart))
      } else {
        let zero = PackedID(.short(0, 0))!
        unpacked.append((id, Event(id: zero, time: time, stream: stream, isStart: isStart)))
      }
    }

    /// Appends `other`'s events after this state's own; `streamMap` takes `other`'s stream
    /// numbers to this state's.
    mutating func append(contentsOf other: Invocations, streamMap: [StreamID]) {
      if !current.isEmpty {
        merged.append((current, nil))
        current = SpillLog(store: store)
      }
      for (log, streams) in other.merged {
        merged.append((log, streams.map { $0.map { streamMap[Int($0)] } } ?? streamMap))
      }
      if !other.current.isEmpty { merged.append((other.current, streamMap)) }
      for (id, event) in other.unpacked {
        var e = event
        e.stream = streamMap[Int(e.stream)]
        unpacked.append((id, e))
      }
    }

    /// The invocations named in `ids` and every invocation of `streams`: its earliest START,
    /// latest END, and the streams they were read in.
    func records(ids: Set<CompactID>, streams: Set<StreamID>) -> [CompactID: InvocationRecord] {
      var found: [CompactID: InvocationRecord] = [:]
      guard !ids.isEmpty || !streams.isEmpty else { return found }
      func take(_ id: CompactID, _ e: Event) {
        guard streams.contains(e.stream) || ids.contains(id) else { return }
        let i = found.index(forKey: id) ?? {
          found[id] = InvocationRecord(stream: e.stream)
          return found.index(forKey: id)!
        }()
        found.values[i].note(e.stream)
        if e.isStart {
          found.values[i].start = min(found.values[i].start, e.time)
        } else {
          found.values[i].end = max(found.values[i].end, e.time)
        }
      }
      for (log, map) in merged {
        log.forEach { e in
          var e = e
          if let map { e.stream = map[Int(e.stream)] }
          take(e.id.id, e)
        }
      }
      current.forEach { take($0.id.id, $0) }
      for (id, e) in unpacked { take(id, e) }
      return found
    }
  }
}
