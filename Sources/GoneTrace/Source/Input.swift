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

  /// The input (path) the error is about.
  public var input: String {
    switch self {
    case .notFound(let path), .notReadable(let path, _): return path
    case .readFailed(let input, _), .unknownEnvelope(let input): return input
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
  /// Throws the first path that cannot be read at all.
  public static func resolve(_ paths: [String], diagnostics: inout [Diagnostic]) throws(InputError) -> [Input] {
    var errors: [InputError] = []
    let inputs = resolve(paths, diagnostics: &diagnostics, errors: &errors)
    if let first = errors.first { throw first }
    return inputs
  }

  /// Every path that can be read, and an error for each one that cannot: one missing path on a
  /// command line does not stop the others from being analysed.
  public static func resolve(
    _ paths: [String], diagnostics: inout [Diagnostic], errors: inout [InputError]
  ) -> [Input] {
    if paths.isEmpty { return [.standardInput] }
    var inputs: [Input] = []
    var files: [FileIdentity: String] = [:]
    var visited = Set<FileIdentity>()  // across paths: a directory given twice is read once
    for path in paths {
      if path == "-" {
        inputs.append(.standardInput)
        continue
      }
      var info = stat()
      guard stat(path, &info) == 0 else {
        let reason = String(cString: strerror(errno))
        errors.append(errno == ENOENT ? .notFound(path: path) : .notReadable(path: path, reason: reason))
        continue
      }
      if (info.st_mode & S_IFMT) == S_IFDIR {
        walk(directory: path, visited: &visited, files: &files, into: &inputs, diagnostics: &diagnostics)
      } else if once(path, info, &files, &diagnostics) {
        inputs.append(Input(name: path, path: path, streamFromPath: exportStream(of: path)))
      }
    }
    return inputs
  }

  /// A file reached twice (given twice, a directory and a file in it, a symbolic link to it) is
  /// read once, with a warning naming both. Copies of a file are not caught here: the correlator
  /// counts each 410 line once whatever input it came from.
  private static func once(
    _ path: String, _ info: stat, _ files: inout [FileIdentity: String], _ diagnostics: inout [Diagnostic]
  ) -> Bool {
    let id = FileIdentity(info)
    if let first = files[id] {
      diagnostics.append(Diagnostic(input: path, severity: .warning,
        message: "same file as \(first); read once"))
      return false
    }
    files[id] = path
    return true
  }

  private static func walk(
    directory: String, visited: inout Set<FileIdentity>, files: inout [FileIdentity: String],
    into inputs: inout [Input], diagnostics: inout [Diagnostic]
  ) {
    var info = stat()
    guard stat(directory, &info) == 0 else { return }
    // A symlink loop would revisit a directory: identity by (device, inode) stops it.
    let identity = FileIdentity(info)
    guard visited.insert(identity).inserted else {
      diagnostics.append(Diagnostic(input: directory, severity: .warning,
        message: "directory already read (given twice, inside another one given, or a symbolic link loop); not read again"))
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
        walk(directory: child, visited: &visited, files: &files, into: &inputs, diagnostics: &diagnostics)
      case S_IFREG:
        if once(child, childInfo, &files, &diagnostics) {
          inputs.append(Input(name: child, path: child, streamFromPath: exportStream(of: child)))
        }
      default:
        // Sockets, fifos, devices: not log files, and opening a fifo would block. Named, not read.
        diagnostics.append(Diagnostic(input: child, severity: .warning,
          message: "not a regular file or directory (fifo, socket or device); not read"))
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
