/// When each invocation of a stream ran, for finding the one a line without a Lambda request id
/// belongs to. A raw file names no streams, so its whole input is one stream: a day of a busy
/// function is a few hundred thousand invocations, and a line's lookup is a binary search and a
/// short walk back, not a pass over all of them (which made assembling a day's calls quadratic).
struct InvocationWindows {
  struct Window: Equatable {
    var start: EpochMillis
    /// `EpochMillis.max` when the invocation's END was not read: open to the end of the logs.
    var end: EpochMillis
    var id: CompactID
  }

  private struct Stream {
    /// By start, then id: the last open window found walking back is the latest started.
    var windows: [Window] = []
    /// `reach[i]`: the latest end of `windows[...i]`. Walking back stops where it falls short of
    /// the time asked: no earlier window is still open then.
    var reach: [EpochMillis] = []
  }

  private var streams: [CorrelationState.StreamID: Stream] = [:]

  init(_ windows: [(stream: CorrelationState.StreamID, window: Window)]) {
    var grouped: [CorrelationState.StreamID: [Window]] = [:]
    for (stream, window) in windows { grouped[stream, default: []].append(window) }
    for (stream, var list) in grouped {
      list.sort { ($0.start, $0.id) < ($1.start, $1.id) }
      var reach: [EpochMillis] = []
      reach.reserveCapacity(list.count)
      var latest = EpochMillis.min
      for w in list {
        latest = max(latest, w.end)
        reach.append(latest)
      }
      streams[stream] = Stream(windows: list, reach: reach)
    }
  }

  /// The invocation open at `t` in `stream` (start ≤ t ≤ end) that started last. Where several
  /// are open (a file of several streams merged: AWS never runs two at once in one stream) and
  /// `prefers` accepts some of them, the latest started of those.
  func latestOpen(in stream: CorrelationState.StreamID, at t: EpochMillis, prefers: ((CompactID) -> Bool)? = nil)
    -> CompactID?
  {
    guard let s = streams[stream] else { return nil }
    var latest: CompactID?
    var i = s.windows.partitioningIndex { $0.start > t } - 1
    while i >= 0, s.reach[i] >= t {
      let w = s.windows[i]
      i -= 1
      guard w.end >= t else { continue }
      // Without a preference the latest open one wins; with one, the latest preferred, unless
      // none is (or only one is open at all): then the latest.
      guard let prefers else { return w.id }
      if prefers(w.id) { return w.id }
      if latest == nil { latest = w.id }
    }
    return latest
  }
}
