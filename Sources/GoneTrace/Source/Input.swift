#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One input of a run, after directory expansion: a file, or standard input.
public struct Input: Sendable, Hashable {
  /// What reports call it: the path as given (or as found in a directory walk), `-` for stdin.
  public var name: String
  /// Nil for standard input.
  public var path: String?
  /// The log stream, when the path says it: a CloudWatch S3 export stores each stream's chunks in
  /// `<prefix>/<taskId>/<logStream>/000000.gz`, and the chunks carry only `<time> <message>`.
  public var streamFromPath: String?
  /// The bytes of the file to read, when not all of it: an incremental run (`--state`) reads only
  /// what was appended since the last run, up to the last complete line.
  public var byteRange: Range<Int64>?
  /// Lines before `byteRange`, so line numbers stay those of the whole file.
  public var linesBefore = 0
  /// The envelope, when already known (an incremental run resuming mid-file has no head to detect it from).
  public var format: EnvelopeFormat?

  public static let standardInput = Input(name: "-", path: nil, streamFromPath: nil)

  public init(name: String, path: String?, streamFromPath: String? = nil) {
    self.name = name
    self.path = path
    self.streamFromPath = streamFromPath
  }
}

/// Problems with an input as a whole (as opposed to a bad line inside it).
public enum InputError: Error, Equatable, Sendable, CustomStringConvertible {
  case notFound(path: String)
  case notReadable(path: String, reason: String)
  case readFailed(input: String, reason: String)
  case unknownEnvelope(input: String)

  /// The input the error is about.
  public var inputName: String {
    switch self {
    case .notFound(let path), .notReadable(let path, _): path
    case .readFailed(let input, _), .unknownEnvelope(let input): input
    }
  }

  public var description: String {
    switch self {
    case .notFound(let path): return "\(path): no such file or directory"
    case .notReadable(let path, let reason): return "\(path): cannot read: \(reason)"
    case .readFailed(let input, let reason): return "\(input): read failed: \(reason)"
    case .unknownEnvelope(let input):
      return "\(input): not a CloudWatch log in any known shape (raw lines, aws logs "
        + "filter-log-events/get-log-events JSON, aws logs tail, S3 export, subscription payload, "
        + "Logs Insights JSON or CSV); use --input-format to force one"
    }
  }
}

/// Expands the paths of a command line into inputs: `-` is stdin, directories are walked
/// recursively in name order (so runs are reproducible), hidden entries are skipped as ripgrep
/// does, and CloudWatch's `aws-logs-write-test` permission probe is ignored.
public enum InputResolver {
  public static func resolve(_ paths: [String], diagnostics: inout [Diagnostic]) throws(InputError) -> [Input] {
    if paths.isEmpty { return [.standardInput] }
    var inputs: [Input] = []
    for path in paths {
      if path == "-" {
        inputs.append(.standardInput)
        continue
      }
      var info = stat()
      guard stat(path, &info) == 0 else {
        let reason = String(cString: strerror(errno))
        if errno == ENOENT { throw .notFound(path: path) }
        throw .notReadable(path: path, reason: reason)
      }
      if (info.st_mode & S_IFMT) == S_IFDIR {
        var visited = Set<DirectoryIdentity>()
        walk(directory: path, visited: &visited, into: &inputs, diagnostics: &diagnostics)
      } else {
        inputs.append(Input(name: path, path: path, streamFromPath: exportStream(of: path)))
      }
    }
    return inputs
  }

  private struct DirectoryIdentity: Hashable {
    var device: UInt64
    var inode: UInt64
  }

  private static func walk(
    directory: String, visited: inout Set<DirectoryIdentity>, into inputs: inout [Input],
    diagnostics: inout [Diagnostic]
  ) {
    var info = stat()
    guard stat(directory, &info) == 0 else { return }
    // A symlink loop would revisit a directory: identity by (device, inode) stops it.
    let identity = DirectoryIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    guard visited.insert(identity).inserted else {
      diagnostics.append(Diagnostic(input: directory, severity: .warning,
        message: "directory already visited (symbolic link loop?); not read again"))
      return
    }
    guard let dir = opendir(directory) else {
      diagnostics.append(Diagnostic(input: directory, severity: .error,
        message: "cannot open directory: \(String(cString: strerror(errno)))"))
      return
    }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafePointer(to: entry.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
      }
      if name.hasPrefix(".") || name == "aws-logs-write-test" { continue }
      names.append(name)
    }
    closedir(dir)
    for name in names.sorted() {
      let child = directory.hasSuffix("/") ? directory + name : directory + "/" + name
      var childInfo = stat()
      guard stat(child, &childInfo) == 0 else {
        diagnostics.append(Diagnostic(input: child, severity: .error,
          message: "cannot read: \(String(cString: strerror(errno)))"))
        continue
      }
      switch childInfo.st_mode & S_IFMT {
      case S_IFDIR:
        walk(directory: child, visited: &visited, into: &inputs, diagnostics: &diagnostics)
      case S_IFREG:
        inputs.append(Input(name: child, path: child, streamFromPath: exportStream(of: child)))
      default:
        continue  // sockets, fifos, devices: not log files
      }
    }
  }

  /// `…/<logStream>/000000.gz` → `<logStream>`: chunk files of an S3 export are six digits + `.gz`.
  static func exportStream(of path: String) -> String? {
    let parts = path.split(separator: "/", omittingEmptySubsequences: true)
    guard parts.count >= 2, let file = parts.last, file.hasSuffix(".gz") else { return nil }
    let stem = file.dropLast(3)
    guard stem.count == 6, stem.allSatisfy(\.isASCII), stem.allSatisfy(\.isNumber) else { return nil }
    return String(parts[parts.count - 2])
  }
}
