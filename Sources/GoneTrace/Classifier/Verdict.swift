/// The four causes AWS names for a 410 on the @connections API, plus "unknown".
public enum Cause: String, Sendable, CaseIterable, Comparable {
  case preConnectPost = "pre-connect-post"
  case terminatedConnection = "terminated-connection"
  case reconnectWithOldId = "reconnect-with-old-id"
  case unknown

  public static func < (a: Cause, b: Cause) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }

  /// What to do about it, from AWS's guidance (knowledge center "410 GoneException", WebSocket quotas).
  public var advice: String {
    switch self {
    case .preConnectPost:
      return "Do not post from the $connect handler: the connection exists only once $connect returns. "
        + "Post from an async follow-up (or the first message), or call GetConnection first."
    case .terminatedConnection:
      return "Delete connection ids on $disconnect and on every 410. $disconnect is best effort, so "
        + "treat a 410 as the end of the connection; send keep-alives more often than every 10 minutes, "
        + "and reconnect before the 2-hour maximum."
    case .reconnectWithOldId:
      return "Key the connection store by client (user or session), so a reconnect replaces the old "
        + "connectionId instead of adding to it."
    case .unknown:
      return "Give gonetrace the API Gateway access and execution logs for the same period, and log the "
        + "target connectionId next to @connections errors (or add a --rules pattern for your app's line)."
    }
  }
}

public enum Detail: String, Sendable, CaseIterable, Comparable {
  case postedFromConnectHandler = "posted-from-connect-handler"
  case postedBeforeConnectCompleted = "posted-before-connect-completed"
  case connectRejected = "connect-rejected"
  case clientClosed = "client-closed"
  case idleTimeout = "idle-timeout"
  case maxDuration = "max-duration"
  case deletedByBackend = "deleted-by-backend"
  case messageTooBig = "message-too-big"
  case unloggedDisconnect = "unlogged-disconnect"
  case newerConnection = "newer-connection"
  case neverSeen = "never-seen"
  case noTargetId = "no-target-id"

  public static func < (a: Detail, b: Detail) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }

  public var cause: Cause {
    switch self {
    case .postedFromConnectHandler, .postedBeforeConnectCompleted, .connectRejected: .preConnectPost
    case .clientClosed, .idleTimeout, .maxDuration, .deletedByBackend, .messageTooBig, .unloggedDisconnect:
      .terminatedConnection
    case .newerConnection: .reconnectWithOldId
    case .neverSeen, .noTargetId: .unknown
    }
  }
}

public enum Confidence: String, Sendable, Comparable {
  case low, medium, high
  public static func < (a: Confidence, b: Confidence) -> Bool {
    let order: [Confidence] = [.low, .medium, .high]
    return order.firstIndex(of: a)! < order.firstIndex(of: b)!
  }
}

/// What the logs say about the target connection, as the verdict reports it.
public struct ConnectionSummary: Sendable, Equatable {
  public var connectRequestedAt: EpochMillis?
  public var connectedAt: EpochMillis?
  public var disconnectedAt: EpochMillis?
  public var disconnectStatusCode: Int?
  public var disconnectReason: String?
  public var client: ClientIdentity
}

/// The classification of one 410: exactly one per failed call.
public struct Verdict: Sendable {
  public var time: EpochMillis
  public var operation: String?
  public var connectionId: String?
  public var lambdaRequestId: String?
  public var sdkRequestId: String?
  public var detail: Detail
  public var cause: Cause { detail.cause }
  public var confidence: Confidence
  public var newConnectionId: String?
  public var connection: ConnectionSummary?
  public var explanation: String
  public var evidence: [Evidence]
  /// The earliest line that records the failed call itself.
  public var recordedBy: Evidence?
}
