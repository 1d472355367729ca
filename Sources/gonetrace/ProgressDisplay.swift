import Foundation
import GoneTrace

#if canImport(Glibc)
import Glibc
#endif

/// The progress line on standard error for long runs at a terminal: bytes, a bar, events per
/// second and the time left. It appears only after a second, so short runs print nothing.
final class ProgressDisplay: @unchecked Sendable {
  let meter: ProgressMeter
  private let started = Date()
  private let done = NSCondition()
  private var finished = false
  private var thread: Thread?
  nonisolated(unsafe) private static var drawn = false
  private static let lock = NSLock()

  /// Starts a display when stderr is a terminal and the input is large (or standard input).
  static func start(paths: [String], enabled: Bool) -> ProgressDisplay? {
    guard enabled else { return nil }
    let total = totalBytes(paths)
    if let total, total < 16 << 20 { return nil }
    let display = ProgressDisplay(meter: ProgressMeter(totalBytes: total))
    let thread = Thread { display.loop() }
    display.thread = thread
    thread.start()
    return display
  }

  private init(meter: ProgressMeter) { self.meter = meter }

  private static func totalBytes(_ paths: [String]) -> Int? {
    if paths.isEmpty || paths.contains("-") { return nil }
    var total = 0
    for path in paths {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
      if !isDirectory.boolValue {
        total += (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        continue
      }
      let walk = FileManager.default.enumerator(at: URL(fileURLWithPath: path), includingPropertiesForKeys: [.fileSizeKey])
      while let url = walk?.nextObject() as? URL {
        total += (try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
      }
    }
    return total
  }

  private func loop() {
    done.lock()
    while !finished {
      _ = done.wait(until: Date().addingTimeInterval(0.25))
      if !finished, Date().timeIntervalSince(started) >= 1 { draw() }
    }
    done.unlock()
  }

  private func draw() {
    let elapsed = Date().timeIntervalSince(started)
    let bytes = meter.bytes
    var line = "\r\u{1B}[K" + Self.size(bytes)
    if let total = meter.totalBytes, total > 0 {
      let fraction = min(1, Double(bytes) / Double(total))
      let width = 24, filled = Int(fraction * Double(width))
      line += " / \(Self.size(total)) [" + String(repeating: "#", count: filled)
        + String(repeating: ".", count: width - filled) + "] \(Int(fraction * 100))%"
      if bytes > 0 {
        let left = elapsed * Double(total - bytes) / Double(bytes)
        line += "  ETA \(Int(left) / 60):" + String(format: "%02d", Int(left) % 60)
      }
    }
    line += "  \(Self.rate(Double(meter.events) / elapsed)) events/s"
    Self.lock.lock()
    _ = line.withCString { write(2, $0, strlen($0)) }
    Self.drawn = true
    Self.lock.unlock()
  }

  func stop() {
    done.lock()
    finished = true
    done.signal()
    done.unlock()
    while thread?.isFinished == false { usleep(1000) }
    Self.clearLine()
  }

  /// Erases the progress line before anything else is written to standard error.
  static func clearLine() {
    lock.lock()
    defer { lock.unlock() }
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
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
  }

  static func rate(_ r: Double) -> String {
    r >= 1e6 ? String(format: "%.2fM", r / 1e6) : r >= 1e3 ? String(format: "%.1fk", r / 1e3) : String(Int(r))
  }
}
