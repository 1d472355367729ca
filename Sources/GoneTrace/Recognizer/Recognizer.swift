/// Turns log events into facts by running the rule set over each message. One per worker
/// thread: it owns the per-thread PCRE2 match state.
public final class Recognizer {
  public let rules: RuleSet
  private let matchers: [Matcher?]
  /// Per-event cache of prefilter results: 0 unknown, 1 absent, 2 present.
  private var literalState: [UInt8]
  private var touched: [Int] = []
  private var scratch: [Fact] = []
  /// Evidence text is cut to this many bytes: enough to read, bounded for a 50 MB line.
  public var maxEvidenceBytes = 1024
  /// Problems met while matching (a pattern hitting its match limit on a hostile line).
  public private(set) var diagnostics: [Diagnostic] = []
  /// Also return `invocation` context facts (tests check the rules that produce them).
  var keepsContextFacts = false

  /// A WebSocket connection id (16 characters ending in `=`, §3.1) standing alone in a line.
  private static let connectionIdShape: Pattern = {
    do { return try Pattern(#"(?<![A-Za-z0-9_=+/-])[A-Za-z0-9_-]{15}=(?![A-Za-z0-9_=+/-])"#) } catch {
      fatalError("\(error)")
    }
  }()
  private let idMatcher = Matcher(Recognizer.connectionIdShape)

  // The rule loop runs for every event: these plain arrays keep it free of reference counting
  // (copying a `CompiledRule` per rule per event was 15% of the run in retain/release).
  private let scopes: [RuleDefinition.Scope]
  private let kindBits: [UInt8]
  private let prefilterIDs: [Int]
  private let anchored: [Bool]
  private let finals: [Bool]

  public init(rules: RuleSet) {
    self.rules = rules
    scopes = rules.rules.map(\.scope)
    kindBits = rules.rules.map { 1 << Recognizer.kindIndex($0.kind) }
    prefilterIDs = rules.rules.map(\.prefilterID)
    anchored = rules.rules.map(\.anchoredAtStart)
    finals = rules.rules.map(\.isFinal)
    matchers = rules.rules.map { $0.pattern.map(Matcher.init) }
    literalState = [UInt8](repeating: 0, count: rules.prefilters.count)
  }

  /// Diagnostics kept per input (a file of a million pathological lines is not a million messages).
  public var maxDiagnostics = 1_000
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

  /// Appends the facts found in `event` to `facts`.
  public func recognize(_ event: RawEvent, inputName: String, into facts: inout [Fact]) {
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
    for id in touched { literalState[id] = 0 }
    touched.removeAll(keepingCapacity: true)
    scratch.removeAll(keepingCapacity: true)
    var kindsSeen: UInt8 = 0

    for index in 0..<scopes.count {
      switch scopes[index] {
      case .execution: if !isExecution { continue }
      case .other: if isExecution { continue }
      case .any: break
      }
      let kindBit = kindBits[index]
      if kindsSeen & kindBit != 0 { continue }  // one fact of each kind per event: first rule wins
      if !prefilterPasses(index, m, bodyStart: bodyStart) { continue }
      let rule = rules.rules[index]

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
            severity: .error, message: "rule \"\(rule.definition.name)\": \(error.message); line not recognized by it"))
          continue
        }
        for (group, field) in rule.groups {
          if let bytes = matcher.bytes(group) { fields.set(field, raw: String(bytes: bytes)) }
        }
      }
      if !rule.keys.isEmpty {
        var found = false
        for (field, keys) in rule.keys {
          for key in keys {
            KeyValueExtractor.forEachValue(of: key, in: m) { raw in fields.set(field, raw: raw) }
            if fields.has(field) {
              found = true
              break
            }
          }
        }
        if !found, rule.pattern == nil { continue }
      }
      for (field, value) in rule.constants { fields.set(field, raw: value) }
      kindsSeen |= kindBit
      scratch.append(Fact(kind: rule.kind, rule: rule.definition.name, time: event.timestamp, origin: event.origin,
        group: event.group, stream: event.stream, fields: fields, text: ""))
      if finals[index] { break }
    }
    guard !scratch.isEmpty else { return }
    finish(event: event, apigwPrefix: apigwPrefix, into: &facts)
  }

  /// Applies the event's context to its facts and keeps the ones worth keeping.
  private func finish(event: RawEvent, apigwPrefix: Range<Int>?, into facts: inout [Fact]) {
    let m = event.message
    // The invocation a Lambda line belongs to, from its runtime prefix or platform record.
    var lambdaId: String?
    for f in scratch where f.kind == .invocation || f.kind == .invocationStart || f.kind == .invocationEnd {
      lambdaId = lambdaId ?? f.fields.lambdaRequestId
    }
    let apigwId = apigwPrefix.map { String(bytes: UnsafeRawBufferPointer(rebasing: m[$0])) }
    let hasRequest = scratch.contains { $0.kind == .request }
    // A line that records a 410 and names a connection (`Error sending to connection X: GoneException…`):
    // the connection is that call's target.
    if let i = scratch.firstIndex(where: { $0.kind == .gone && $0.fields.connectionId == nil }) {
      if let target = scratch.first(where: { $0.kind == .target })?.fields.connectionId {
        scratch[i].fields.connectionId = target
      } else if apigwPrefix == nil, (try? idMatcher.firstMatch(in: m)) == true, let r = idMatcher.range(0) {
        // `typing indicator to 652SpgmRsfMCWOQ= failed GoneException…`: a line recording a 410 that
        // names one id of the connection shape names its target. (Execution-log lines are skipped:
        // their ids are API Gateway request ids.)
        scratch[i].fields.connectionId = String(bytes: UnsafeRawBufferPointer(rebasing: m[r]))
      }
    }
    var text: String?
    for var fact in scratch {
      if fact.kind == .invocation, !keepsContextFacts { continue }  // context only
      if fact.kind == .gone, let id = event.eventId { fact.eventId = String(bytes: id) }
      if fact.fields.lambdaRequestId == nil { fact.fields.lambdaRequestId = lambdaId }
      if fact.fields.apigwRequestId == nil, let apigwId { fact.fields.set(.apigwRequestId, raw: apigwId) }
      if fact.kind == .request, apigwId == nil, lambdaId != nil, fact.fields.eventType == nil,
        fact.fields.routeKey == nil
      {
        // A Lambda line naming a connection without saying it is an API Gateway event (an app's
        // structured log `{"msg":"post failed","connectionId":…}`): a target, not a lifecycle event.
        guard fact.fields.connectionId != nil else { continue }
        fact.kind = .target
      } else if fact.kind == .target, hasRequest {
        continue  // the connection a printed event names is the sender's, not a target
      }
      if fact.kind != .invocationStart && fact.kind != .invocationEnd {
        if text == nil {
          let cut = UnsafeRawBufferPointer(rebasing: m[0..<min(m.count, maxEvidenceBytes)])
          text = String(bytes: cut) + (m.count > maxEvidenceBytes ? " …" : "")
        }
        fact.text = text!
      }
      facts.append(fact)
    }
  }

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

  @inline(__always)
  private func prefilterPasses(_ index: Int, _ m: UnsafeRawBufferPointer, bodyStart: Int) -> Bool {
    let id = prefilterIDs[index]
    if anchored[index] {
      return rules.prefilters[id].withUnsafeBytes {
        Bytes.hasPrefix(m, $0, at: bodyStart) || (bodyStart > 0 && Bytes.hasPrefix(m, $0))
      }
    }
    switch literalState[id] {
    case 1: return false
    case 2: return true
    default:
      let present = rules.prefilters[id].withUnsafeBytes { Bytes.contains(m, $0) }
      literalState[id] = present ? 2 : 1
      touched.append(id)
      return present
    }
  }
}
