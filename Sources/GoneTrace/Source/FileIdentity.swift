#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file's identity, (device, inode): the same file reached under two names, a directory met
/// again through a symbolic link loop, or a log rotated to a new name all keep it.
struct FileIdentity: Hashable, Sendable {
  var device: UInt64
  var inode: UInt64

  init(_ info: stat) {
    device = UInt64(info.st_dev)
    inode = UInt64(info.st_ino)
  }

  /// The identity and size of the regular file at `path` (nil for anything else).
  static func ofRegularFile(_ path: String) -> (identity: FileIdentity, size: Int64)? {
    var info = stat()
    guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
    return (FileIdentity(info), Int64(info.st_size))
  }
}
