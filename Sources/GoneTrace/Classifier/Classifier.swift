import Dispatch
import FoundationEssentials

/// Decides the cause of each 410. Pure: a call and the correlated timelines in, a verdict out.
/// Each rule below is a small function that encodes one piece of AWS's documented behaviour.
public struct Classifier: Sendable {
  /// API Gateway closes a connection after 10 minutes without a message in either direction.
  public static let idleTimeout: EpochMillis = 10 * 60_000
  /// And after 2 hours whatever happens (WebSocket quotas, "Connection duration").
  public static let maxDuration: EpochMillis = 2 * 3600_000

  public var skew: EpochMillis

  public init(skew: EpochMillis = 2_000) { self.skew = skew }

  public func classify(_ correlation: Correlation) -> [Verdict] {
    correlation.calls.map { classify($0, in: correlation) }
  }

  /// The same, letting go of each call's lines once it is classified (a day of logs holds tens
  /// of thousands): `correlation.calls` is empty afterwards. Calls are classified on `threads`
  /// threads, each taking a contiguous share (classification is pure: the verdicts, in call
  /// order, do not depend on it).
  public func classify(draining correlation: inout Correlation, threads: Int = 1) -> [Verdict] {
    classify(draining: &correlation, threads: threads, minimumShare: 1024)
  }

  /// `minimumShare`: fewer calls than this per thread are not worth a thread (tests force 1).
  func classify(draining correlation: inout Correlation, threads: Int, minimumShare: Int) -> [Verdict] {
    var calls: [GoneCall] = []
    swap(&calls, &correlation.calls)
    let c = correlation
    let count = calls.count
    let shares = max(1, min(threads, count / max(1, minimumShare)))
    return calls.withUnsafeMutableBufferPointer { calls in
      // Each thread reads and empties only the calls of its share, and writes only their verdicts.
      nonisolated(unsafe) let calls = calls
      return [Verdict](unsafeUninitializedCapacity: count) { verdicts, initialized in
        nonisolated(unsafe) let verdicts = verdicts
        DispatchQueue.concurrentPerform(iterations: shares) { t in
          for i in (count * t / shares)..<(count * (t + 1) / shares) {
            (verdicts.baseAddress! + i).initialize(to: classify(calls[i], in: c))
            calls[i].facts = []
          }
        }
        initialized = count
      }
    }
  }

  public func classify(_ call: GoneCall, in c: Correlation) -> Verdict {
    let op = call.operation ?? "A call"  // at the start of a sentence
    let opMid = call.operation ?? "the call"
    var evidence = call.facts.map { Evidence($0) }
    if let e = call.targetEvidence { evidence.append(e) }
    func verdict(
      _ detail: Detail, _ confidence: Confidence, _ explanation: String, timeline: ConnectionTimeline? = nil,
      more: [Evidence] = [], newConnection: String? = nil
    ) -> Verdict {
      var all = evidence + more
      all.sort()
      var unique: [Evidence] = []
      for e in all where !unique.contains(e) { unique.append(e) }
      return Verdict(time: call.time, operation: call.operation, connectionId: call.target,
        lambdaRequestId: call.lambdaRequestId, sdkRequestId: call.sdkRequestId, detail: detail,
        confidence: confidence, newConnectionId: newConnection, connection: timeline.map(summary), explanation: explanation,
        evidence: unique, recordedBy: call.facts.first.map { Evidence($0) })
    }

    guard let target = call.target else {
      return verdict(.noTargetId, .high,
        "No log line of this invocation names the connection \(call.operation ?? "the call") was aimed at; log the "
          + "connectionId with the error.")
    }
    // A guess from the triggering request is weaker than a line naming the target.
    let targetDoubt = call.targetSource == .invocationTrigger

    // Posted from inside the `$connect` invocation of that very connection.
    if let lambda = call.lambdaRequestId, let trigger = c.triggerOf[lambda], trigger.connectionId == target {
      let link = c.linkEvidence[lambda].map { [$0] } ?? []
      return verdict(.postedFromConnectHandler, .high,
        "\(op) to \(target) ran inside its own $connect invocation, before API Gateway had established "
          + "the connection; post after $connect returns.",
        timeline: c.timelines[target], more: trigger.evidence + link)
    }
    guard let t = c.timelines[target] else {
      return verdict(.neverSeen, targetDoubt ? .low : .medium,
        "No log line shows \(target) connecting, sending or disconnecting; include the API Gateway logs of that "
          + "period, or the id never existed.")
    }
    let time = call.time
    let connectEvidence = t.connects.flatMap(\.evidence)

    if t.connectSucceeded == false {
      let status = t.connectFailureStatus.map { " (status \($0))" } ?? ""
      return verdict(.connectRejected, targetDoubt ? .medium : .high,
        "\(target) never connected: its $connect failed\(status), yet the id was kept and posted to; store ids "
          + "only after $connect succeeds.",
        timeline: t, more: connectEvidence)
    }
    if let requested = t.connectRequestedAt {
      let completed = t.connectCompletedAt
      if time + skew < requested {
        return verdict(.postedBeforeConnectCompleted, .low,
          "\(op) to \(target) came \(seconds(requested - time)) before its $connect was even requested.",
          timeline: t, more: connectEvidence)
      }
      // Between the connect request and its completion the connection does not exist yet. Within
      // the skew of the completion the order of the two clocks is uncertain: medium confidence.
      if let completed, time < completed {
        let sure = completed - time > skew && !targetDoubt
        return verdict(.postedBeforeConnectCompleted, sure ? .high : .medium,
          "\(op) to \(target) came \(seconds(time - requested)) after its $connect request and before the connect "
            + "completed; wait for $connect to return before posting.",
          timeline: t, more: connectEvidence)
      }
    }

    // The same client already holds a newer connection.
    if let reconnect = newerConnection(of: t, before: time, in: c) {
      let n = c.timelines[reconnect]!
      let who = c.clientKey.key(t.client).map(describe) ?? "the same client"
      return verdict(.newerConnection, targetDoubt ? .low : (t.client.principalId != nil ? .high : .medium),
        "\(who) reconnected as \(reconnect) \(seconds(time - (n.connectCompletedAt ?? n.connectRequestedAt ?? time))) before \(opMid) "
          + "to the old id \(target); key the connection store by client so the new id replaces the old.",
        timeline: t, more: n.connects.flatMap(\.evidence) + (t.disconnect?.evidence ?? []),
        newConnection: reconnect)
    }

    let lastActivity = t.lastActivityAt
    let lastEvidence = t.lastActivityEvidence
    if let d = t.disconnect {
      let closedAt = d.time
      let confidence: Confidence = closedAt <= time + skew ? (targetDoubt ? .medium : .high) : .low
      let when = closedAt <= time + skew
        ? "\(seconds(time - closedAt)) before \(opMid)"
        : "only \(seconds(closedAt - time)) after \(opMid) (clock skew?)"
      let code = d.disconnectStatusCode
      let reason = d.disconnectReason ?? ""
      let lifetime = t.openedAt.map { closedAt - $0 }
      let idle = lastActivity.map { closedAt - $0 }
      let closeText = code.map { " with code \($0)" + (reason.isEmpty ? "" : " \"\(reason)\"") } ?? ""
      let more = d.evidence + lastEvidence
      if code == 1009 {
        return verdict(.messageTooBig, confidence,
          "\(target) was closed\(closeText) (a frame over the 32 KB limit) \(when); split large messages.",
          timeline: t, more: more)
      }
      if code == 1000, reason == "Connection Closed Normally" {
        return verdict(.deletedByBackend, confidence,
          "The backend deleted \(target) (DeleteConnection closes\(closeText)) \(when); drop the id from the "
            + "store when deleting it.", timeline: t, more: more)
      }
      if let lifetime, lifetime >= Classifier.maxDuration - skew - 60_000 {
        return verdict(.maxDuration, confidence,
          "\(target) reached API Gateway's 2-hour maximum (open \(minutes(lifetime))) and was closed \(when); "
            + "reconnect clients before 2 hours.", timeline: t, more: more)
      }
      if reason == "Going away" || (code == nil && (idle ?? 0) >= Classifier.idleTimeout - skew) {
        let idleText = idle.map { " after \(minutes($0)) without a message" } ?? ""
        return verdict(.idleTimeout, (idle ?? 0) >= Classifier.idleTimeout - skew ? confidence : min(confidence, .medium),
          "\(target) was closed by the 10-minute idle timeout\(idleText)\(closeText), \(when); send keep-alives "
            + "more often than every 10 minutes.", timeline: t, more: more)
      }
      return verdict(.clientClosed, code == nil ? min(confidence, .medium) : confidence,
        "The client closed \(target)\(closeText) \(when); delete ids on $disconnect and on every 410.",
        timeline: t, more: more)
    }

    // No `$disconnect` logged (it is best effort): infer from the limits.
    let more = connectEvidence + lastEvidence
    if let opened = t.openedAt, time - opened >= Classifier.maxDuration - skew {
      return verdict(.unloggedDisconnect, targetDoubt ? .low : .medium,
        "\(target) had been open \(minutes(time - opened)), past the 2-hour maximum, and no $disconnect was "
          + "logged; reconnect before 2 hours and treat a 410 as the end of the connection.", timeline: t, more: more)
    }
    if let last = lastActivity, time - last >= Classifier.idleTimeout - skew {
      return verdict(.unloggedDisconnect, targetDoubt ? .low : .medium,
        "\(target) had no message for \(minutes(time - last)) (idle timeout is 10 minutes) and no $disconnect was "
          + "logged; send keep-alives and delete ids on every 410.", timeline: t, more: more)
    }
    return verdict(.unloggedDisconnect, .low,
      "\(target) was gone though no $disconnect was logged and no limit explains it; delete ids on every 410.",
      timeline: t, more: more)
  }

  /// A connection of the same client opened after `old` ended, established by the time of the
  /// call and not closed before it. One still connecting does not count (as for the target
  /// itself, a connection exists once its `$connect` completed): the old id was gone because the
  /// client closed it, and the new one could not have been posted to either.
  func newerConnection(of old: ConnectionTimeline, before time: EpochMillis, in c: Correlation) -> String? {
    guard let key = c.clientKey.key(old.client), let ids = c.connectionsByClient[key],
      let oldStart = old.connectRequestedAt
    else { return nil }
    let oldEnd = old.disconnect?.time ?? oldStart
    // Only connections requested after the old one, and requested or completed by the time of
    // the call, can be it: a binary search and a walk back from there, not a pass over all of a
    // client's connections for each call (a day of a chatty client is thousands of them).
    let end = ids.partitioningIndex { $0.earliestFromHere > time + skew }
    for candidate in ids[..<end].reversed() {
      guard candidate.connectRequestedAt > oldStart else { break }
      if isNewer(candidate.id) { return candidate.id }
    }
    return nil

    func isNewer(_ id: String) -> Bool {
      guard id != old.connectionId, let n = c.timelines[id], let start = n.connectRequestedAt,
        n.connectSucceeded != false
      else { return false }
      guard start > oldStart, start >= oldEnd - skew else { return false }
      // Held at the time of the call: one the client closed as well is no id to have used instead.
      if let closed = n.disconnect?.time, closed <= time { return false }
      if let established = n.connectCompletedAt { return established <= time }
      return start <= time + skew
    }
  }

  func summary(_ t: ConnectionTimeline) -> ConnectionSummary {
    ConnectionSummary(connectRequestedAt: t.connectRequestedAt,
      connectedAt: t.connectSucceeded == true ? (t.connectCompletedAt ?? t.openedAt) : nil,
      disconnectedAt: t.disconnect?.time, disconnectStatusCode: t.disconnect?.disconnectStatusCode,
      disconnectReason: t.disconnect?.disconnectReason, client: t.client)
  }

  private func describe(_ key: String) -> String {
    if key.hasPrefix("principal:") { return "Principal \(key.dropFirst(10))" }
    if key.hasPrefix("ip-ua:") { return "The client at \(key.dropFirst(6).split(separator: "|").first ?? "")" }
    return "The client \(key)"
  }
}

func seconds(_ ms: EpochMillis) -> String {
  let s = Double(ms) / 1000
  if s < 10 { return String(format1(s)) + " s" }
  if s < 120 { return "\(Int(s.rounded())) s" }
  return minutes(ms)
}

func minutes(_ ms: EpochMillis) -> String {
  let m = Double(ms) / 60_000
  if m < 120 { return "\(Int(m.rounded())) min" }
  return String(format1(m / 60)) + " h"
}

private func format1(_ v: Double) -> String {
  let tenths = Int((v * 10).rounded())
  return "\(tenths / 10).\(abs(tenths % 10))"
}
