/// Turns log events into facts by running the rule set over each message. One per worker
/// thread: it owns the per-thread PCRE2 match state.
public final class Recognizer {
  public let rules: RuleSet
  private let matchers: [Matcher?]
  /// Per-event cache of prefilter results: 0 unknown, 1 absent, 2 present. Raw memory, so the
  /// hot loop pays no exclusivity checks.
  private let literalState: UnsafeMutablePointer<UInt8>
  private let literalCount: Int
  private let literals: UnsafeMutablePointer<UnsafeRawBufferPointer>
  private let literalScan: LiteralScan
  private let keyTable: KeyTable
  /// What the recognizer changes from event to event, behind a pointer: every access to a
  /// class's stored `var` is checked for exclusivity at run time (a thread-local lookup each),
  /// and these are read or written for every event that yields a fact (2% of a run).
  private struct Scratch {
    /// Key occurrences in the current event (computed when a rule with keys first needs them).
    var keyHits: [(key: Int, at: Int)] = []
    /// API Gateway requests seen lately that are not `$connect`s (messages, disconnects). Of the
    /// lines linking a request to its Lambda invocation, only a `$connect`'s is ever shown (the
    /// invocation a call came from), so those of the others are not kept: two lines per message,
    /// a quarter of a busy API's execution log, were written to the evidence file for nothing.
    /// The request's own line comes first in the log. Bounded: an id forgotten costs its link
    /// line being kept, as before.
    var notConnects = RecentIDs()
  }
  private let scratch: UnsafeMutablePointer<Scratch>
  /// Evidence text is cut to this many bytes: enough to read, bounded for a 50 MB line.
  public let maxEvidenceBytes = 1024
  /// Where this recognizer's evidence lines are kept (off the heap).
  let textStore = TextStore()
  /// Problems met while matching (a pattern hitting its match limit on a hostile line).
  public private(set) var diagnostics: [Diagnostic] = []
  /// Also return `invocation` context facts (tests check the rules that produce them).
  let keepsContextFacts: Bool

  /// A WebSocket connection id (16 characters ending in `=`, §3.1) standing alone in a line.
  private static let connectionIdShape: Pattern = {
    do { return try Pattern(#"(?<![A-Za-z0-9_=+/-])[A-Za-z0-9_-]{15}=(?![A-Za-z0-9_=+/-])"#) } catch {
      fatalError("\(error)")
    }
  }()
  private let idMatcher = Matcher(Recognizer.connectionIdShape)

  // The rule loop runs for every event: these plain arrays keep it free of reference counting
  // (copying a `CompiledRule` per rule per event was 15% of the run in retain/release).
  private let kindBits: [UInt8]
  private let prefilterIDs: [Int]
  private let anchored: [Bool]
  private let finals: [Bool]
  private let names: [String]
  /// Rule indices, in order, for execution-log lines and for all other lines, by the first byte
  /// of the line's body: a rule whose literal must start the body (`anchored`) is listed only
  /// under that literal's first byte. Six of the ten built-in rules for execution lines are
  /// anchored (four of the 25 for other lines), and trying each in turn on the lines no rule
  /// matches, two thirds of an execution log, was 6% of reading it.
  private let executionRulesByByte: FlatLists<Int>
  private let otherRulesByByte: FlatLists<Int>
  private let kinds: [Fact.Kind]
  private let groupsOf: FlatLists<(Int, Field)>
  private let keysOf: [[(Field, [[UInt8]])]]
  /// Per rule: each field it reads by key, with its slot in `keyIDsOfSlot` (the ids of the keys
  /// it is read from, in order).
  private let keyFieldsOf: FlatLists<(field: Field, slot: Int)>
  private let keyIDsOfSlot: FlatLists<Int>
  private let hasKeys: [Bool]
  private let constantsOf: [[(Field, String)]]
  private let hasConstants: [Bool]
  private let hasPattern: [Bool]

  public init(rules: RuleSet, keepsContextFacts: Bool = false) {
    self.rules = rules
    self.keepsContextFacts = keepsContextFacts
    scratch = .allocate(capacity: 1)
    scratch.initialize(to: Scratch())
    kindBits = rules.rules.map { 1 << Recognizer.kindIndex($0.kind) }
    prefilterIDs = rules.rules.map(\.prefilterID)
    anchored = rules.rules.map(\.anchoredAtStart)
    finals = rules.rules.map(\.isFinal)
    names = rules.rules.map(\.definition.name)
    // An anchored literal is looked for where the body starts and, after an execution line's
    // `(<requestId>) ` prefix, at the very start too (`prefilterPasses`): which is always `(`.
    // (Each rule's scope and anchor byte taken out once: a rule copied is a dozen retains.)
    let scopes = rules.rules.map(\.scope)
    let anchorBytes: [UInt8?] = rules.rules.map { rule in
      rule.anchoredAtStart ? rules.prefilters[rule.prefilterID].first : nil
    }
    func candidates(scope excluded: RuleDefinition.Scope, startingBody byte: UInt8, or lineStart: UInt8?) -> [Int] {
      scopes.indices.filter { i in
        scopes[i] != excluded && (anchorBytes[i] == nil || anchorBytes[i] == byte || anchorBytes[i] == lineStart)
      }
    }
    executionRulesByByte = FlatLists((0...255).map {
      candidates(scope: .other, startingBody: UInt8($0), or: Recognizer.openParen)
    })
    otherRulesByByte = FlatLists((0...255).map { candidates(scope: .execution, startingBody: UInt8($0), or: nil) })
    kinds = rules.rules.map(\.kind)
    groupsOf = FlatLists(rules.rules.map(\.groups))
    keysOf = rules.rules.map(\.keys)
    var slot = 0
    keyFieldsOf = FlatLists(rules.rules.map { rule in
      rule.keyIDs.map { field, _ in
        defer { slot += 1 }
        return (field, slot)
      }
    })
    keyIDsOfSlot = FlatLists(rules.rules.flatMap { $0.keyIDs.map(\.1) })
    hasKeys = rules.rules.map { !$0.keys.isEmpty }
    constantsOf = rules.rules.map(\.constants)
    hasConstants = rules.rules.map { !$0.constants.isEmpty }
    hasPattern = rules.rules.map { $0.pattern != nil }
    matchers = rules.rules.map { $0.pattern.map(Matcher.init) }
    literalCount = rules.prefilters.count
    literalState = .allocate(capacity: max(1, literalCount))
    literalState.initialize(repeating: 0, count: max(1, literalCount))
    literals = .allocate(capacity: max(1, literalCount))
    for (i, lit) in rules.prefilters.enumerated() {
      let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, lit.count), alignment: 1)
      copy.copyBytes(from: lit)
      literals.advanced(by: i).initialize(to: UnsafeRawBufferPointer(rebasing: copy[0..<lit.count]))
    }
    literalScan = rules.literalScan
    keyTable = rules.keyTable
  }

  deinit {
    for i in 0..<literalCount { UnsafeMutableRawPointer(mutating: literals[i].baseAddress!).deallocate() }
    literals.deallocate()
    literalState.deallocate()
    scratch.deinitialize(count: 1)
    scratch.deallocate()
    groupsOf.deallocate()
    executionRulesByByte.deallocate()
    otherRulesByByte.deallocate()
    keyFieldsOf.deallocate()
    keyIDsOfSlot.deallocate()
  }

  /// Diagnostics kept per input (a file of a million pathological lines is not a million messages).
  public let maxDiagnostics = 1_000
  private var suppressedDiagnostics = 0

  public func takeDiagnostics() -> [Diagnostic] {
    defer { diagnostics = [] }
    if suppressedDiagnostics > 0, let last = diagnostics.last {
      return diagnostics + [Diagnostic(input: last.input, severity: .warning,
        message: "\(suppressedDiagnostics) more rule-matching errors for this input not listed")]
    }
    return diagnostics
  }

  /// Errors past `maxDiagnostics` since the last call, not listed but to be counted.
  public func takeSuppressedDiagnosticCount() -> Int {
    defer { suppressedDiagnostics = 0 }
    return suppressedDiagnostics
  }

  private static let openParen = UInt8(ascii: "("), closeParen = UInt8(ascii: ")")

  /// Appends the facts found in `event` to `facts`. `source`: the file `event.fileOffset`
  /// points into (its lines are then kept as positions in it).
  public func recognize(_ event: RawEvent, inputName: String, source: SourceFile? = nil, into facts: inout [Fact]) {
    let m = event.message
    guard !m.isEmpty else { return }
    // Execution-log messages start with `(<API Gateway requestId>) `.
    var bodyStart = 0
    var apigwPrefix: Range<Int>?
    if m.count > 3, m[0] == Recognizer.openParen,
      let close = Bytes.index(of: Recognizer.closeParen, in: m, from: 1, to: min(m.count, 80)),
      close > 1, close + 1 < m.count, m[close + 1] == Bytes.space
    {
      apigwPrefix = 1..<close
      bodyStart = close + 2
    }
    let isExecution = apigwPrefix != nil
    literalState.update(repeating: 0, count: literalCount)
    // The key hits are taken out of the scratch while the event is read, as a local array the
    // extractor appends to, and put back (their storage with them) for the next event.
    var keyHits: [(key: Int, at: Int)] = []
    var keyHitsReady = false
    defer { if keyHitsReady { swap(&keyHits, &scratch.pointee.keyHits) } }
    // Facts of this event are built in place at the end of `facts` (no scratch copy).
    let first = facts.count
    var kindsSeen: UInt8 = 0

    // Only the rules whose scope admits this kind of line and whose literal can start it, in rule order.
    // (An empty body is listed under 0: only rules looking at the line's start can match it.)
    let bodyByte = bodyStart < m.count ? m[bodyStart] : 0
    let candidates = (isExecution ? executionRulesByByte : otherRulesByByte)[Int(bodyByte)]
    for index in candidates {
      let kindBit = kindBits[index]
      if kindsSeen & kindBit != 0 { continue }  // one fact of each kind per event: first rule wins
      // A target found beside a request is dropped (`finish`): the connection a printed event
      // names is the sender's. So once a request is found, target rules need not run.
      if kindBit == Recognizer.targetBit, kindsSeen & Recognizer.requestBit != 0 { continue }
      if !prefilterPasses(index, m, bodyStart: bodyStart) { continue }

      var fields = FactFields()
      if let matcher = matchers[index] {
        do {
          guard try matcher.firstMatch(in: m) else { continue }
        } catch {
          guard diagnostics.count < maxDiagnostics else {
            suppressedDiagnostics += 1
            continue
          }
          diagnostics.append(Diagnostic(input: inputName, line: event.origin.line, record: event.origin.record,
            severity: .error, message: "rule \"\(names[index])\": \(error.message); line not recognized by it"))
          continue
        }
        for (group, field) in groupsOf[index] {
          if let bytes = matcher.bytes(group) { fields.set(field, bytes: bytes) }
        }
      }
      if hasKeys[index] {
        var found = false
        if keyTable.usable {
          if !keyHitsReady {
            swap(&keyHits, &scratch.pointee.keyHits)
            keyHits.removeAll(keepingCapacity: true)
            keyTable.occurrences(in: m, into: &keyHits)
            keyHitsReady = true
          }
          // Once the fields read so far show a MESSAGE request, only what a message is folded
          // with is read (keys come in `Field.extractionRank` order).
          var messageOnly: Bool?
          for (field, slot) in keyFieldsOf[index] {
            let keys = keyIDsOfSlot[slot]
            if messageOnly == nil, field.extractionRank > 0 {
              messageOnly = Fact.isMessageRequest(kinds[index], fields)
            }
            if messageOnly == true, !field.describesMessages { continue }
            if field == .requestTime, fields.requestTime != nil { continue }  // from requestTimeEpoch
            for key in keys {
              for hit in keyHits where hit.key == key {
                let fits = KeyValueExtractor.withValue(in: m, keyStart: hit.at, keyLength: keyTable.length(of: key)) {
                  fields.set(field, bytes: $0)
                }
                if fits == true { break }
              }
              if fields.has(field) {
                found = true
                break
              }
            }
          }
        } else {
          for (field, keys) in keysOf[index] {
            for key in keys {
              KeyValueExtractor.forEachValue(of: key, in: m) { raw in fields.set(field, bytes: raw) }
              if fields.has(field) {
                found = true
                break
              }
            }
          }
        }
        if !found, !hasPattern[index] { continue }
      }
      if hasConstants[index] {
        for (field, value) in constantsOf[index] { fields.set(field, raw: value) }
      }
      kindsSeen |= kindBit
      facts.append(Fact())
      facts[facts.count - 1].fill(kind: kinds[index], rule: names[index], time: event.timestamp, origin: event.origin,
        group: event.group, stream: event.stream, fields: consume fields)
      if finals[index] { break }
    }
    guard facts.count > first else { return }
    if !keepsContextFacts, kindsSeen == 1 << Recognizer.kindIndex(.invocation) {
      facts.removeSubrange(first...)  // only context: nothing to keep
      return
    }
    finish(event: event, source: source, apigwPrefix: apigwPrefix, facts: &facts, from: first)
  }

  /// Applies the event's context to its facts and keeps the ones worth keeping.
  private func finish(
    event: RawEvent, source: SourceFile?, apigwPrefix: Range<Int>?, facts: inout [Fact], from first: Int
  ) {
    let m = event.message
    let mine = first..<facts.count
    // The invocation a Lambda line belongs to, from its runtime prefix or platform record.
    var lambdaId: CompactID?
    for i in mine where facts[i].kind == .invocation || facts[i].kind == .invocationStart || facts[i].kind == .invocationEnd {
      lambdaId = lambdaId ?? facts[i].fields.lambda
    }
    let apigwId = apigwPrefix.map { UnsafeRawBufferPointer(rebasing: m[$0]) }
    let hasRequest = mine.contains { facts[$0].kind == .request }
    // A line that records a 410 and names a connection (`Error sending to connection X: GoneException…`):
    // the connection is that call's target.
    if let i = mine.first(where: { facts[$0].kind == .gone && facts[$0].fields.connection == nil }) {
      if let t = mine.first(where: { facts[$0].kind == .target }), let target = facts[t].fields.connection {
        facts[i].fields.connection = target
      } else if apigwPrefix == nil, (try? idMatcher.firstMatch(in: m)) == true, let r = idMatcher.range(0) {
        // `typing indicator to 652SpgmRsfMCWOQ= failed GoneException…`: a line recording a 410 that
        // names one id of the connection shape names its target. (Execution-log lines are skipped:
        // their ids are API Gateway request ids.)
        facts[i].fields.connection = CompactID(bytes: UnsafeRawBufferPointer(rebasing: m[r]))
      }
    }
    var kept = first
    for i in mine {
      if facts[i].kind == .invocation, !keepsContextFacts { continue }  // context only
      if facts[i].kind == .gone, let id = event.eventId { facts[i].eventId = String(bytes: id) }
      if facts[i].fields.lambda == nil { facts[i].fields.lambda = lambdaId }
      if facts[i].fields.apigw == nil, let apigwId { facts[i].fields.set(.apigwRequestId, bytes: apigwId) }
      if facts[i].kind == .request, apigwId == nil, lambdaId != nil, facts[i].fields.eventType == nil,
        facts[i].fields.routeKey == nil
      {
        // A Lambda line naming a connection without saying it is an API Gateway event (an app's
        // structured log `{"msg":"post failed","connectionId":…}`): a target, not a lifecycle event.
        guard facts[i].fields.connection != nil else { continue }
        facts[i].kind = .target
      } else if facts[i].kind == .target, hasRequest {
        continue  // the connection a printed event names is the sender's, not a target
      }
      // Swapped in place: `Array.swapAt` copied both facts (a dozen retains and releases each).
      if kept != i { facts.withUnsafeMutableBufferPointer { $0.swapAt(kept, i) } }
      kept += 1
    }
    if kept < facts.count { facts.removeSubrange(kept...) }
    // START / END facts are never shown: only the others carry the line. (Kinds and fields are
    // read in place: a fact handed to a function is a copy of a dozen reference-counted fields.)
    func isShown(_ kind: Fact.Kind) -> Bool { kind != .invocationStart && kind != .invocationEnd }
    var anyShown = false, onlyMessages = true
    for i in first..<kept where isShown(facts[i].kind) {
      anyShown = true
      if facts[i].kind != .invocation, !Fact.isMessageRequest(facts[i].kind, facts[i].fields) { onlyMessages = false }
    }
    guard anyShown else { return }
    for i in first..<kept where facts[i].kind == .request {
      guard let apigw = facts[i].fields.apigw,
        RequestKind(eventType: facts[i].fields.eventType, routeKey: facts[i].fields.routeKey).map({ $0 != .connect }) ?? false
      else { continue }
      scratch.pointee.notConnects.insert(apigw)
    }
    if (first..<kept).allSatisfy({ facts[$0].kind == .link && facts[$0].fields.apigw.map(scratch.pointee.notConnects.contains) == true }) {
      return  // the link of a message or a disconnect: its line is never shown
    }
    // A line of a regular input file is read back from it when shown (`SourceFile`): nothing
    // is copied. Otherwise a MESSAGE request's line is kept only until the connection's next
    // message replaces it: as a string, not in the evidence file, which would otherwise receive
    // every message of the run (half the input's bytes) to keep one per connection. Decided on
    // the facts kept: a dropped target rule match on an access-log row must not send every
    // message to the file.
    let text: LineText
    if let source, let offset = event.fileOffset {
      text = LineText(source: source, offset: offset, bytes: m, maxBytes: maxEvidenceBytes)
    } else {
      text = Recognizer.evidenceText(m, maxBytes: maxEvidenceBytes, store: onlyMessages ? nil : textStore)
    }
    for i in first..<kept where isShown(facts[i].kind) {
      facts[i].body = text
      if facts[i].kind == .gone {
        // The line as shown: its first `maxEvidenceBytes` (the ellipsis names no operation).
        let shown = UnsafeRawBufferPointer(rebasing: m.prefix(maxEvidenceBytes))
        facts[i].fields.namedOperation = GoneCall.operationNamed(in: shown)
      }
    }
  }

  /// The message as evidence, kept in `store` (or as a string without one): cut to `maxBytes`
  /// with ` …` appended. (Decoding the cut bytes and the ellipsis together gives the same string
  /// as decoding them apart: a multi-byte sequence split by the cut is replaced by U+FFFD either way.)
  static func evidenceText(_ m: UnsafeRawBufferPointer, maxBytes: Int, store: TextStore?) -> LineText {
    func keep(_ bytes: UnsafeRawBufferPointer) -> LineText { store?.append(bytes) ?? LineText(String(bytes: bytes)) }
    return m.count > maxBytes ? LineText.withCut(m, maxBytes: maxBytes, keep) : keep(m)
  }

  private static let targetBit: UInt8 = 1 << kindIndex(.target), requestBit: UInt8 = 1 << kindIndex(.request)

  private static func kindIndex(_ kind: Fact.Kind) -> UInt8 {
    switch kind {
    case .gone: 0
    case .target: 1
    case .request: 2
    case .link: 3
    case .invocationStart: 4
    case .invocationEnd: 5
    case .invocation: 6
    }
  }

  /// Whether `m` holds each prefilter literal a rule searches for (not only at its start), as
  /// the rule loop decides it: anchor-byte walks, two-byte searches. For tests, which compare it
  /// with a plain search.
  func searchedLiterals(in m: UnsafeRawBufferPointer) -> [Int: Bool] {
    literalState.update(repeating: 0, count: literalCount)
    var found: [Int: Bool] = [:]
    for index in prefilterIDs.indices where !anchored[index] {
      found[prefilterIDs[index]] = prefilterPasses(index, m, bodyStart: 0)
    }
    return found
  }

  @inline(__always)
  private func prefilterPasses(_ index: Int, _ m: UnsafeRawBufferPointer, bodyStart: Int) -> Bool {
    let id = prefilterIDs[index]
    if anchored[index] {
      let lit = literals[id]
      return Bytes.hasPrefix(m, lit, at: bodyStart) || (bodyStart > 0 && Bytes.hasPrefix(m, lit))
    }
    switch literalState[id] {
    case 1: return false
    case 2: return true
    default:
      let g = literalScan.groupOf[id]
      if g >= 0 {
        literalScan.scan(group: g, in: m, literals: literals, state: literalState)
        return literalState[id] == 2
      }
      let present = Bytes.contains(m, literals[id], pair: literalScan.pairOf[id])
      literalState[id] = present ? 2 : 1
      return present
    }
  }
}
