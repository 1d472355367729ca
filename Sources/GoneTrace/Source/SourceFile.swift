#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular, uncompressed input file held open after it is read, so that the evidence lines
/// of its events are read back from it when a report shows them, instead of being copied out
/// while it is read (to the `TextStore` file, or into a String for a message's line). Over the
/// 1 GB raw-lines corpus that copy was 150 MB written to `$TMPDIR` (memory, where it is a
/// tmpfs) and a String made and freed for every message line.
///
/// Bytes are read with `pread` on a descriptor of the very file that was read (not its path
/// opened again), so a file renamed by log rotation meanwhile still answers. A file cut short
/// meanwhile (`copytruncate`) answers with a line that says so: never with other bytes silently.
public final class SourceFile: Sendable {
  let fd: Int32
  let name: String

  /// Inputs held open at once, at most: past it, inputs keep their lines as before. (Every
  /// input's file stays open until its evidence is gone; a directory of thousands of files must
  /// not take the descriptors other inputs still need to be opened.)
  static let maxOpen = 256
  private static let counter = OpenCounter()

  private init(fd: Int32, name: String) {
    self.fd = fd
    self.name = name
  }

  /// A second descriptor of `fd` when it is a regular file (and fewer than `maxOpen` are held).
  static func duplicating(_ fd: Int32, name: String) -> SourceFile? {
    var info = stat()
    guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, counter.take(below: maxOpen) else { return nil }
    let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
    guard copy >= 0 else {
      counter.give()
      return nil
    }
    return SourceFile(fd: copy, name: name)
  }

  deinit {
    close(fd)
    SourceFile.counter.give()
  }

  /// Calls `body` with the `count` bytes at `offset`, followed by `suffix`.
  func withBytes<T>(at offset: Int64, count: Int, suffix: StaticString?, _ body: (UnsafeRawBufferPointer) -> T) -> T {
    let extra = suffix?.utf8CodeUnitCount ?? 0
    return withUnsafeTemporaryAllocation(byteCount: count + extra, alignment: 16) { out in
      guard preadFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: out[0..<count]), at: offset) == count else {
        let note = Array("[gonetrace: this line can no longer be read: \(name) was cut short after it was read]".utf8)
        return note.withUnsafeBytes(body)
      }
      if let suffix {
        UnsafeMutableRawBufferPointer(rebasing: out[count...]).copyMemory(
          from: UnsafeRawBufferPointer(start: suffix.utf8Start, count: extra))
      }
      return body(UnsafeRawBufferPointer(out))
    }
  }

  private final class OpenCounter: @unchecked Sendable {
    private var value = 0
    private let lock = Lock()

    func take(below limit: Int) -> Bool {
      lock.withLock {
        guard value < limit else { return false }
        value += 1
        return true
      }
    }

    func give() { lock.withLock { value -= 1 } }
  }
}
