import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Writes a file so that readers see either the old content or the new, never half of it: the
/// bytes go to a temporary file in the same directory, are flushed, and renamed over the target
/// (rename(2) is atomic within a file system). node_exporter's textfile collector asks for this.
public enum AtomicFile {
  public struct WriteError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): cannot write: \(reason)" }
  }

  /// Writes in pieces (a streamed report): nothing appears at `path` until `commit`, and a
  /// writer dropped without it leaves no temporary file behind.
  public final class Writer {
    let path: String
    private let temporary: String
    private var fd: Int32
    private var failure: String?

    public init(path: String) throws(WriteError) {
      self.path = path
      let directory = PathName.directory(of: path)
      temporary = (directory.isEmpty ? "." : directory) + "/." + PathName.lastComponent(of: path)
        + ".tmp-\(getpid())"
      fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
      guard fd >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
    }

    deinit {
      if fd >= 0 {
        close(fd)
        unlink(temporary)
      }
    }

    public func write(_ s: String) {
      var s = s
      s.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) {
      guard failure == nil, fd >= 0 else { return }
      var offset = 0
      while offset < bytes.count {
        let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          failure = String(cString: strerror(errno))
          return
        }
        offset += n
      }
    }

    /// Flushes and renames over `path`; the first write error, if any, is thrown here.
    public func commit() throws(WriteError) {
      if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
      close(fd)
      fd = -1
      if failure == nil, rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
      if let failure {
        unlink(temporary)
        throw WriteError(path: path, reason: failure)
      }
    }
  }
}
