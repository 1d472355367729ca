#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The library imports FoundationEssentials, not Foundation: Foundation brings ICU and its
// data, 7 MB of resident memory in every run (measured: a program printing one line peaks at
// 11.5 MB with FoundationEssentials, 18.3 MB with Foundation). What Foundation gave beyond
// Essentials is written here, small.

/// A mutual-exclusion lock (what `NSLock` was): a pthread mutex, allocated so it never moves.
final class Lock: @unchecked Sendable {
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

  init() { pthread_mutex_init(mutex, nil) }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  func lock() { pthread_mutex_lock(mutex) }
  func unlock() { pthread_mutex_unlock(mutex) }

  func withLock<T>(_ body: () throws -> T) rethrows -> T {
    lock()
    defer { unlock() }
    return try body()
  }
}

extension StringProtocol {
  /// The text with every `target` (an ASCII character) replaced by `replacement`. By bytes, as
  /// Foundation's `replacingOccurrences` matched: the `\r` of a `\r\n` is replaced too, though
  /// Swift sees the pair as one `Character`.
  func replacingAll(_ target: Unicode.Scalar, with replacement: String) -> String {
    precondition(target.isASCII)
    let byte = UInt8(target.value)
    guard utf8.contains(byte) else { return String(self) }
    var out = [UInt8]()
    out.reserveCapacity(utf8.count + 16)
    for b in utf8 {
      if b == byte { out += replacement.utf8 } else { out.append(b) }
    }
    return String(decoding: out, as: UTF8.self)
  }
}

/// Path parts (what `NSString`'s path methods gave).
enum PathName {
  /// Everything before the last `/` (empty for a bare name).
  static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    return slash == path.startIndex ? "/" : String(path[..<slash])
  }

  static func lastComponent(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
  }

  /// The extension of the last component, without its dot (empty when there is none).
  static func pathExtension(of path: String) -> String {
    let name = lastComponent(of: path)
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
    return String(name[name.index(after: dot)...])
  }
}

/// `pread` until `buffer` is full, the file ends or a read fails (retried when interrupted):
/// the number of bytes read.
func preadFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int {
  var done = 0
  while done < buffer.count {
    let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
    if n < 0 && errno == EINTR { continue }
    if n <= 0 { break }
    done += n
  }
  return done
}
