/// A problem with the input that did not stop the run: a line that could not be decoded, a
/// truncated gzip, a cap that bit. Each one names the input and, where it can, the line or record,
/// and is counted in that input's `unparsed` figure. Nothing is skipped without one.
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
  public enum Severity: String, Sendable, Comparable {
    case warning, error
    public static func < (a: Severity, b: Severity) -> Bool { a == .warning && b == .error }
  }

  public var input: String
  public var line: Int?
  public var record: Int?
  public var severity: Severity
  public var message: String

  public init(input: String, line: Int? = nil, record: Int? = nil, severity: Severity, message: String) {
    self.input = input
    self.line = line
    self.record = record
    self.severity = severity
    self.message = message
  }

  /// Compiler style, `input:line: warning: message`, so editors and `grep` can jump to it.
  public var description: String {
    var location = input
    if let line { location += ":\(line)" } else if let record { location += ":record \(record)" }
    return "\(location): \(severity.rawValue): \(message)"
  }
}
