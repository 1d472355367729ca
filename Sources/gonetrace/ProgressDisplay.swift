import Dispatch
import FoundationEssentials
import GoneTrace

#if canImport(Glibc)
import Glibc
#endif

/// The progress line on standard error for long runs at a terminal: bytes, a bar, events per
/// second and the time left. It appears only after a second, so short runs print nothing.
final class ProgressDisplay: @unchecked Sendable {
  let meter: ProgressMeter
  private let started = ContinuousClock.now
  /// Signalled by `stop`: wakes the drawing loop at once.
  private let wake = DispatchSemaphore(value: 0)
  /// Signalled by the loop as it ends.
  private let ended = DispatchSemaphore(value: 0)
  nonisolated(unsafe) private static var drawn = false
  private static let lock = DispatchSemaphore(value: 1)

  /// Starts a display when stderr is a terminal and the input is large (or standard input).
  static func start(paths: [String], enabled: Bool) -> ProgressDisplay? {
    guard enabled else { return nil }
    let total = totalBytes(paths)
    if let total, total < 16 << 20 { return nil }
    let display = ProgressDisplay(meter: ProgressMeter(totalBytes: total))
    DispatchQueue.global().async { display.loop() }
    return display
  }

  private init(meter: ProgressMeter) { self.meter = meter }

  private static func totalBytes(_ paths: [String]) -> Int? {
    if paths.isEmpty || paths.contains("-") { return nil }
    func size(_ path: String) -> Int {
      var s = stat()
      guard stat(path, &s) == 0, s.st_mode & S_IFMT == S_IFREG else { return 0 }
      return Int(s.st_size)
    }
    var total = 0
    for path in paths {
      total += size(path)
      for sub in (try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? [] { total += size(path + "/" + sub) }
    }
    return total
  }

  private func loop() {
    while wake.wait(timeout: .now() + 0.25) == .timedOut {
      if ContinuousClock.now - started >= .seconds(1) { draw() }
    }
    ended.signal()
  }

  private func draw() {
    let elapsed = (ContinuousClock.now - started) / .seconds(1)
    let bytes = meter.bytes
    var line = "\r\u{1B}[K" + Self.size(bytes)
    if let total = meter.totalBytes, total > 0 {
      let fraction = min(1, Double(bytes) / Double(total))
      let width = 24, filled = Int(fraction * Double(width))
      line += " / \(Self.size(total)) [" + String(repeating: "#", count: filled)
        + String(repeating: ".", count: width - filled) + "] \(Int(fraction * 100))%"
      if bytes > 0 {
        let left = elapsed * Double(total - bytes) / Double(bytes)
        line += "  ETA \(Int(left) / 60):" + (Int(left) % 60 < 10 ? "0" : "") + "\(Int(left) % 60)"
      }
    }
    line += "  \(Self.rate(Double(meter.events) / elapsed)) events/s"
    Self.lock.wait()
    _ = line.withCString { write(2, $0, strlen($0)) }
    Self.drawn = true
    Self.lock.signal()
  }

  func stop() {
    wake.signal()
    ended.wait()
    Self.clearLine()
  }

  /// Erases the progress line before anything else is written to standard error.
  static func clearLine() {
    lock.wait()
    defer { lock.signal() }
    guard drawn else { return }
    _ = "\r\u{1B}[K".withCString { write(2, $0, strlen($0)) }
    drawn = false
  }

  static func size(_ bytes: Int) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var value = Double(bytes), unit = 0
    while value >= 1000, unit < units.count - 1 {
      value /= 1000
      unit += 1
    }
    return unit == 0 ? "\(bytes) B" : fixed(value, digits: 1) + " " + units[unit]
  }

  static func rate(_ r: Double) -> String {
    r >= 1e6 ? fixed(r / 1e6, digits: 2) + "M" : r >= 1e3 ? fixed(r / 1e3, digits: 1) + "k" : String(Int(r))
  }

  /// `value` rounded to `digits` decimals (what `String(format: "%.Nf")` printed).
  static func fixed(_ value: Double, digits: Int) -> String {
    var scale = 1
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int((value * Double(scale)).rounded())
    let fraction = String(scaled % scale)
    return "\(scaled / scale)." + String(repeating: "0", count: digits - fraction.count) + fraction
  }
}
