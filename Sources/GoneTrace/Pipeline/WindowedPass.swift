import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A long run decided window by window, so that memory follows the traffic of a few hours, not
/// the length of the logs.
///
/// Every input is cut at the same times (`TimeSlicing`: slices of 30 minutes of log time) and
/// each slice is read once into its own correlation state. The 410s of each core (6 hours of
/// slices) are then decided by the batch correlator and classifier, unchanged, over the merge of
/// the core's slices and the margins either side (2 h 30 min), and the slices no later window
/// needs are let go of. A window holds what decides the verdicts of its core: `scripts/window-check`
/// measured the whole run's verdicts reproduced exactly by windows of this shape, and the states
/// merge commutatively, so a window's state is the one reading its stretch of the files would
/// give. The cores' verdicts, each sorted as one run sorts them, come out in time order.
///
/// Each connection's finished timeline is written away by the window of its first record
/// (`SettledConnections`), so a post to an id closed hours before is decided as one pass would.
/// What can still differ from one pass (docs/streaming-correlator.md, "Session 24"): a newer
/// connection of the client opened more than a margin before the post, its close never logged;
/// a line placed in an invocation whose START is more than a margin before it.
///
/// Only for inputs that can be cut (regular uncompressed line-shaped files in time order): `run`
/// returns nil for anything else, and the caller reads everything at once. A file found out of
/// time order while reading (an event more than `TimeSlicing.disorderMillis` outside its slice)
/// also returns nil, and the run starts over in one pass. So does a run whose state fits in
/// `TimeSlicing.wholeRunBudget`, as its first hours tell: windows would cost it time and save
/// it no memory it needs.
enum WindowedPass {
  static func run(_ inputs: [Input], options: AnalysisOptions) -> Analyzer.PassResult? {
    guard let slicing = options.slicing, !options.keepsTimelines, !inputs.isEmpty,
      let cut = Cut.make(inputs, slicing: slicing, options: options)
    else { return nil }
    return cut.run(options: options)
  }

  /// Every input cut at the same slice boundaries.
  struct Cut {
    var plans: [ChunkedReader.Plan]
    var slicing: TimeSlicing
    /// The start of slice 0 (the earliest event of any input); slice k starts at
    /// `start + k * sliceMillis`, and the last one runs to the end of the files.
    var start: EpochMillis
    var slices: Int

    static func make(_ inputs: [Input], slicing: TimeSlicing, options: AnalysisOptions) -> Cut? {
      var files: [ChunkedReader.LineFile] = []
      defer { for f in files { close(f.fd) } }
      var first = EpochMillis.max, last = EpochMillis.min
      for input in inputs {
        guard let file = ChunkedReader.LineFile.opening(input, options: options) else { return nil }
        files.append(file)
        let probe = EventProbe(fd: file.fd, size: file.size)
        guard let head = probe.firstEvent(atOrAfter: 0), let tail = probe.lastEventTime() else { return nil }
        first = min(first, head.time)
        last = max(last, tail)
      }
      let slices = Int((last - first) / slicing.sliceMillis) + 1
      guard slicing.pays(slices: slices) else { return nil }
      // Files are cut on the workers (each cut is a binary search of small reads: a 1 GB run
      // waited 0.03 s for them, on one thread, before reading).
      let start = first
      let cuts = [[Int64]](unsafeUninitializedCapacity: files.count) { cuts, initialized in
        nonisolated(unsafe) let cuts = cuts
        let files = files
        @Sendable func cut(_ i: Int) {
          let probe = EventProbe(fd: files[i].fd, size: files[i].size)
          var starts: [Int64] = [0]
          for k in 1..<slices {
            starts.append(max(probe.cut(at: start + EpochMillis(k) * slicing.sliceMillis, from: starts.last!), starts.last!))
          }
          (cuts.baseAddress! + i).initialize(to: starts)
        }
        if options.threads > 1 {
          DispatchQueue.concurrentPerform(iterations: files.count, execute: cut)
        } else {
          files.indices.forEach(cut)
        }
        initialized = files.count
      }
      let plans = files.indices.map { files[$0].plan(input: inputs[$0], index: $0, starts: cuts[$0]) }
      return Cut(plans: plans, slicing: slicing, start: first, slices: slices)
    }

    func sliceStart(_ k: Int) -> EpochMillis { start + EpochMillis(k) * slicing.sliceMillis }

    /// The times an event of slice `k` may have: its own stretch, and the disorder tolerated.
    func bounds(ofSlice k: Int) -> ClosedRange<EpochMillis> {
      (k == 0 ? .min : sliceStart(k) - TimeSlicing.disorderMillis)
        ... (k == slices - 1 ? .max : sliceStart(k + 1) + TimeSlicing.disorderMillis)
    }

    /// Bytes of the files' slices `0..<k` (all of them for `k == slices`).
    func bytes(ofSlices k: Int) -> Int64 {
      plans.reduce(0) { $0 + (k < $1.starts.count ? $1.starts[k] : $1.size) - $1.starts[0] }
    }

    func run(options: AnalysisOptions) -> Analyzer.PassResult? {
      let threads = max(1, options.threads)
      // Made once for the whole run (a recognizer compiles its rules and opens its evidence
      // store), each used by one thread at a time: worker w of every read.
      nonisolated(unsafe) let workers = (0..<threads).map { _ in
        (recognizer: Recognizer(rules: options.rules), buffer: ReadBuffer(byteCount: options.limits.chunkBytes))
      }
      let collector = SliceCollector(plans)
      let cores = (slices + slicing.coreSlices - 1) / slicing.coreSlices
      func extent(_ core: Int) -> (core: Range<Int>, window: Range<Int>) {
        let coreSlices = (core * slicing.coreSlices)..<min(slices, (core + 1) * slicing.coreSlices)
        return (coreSlices, max(0, coreSlices.lowerBound - slicing.marginSlices)
          ..< min(slices, coreSlices.upperBound + slicing.marginSlices))
      }
      // Slices are read on every worker, a window's worth ahead: the next window's new slices
      // while this one is decided (its correlation is mostly one thread, and the other core
      // would wait).
      let reading = DispatchGroup()
      func read(_ range: Range<Int>) {
        let work = range.flatMap { k in plans.indices.map { (file: $0, slice: k) } }
        let next = Counter()
        DispatchQueue.global().async(group: reading) {
          DispatchQueue.concurrentPerform(iterations: min(threads, max(1, work.count))) { w in
            while let j = next.take(below: work.count) {
              let (i, k) = work[j]
              collector.add(i, slice: k, ChunkedReader.read(plans[i], piece: k, recognizer: workers[w].recognizer,
                buffer: workers[w].buffer, options: options, timeBounds: bounds(ofSlice: k)))
            }
          }
        }
      }
      // Windows keep memory flat by deciding a long run a few hours at a time, and that costs
      // time: the margins are correlated twice, every connection's timeline and every verdict
      // is written away and read back (a fifth of a 1 GB run). A run whose whole state fits in
      // the budget is read in one pass instead, as the state of its first hour tells, scaled by
      // bytes. An hour holding less than 2% of the run's bytes says too little: the sample
      // doubles until it holds that much, and a first window that still does not is decided in
      // windows. (One pass reads the sample again, 3% of a 1 GB run; windows keep it.)
      let firstWindowEnd = extent(0).window.upperBound
      let total = bytes(ofSlices: slices)
      var sample = min(firstWindowEnd, max(1, Int(3_600_000 / slicing.sliceMillis)))
      read(0..<sample)
      reading.wait()
      while sample < firstWindowEnd, bytes(ofSlices: sample) * 50 < total {
        let more = min(firstWindowEnd, 2 * sample)
        read(sample..<more)
        reading.wait()
        sample = more
      }
      let sampled = bytes(ofSlices: sample)
      let estimate = Double(collector.estimatedBytes) * Double(total) / Double(max(1, sampled))
      let hours = Double(sample) * Double(slicing.sliceMillis) / 3_600_000
      let about = "the first \(hours) h (\(sampled * 100 / max(1, total))% of the bytes) estimate"
        + " \(Int(estimate) >> 20) MiB of state for the whole run"
      guard estimate > Double(slicing.wholeRunBudget) || sampled * 50 < total else {
        MemoryTrace.mark("windows: \(about), which fits: one pass")
        return nil
      }
      MemoryTrace.mark("windows: \(about): \(cores) windows")
      read(sample..<firstWindowEnd)
      var verdicts = VerdictList.spilling()
      var connectionsSeen = 0
      var duplicates: [DuplicateLine] = []
      var duplicatesSeen = Set<DuplicateLine>()
      var settled = SettledConnections()
      for core in 0..<cores {
        let (coreSlices, window) = extent(core)
        reading.wait()
        if collector.outOfBounds {
          MemoryTrace.mark("windows: an input is out of time order, read in one pass instead")
          return nil
        }
        if core + 1 < cores { read(window.upperBound..<extent(core + 1).window.upperBound) }
        // The window's state; the slices no later window reads are moved in, not copied.
        let nextWindowStart = coreSlices.upperBound - slicing.marginSlices
        var state = CorrelationState()
        for k in window { state.merge(collector.state(ofSlice: k, keep: k >= nextWindowStart)) }
        MemoryTrace.mark("window \(core + 1) of \(cores): read")
        var correlation = (consume state).correlate(options.correlation, threads: options.threads,
          minimumShare: options.minimumShare)
        for d in correlation.duplicateGoneLines where duplicatesSeen.insert(d).inserted { duplicates.append(d) }
        // The core's share: its calls, and the connections first logged, in its stretch of time
        // (the first core from the beginning of time, the last to its end). The margins' calls
        // are decided by the windows whose cores they are in.
        let from = core == 0 ? EpochMillis.min : sliceStart(coreSlices.lowerBound)
        let to = core == cores - 1 ? EpochMillis.max : sliceStart(coreSlices.upperBound)
        correlation.calls.removeAll { $0.time < from || $0.time >= to }
        for t in correlation.timelines.values where t.firstLoggedAt >= from && t.firstLoggedAt < to {
          connectionsSeen += 1
          if core + 1 < cores { settled.add(t) }  // the last window's are read by no later one
        }
        // A call to a connection this window does not show whole (one logged before the window
        // began: a backend posting to an id it kept) is decided on the timeline the window of
        // its first record wrote away, as one pass would decide it.
        let windowStart = window.lowerBound == 0 ? EpochMillis.min : sliceStart(window.lowerBound)
          + TimeSlicing.disorderMillis
        for call in correlation.calls {
          guard let id = call.target, (correlation.timelines[id]?.firstLoggedAt ?? .min) < windowStart,
            let t = settled.timeline(id)
          else { continue }
          correlation.timelines[id] = t
        }
        // Written away as they are decided: kept, they would grow with the logs.
        verdicts.append(contentsOf: Classifier(skew: options.correlation.skew).classify(draining: &correlation,
          threads: options.threads, minimumShare: options.minimumShare))
        let doomed = Doomed(correlation)
        DispatchQueue.global().async { doomed.free() }
        MemoryTrace.mark("window \(core + 1) of \(cores): classified")
      }
      return Analyzer.PassResult(results: collector.finished(), verdicts: verdicts, connectionsSeen: connectionsSeen,
        duplicateGoneLines: duplicates)
    }
  }
}

/// Gathers the pieces the workers read: each file's pieces joined in file order (line numbers
/// shifted as one pass would number them), their states merged into their slice's state.
final class SliceCollector: @unchecked Sendable {
  private var joins: [ChunkedReader.Join]
  private var slices: [Int: CorrelationState] = [:]
  private(set) var outOfBounds = false
  private let lock = Lock()

  init(_ plans: [ChunkedReader.Plan]) {
    joins = plans.map(ChunkedReader.Join.init)
  }

  func add(_ i: Int, slice k: Int, _ piece: ChunkedReader.PieceResult) {
    lock.lock()
    defer { lock.unlock() }
    if piece.outOfBounds { outOfBounds = true }
    joins[i].add(k, piece) { k, pieceState in slices[k, default: CorrelationState()].merge(pieceState) }
  }

  /// `CorrelationState.estimatedBytes` of the slices held.
  var estimatedBytes: Int { lock.withLock { slices.values.reduce(0) { $0 + $1.estimatedBytes } } }

  /// Slice `k`'s state (every piece of it read), kept for later windows or handed over.
  func state(ofSlice k: Int, keep: Bool) -> CorrelationState {
    lock.lock()
    defer { lock.unlock() }
    return (keep ? slices[k] : slices.removeValue(forKey: k)) ?? CorrelationState()
  }

  func finished() -> [Analyzer.InputResult] {
    lock.lock()
    defer { lock.unlock() }
    return joins.map { $0.finished() }
  }
}
