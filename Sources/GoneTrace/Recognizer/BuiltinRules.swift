import FoundationEssentials

/// The built-in recognition rules: the same format as a user's `--rules FILE` (see README,
/// "Rules"). Order matters: for each kind of fact, the first rule that matches an event wins,
/// so specific renderings come before generic ones. Every `samples` line is verbatim from
/// shared/reference/log-formats.md (section named in `source`), except where `source` says the
/// line is INFERENCE or EMULATOR, and is checked by the tests.
enum BuiltinRules {
  static let json = #"""
  {
    "version": 1,
    "rules": [
      {
        "name": "lambda-start", "fact": "invocation-start", "prefilter": "START RequestId: ", "anchor": "start",
        "scope": "other", "final": true,
        "pattern": "^START RequestId: (?<lambdaRequestId>[0-9a-fA-F-]{36})",
        "samples": ["START RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac Version: $LATEST"],
        "source": "§3.10 VERIFIED-DOC"
      },
      {
        "name": "lambda-end", "fact": "invocation-end", "prefilter": "END RequestId: ", "anchor": "start",
        "scope": "other", "final": true,
        "pattern": "^END RequestId: (?<lambdaRequestId>[0-9a-fA-F-]{36})",
        "samples": ["END RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac"],
        "source": "§3.10 VERIFIED-DOC"
      },
      {
        "name": "lambda-report", "fact": "invocation-end", "prefilter": "REPORT RequestId: ", "anchor": "start",
        "scope": "other", "final": true,
        "pattern": "^REPORT RequestId: (?<lambdaRequestId>[0-9a-fA-F-]{36})",
        "samples": ["REPORT RequestId: 4ce9340a-b765-490f-ad8a-02ab3415e2bf\tDuration: 26.73 ms\tBilled Duration: 27 ms \tMemory Size: 128 MB\tMax Memory Used: 75 MB"],
        "source": "§3.10 VERIFIED-DOC"
      },
      {
        "name": "lambda-json-platform-start", "fact": "invocation-start", "prefilter": "\"type\":\"platform.start\"",
        "scope": "other", "final": true,
        "pattern": "\"requestId\":\"(?<lambdaRequestId>[0-9a-fA-F-]{36})\"",
        "samples": ["{\"time\":\"2024-06-17T17:23:55.902Z\",\"type\":\"platform.start\",\"record\":{\"requestId\":\"ca52c236-a38d-40fc-aa6b-7e3be2b7aa55\",\"version\":\"$LATEST\"}}"],
        "source": "§3.10 VERIFIED-REAL"
      },
      {
        "name": "lambda-json-platform-report", "fact": "invocation-end", "prefilter": "\"type\":\"platform.report\"",
        "scope": "other", "final": true,
        "pattern": "\"requestId\":\"(?<lambdaRequestId>[0-9a-fA-F-]{36})\"",
        "samples": ["{\"time\":\"2024-06-17T17:23:55.826Z\",\"type\":\"platform.report\",\"record\":{\"requestId\":\"40f6c622-67a3-4159-97f2-ce364a0cb7a8\",\"metrics\":{\"durationMs\":18.593,\"billedDurationMs\":19,\"memorySizeMB\":2048,\"maxMemoryUsedMB\":246},\"status\":\"success\"}}"],
        "source": "§3.10 VERIFIED-REAL"
      },
      {
        "name": "lambda-node-text-prefix", "fact": "invocation", "prefilter": "\t", "scope": "other",
        "pattern": "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?Z\\t(?<lambdaRequestId>[0-9a-fA-F-]{36})\\t",
        "samples": ["2019-06-07T19:11:20.564Z\tc793869b-ee49-115b-a5b6-4fd21e8dedac\tWARN\tEvent not processed."],
        "source": "§3.10 VERIFIED-DOC (Node runtime: time, request id, level, message, tab-separated)"
      },
      {
        "name": "lambda-python-text-prefix", "fact": "invocation", "prefilter": "\t", "scope": "other",
        "pattern": "^\\[[A-Z]+\\]\\t\\S+\\t(?<lambdaRequestId>[0-9a-fA-F-]{36})\\t",
        "samples": ["[INFO]\t2020-01-31T22:12:58.534Z\t1c8df7d3-aaaa-46da-9778-518e6eca8125\t## ENVIRONMENT VARIABLES"],
        "source": "§3.5 VERIFIED-SOURCE (awslambdaric logging format [%(levelname)s]\\t%(asctime)s\\t%(aws_request_id)s\\t%(message)s)"
      },
      {
        "name": "lambda-json-app-prefix", "fact": "invocation", "prefilter": "\"requestId\"", "scope": "other",
        "pattern": "^\\{\"time(?:stamp)?\": ?\"[^\"]*\",.*?\"requestId\": ?\"(?<lambdaRequestId>[0-9a-fA-F-]{36})\"",
        "samples": ["{\"timestamp\":\"2024-02-09T08:42:44.078Z\",\"level\":\"INFO\",\"requestId\":\"d661f7cf-9208-46b9-85b0-213b04a91065\",\"message\":\"Just some logs here =)\"}"],
        "source": "§3.10 (Lambda JSON log format, key order of the Node runtime formatter, VERIFIED-SOURCE)"
      },
      {
        "name": "apigw-integration-request-id", "fact": "link", "prefilter": "AWS Integration Endpoint RequestId : ",
        "anchor": "start", "scope": "execution",
        "pattern": "^\\((?<apigwRequestId>[^)\\s]+)\\) AWS Integration Endpoint RequestId : (?<lambdaRequestId>[0-9a-fA-F-]{36})",
        "samples": ["(515f1e99-39db-11e9-9e96-01e5c04505b9) AWS Integration Endpoint RequestId : 57593f79-6e46-4a6f-91b1-f5d848cc2059"],
        "source": "§1.3 VERIFIED-REAL (note the spaces around the colon)"
      },
      {
        "name": "apigw-endpoint-response-headers", "fact": "link", "prefilter": "Endpoint response headers: ",
        "anchor": "start", "scope": "execution",
        "pattern": "^\\((?<apigwRequestId>[^)\\s]+)\\) Endpoint response headers: .*?x-amzn-RequestId=(?<lambdaRequestId>[0-9a-fA-F-]{36})",
        "samples": ["(515f1e99-39db-11e9-9e96-01e5c04505b9) Endpoint response headers: {Date=Tue, 26 Feb 2019 15:29:33 GMT, Content-Type=application/json, Content-Length=1136, Connection=keep-alive, x-amzn-RequestId=57593f79-6e46-4a6f-91b1-f5d848cc2059, x-amzn-Remapped-Content-Length=0, X-Amz-Executed-Version=$LATEST, X-Amzn-Trace-Id=root=1-5c755b5d-07b29b94e632d3da19d88789;parent=61e6466ca210cdf8;sampled=1}"],
        "source": "§1.3 VERIFIED-REAL"
      },
      {
        "name": "apigw-lambda-execution-failed", "fact": "link", "prefilter": "Lambda execution failed with status ",
        "anchor": "start", "scope": "execution",
        "pattern": "Lambda request id: (?<lambdaRequestId>[0-9a-fA-F-]{36})",
        "samples": ["(R1knPH17NjMFftw=) Lambda execution failed with status 200 due to customer function error: Object.defineProperty called on non-object. Lambda request id: 93b07909-0217-4875-86d6-e5a8747c70a2"],
        "source": "§1.3 VERIFIED-REAL test-invoke text; the (requestId) prefix is the execution-log form (§1.2)"
      },
      {
        "name": "apigw-endpoint-response-gone", "fact": "gone", "prefilter": "Endpoint response body before transformations: ",
        "anchor": "start", "scope": "execution", "set": {"role": "echo"},
        "pattern": "Endpoint response body before transformations: \\{\\s*\"(?:errorType\": ?\"GoneException|errorMessage\": ?\"An error occurred \\(GoneException\\) when calling the (?<operation>\\w+) operation)",
        "samples": ["(R1knPH17NjMFftw=) Endpoint response body before transformations: {\"errorType\":\"GoneException\",\"errorMessage\":\"410\",\"trace\":[]}"],
        "source": "INFERENCE: §1.3 template (VERIFIED-REAL) carrying the Lambda error JSON of §3.3/§3.5"
      },
      {
        "name": "apigw-lambda-failed-gone", "fact": "gone", "prefilter": "Lambda execution failed with status ",
        "anchor": "start", "scope": "execution", "set": {"role": "echo"},
        "pattern": "due to customer function error: (?:An error occurred \\(GoneException\\) when calling the (?<operation>\\w+) operation|GoneException: (?:410|UnknownError)|410\\. Lambda request id)",
        "samples": ["(R1knPH17NjMFftw=) Lambda execution failed with status 200 due to customer function error: An error occurred (GoneException) when calling the PostToConnection operation: . Lambda request id: 93b07909-0217-4875-86d6-e5a8747c70a2"],
        "source": "INFERENCE: §1.3 VERIFIED-REAL template carrying the errorMessage of §3.3/§3.5"
      },
      {
        "name": "apigw-proxy-request-body", "fact": "request", "prefilter": "Endpoint request body after transformations: ",
        "anchor": "start", "scope": "execution",
        "keys": {
          "connectionId": ["connectionId"], "eventType": ["eventType"], "routeKey": ["routeKey"],
          "requestTimeEpoch": ["requestTimeEpoch"], "requestTime": ["requestTime"], "connectedAt": ["connectedAt"],
          "disconnectStatusCode": ["disconnectStatusCode"], "disconnectReason": ["disconnectReason"],
          "sourceIp": ["sourceIp"], "userAgent": ["userAgent"], "principalId": ["principalId"]
        },
        "samples": ["(R1koeHsUtjMFbRw=) Endpoint request body after transformations: {\"requestContext\":{\"routeKey\":\"$disconnect\",\"disconnectStatusCode\":1001,\"eventType\":\"DISCONNECT\",\"extendedRequestId\":\"R1koeHsUtjMFbRw=\",\"requestTime\":\"20/Jan/2024:11:55:08 +0000\",\"messageDirection\":\"IN\",\"disconnectReason\":\"\",\"stage\":\"prod\",\"connectedAt\":1705751697419,\"requestTimeEpoch\":1705751708326,\"identity\":{\"userAgent\":\"Mozilla/5.0\",\"sourceIp\":\"49.105.91.154\"},\"requestId\":\"R1koeHsUtjMFbRw=\",\"domainName\":\"dl7ptocha9.execute-api.ap-northeast-1.amazonaws.com\",\"connectionId\":\"R1kmxc2VNjMCFIA=\",\"apiId\":\"dl7ptocha9\"},\"isBase64Encoded\":false}"],
        "source": "§1.4(a) VERIFIED-REAL (boto3 #3789) with the requestContext of §2.4 (aws-lambda-go testdata, VERIFIED-REAL)"
      },
      {
        "name": "apigw-websocket-connected", "fact": "request", "prefilter": "] connected to API [", "scope": "execution",
        "set": {"eventType": "CONNECT", "status": "200"},
        "pattern": "Client \\[Connection Id: (?<connectionId>[^\\]]+)\\] connected to API \\[",
        "samples": ["(R1knPH17NjMFftw=) Client [Connection Id: R1kmxc2VNjMCFIA=] connected to API [dl7ptocha9] successfully."],
        "source": "§1.5 EMULATOR template (not seen from real AWS)"
      },
      {
        "name": "apigw-websocket-disconnected", "fact": "request", "prefilter": "] disconnected from API [", "scope": "execution",
        "set": {"eventType": "DISCONNECT"},
        "pattern": "Client \\[Connection Id: (?<connectionId>[^\\]]+)\\] disconnected from API \\[[^\\]]*\\](?: with integration response status code \\[\\d+\\])?\\. Close reason: \\[(?<disconnectStatusCode>\\d+): (?<disconnectReason>[^\\]]*)\\]",
        "samples": ["(R1koeHsUtjMFbRw=) Client [Connection Id: R1kmxc2VNjMCFIA=] disconnected from API [dl7ptocha9]. Close reason: [1001: Going away]"],
        "source": "§1.5 EMULATOR template (not seen from real AWS)"
      },
      {
        "name": "apigw-websocket-connecting", "fact": "request", "prefilter": "] is connecting to WebSocket API [", "scope": "execution",
        "set": {"eventType": "CONNECT"},
        "pattern": "Client \\[UserAgent: (?<userAgent>.*?), SourceIp: (?<sourceIp>[^\\]]+)\\] is connecting to WebSocket API",
        "samples": ["(R1knPH17NjMFftw=) Client [UserAgent: Mozilla/5.0, SourceIp: 49.105.91.154] is connecting to WebSocket API [dl7ptocha9]."],
        "source": "§1.5 EMULATOR template (not seen from real AWS)"
      },
      {
        "name": "apigw-websocket-message", "fact": "request", "prefilter": "] received message from client [Connection Id: ",
        "scope": "execution", "set": {"eventType": "MESSAGE"},
        "pattern": "received message from client \\[Connection Id: (?<connectionId>[^\\]]+)\\]",
        "samples": ["(R1knPH17NjMFftw=) WebSocket API [dl7ptocha9] received message from client [Connection Id: R1kmxc2VNjMCFIA=]."],
        "source": "§1.5 EMULATOR template (not seen from real AWS)"
      },
      {
        "name": "request-context", "fact": "request", "prefilter": "connectionId", "scope": "other",
        "keys": {
          "connectionId": ["connectionId"], "apigwRequestId": ["requestId", "extendedRequestId"],
          "eventType": ["eventType"], "routeKey": ["routeKey"], "status": ["status"],
          "requestTimeEpoch": ["requestTimeEpoch"], "requestTime": ["requestTime"], "connectedAt": ["connectedAt"],
          "disconnectStatusCode": ["disconnectStatusCode"], "disconnectReason": ["disconnectReason"],
          "sourceIp": ["sourceIp", "ip"], "userAgent": ["userAgent"], "principalId": ["principalId"]
        },
        "samples": [
          "{\"requestId\":\"Iq9gwFDNoAMFo1A=\",\"ip\":\"1.128.0.0\",\"caller\":\"-\",\"user\":\"-\",\"requestTime\":\"26/Jul/2023:12:20:46 +0000\",\"eventType\":\"CONNECT\",\"routeKey\":\"$connect\",\"status\":\"500\",\"connectionId\":\"Iq8gj1UmIAMCKpA=\",\"apiId\":\"z1ctxygne5\",\"stage\":\"production\",\"domainName\":\"z1ctxygne5.execute-api.us-east-1.amazonaws.com\"}"
        ],
        "source": "access logs §2.3 VERIFIED-REAL; proxy events printed by a Lambda function (§3.1)"
      },
      {
        "name": "node-invoke-error-gone", "fact": "gone", "prefilter": "\"errorType\":\"GoneException\"", "scope": "other",
        "set": {"role": "echo"},
        "pattern": "Invoke Error \\s*\\{\"errorType\":\"GoneException\",\"errorMessage\":\"(?:410|UnknownError|GoneException: 410)\"(?:.*?\"requestId\":\"(?<sdkRequestId>[0-9a-fA-F-]{36})\")?",
        "samples": ["2021-09-07T05:12:50.514Z\td4a1b2c3-0000-4000-8000-00000000a001\tERROR\tInvoke Error \t{\"errorType\":\"GoneException\",\"errorMessage\":\"410\",\"code\":\"GoneException\",\"message\":\"410\",\"statusCode\":410,\"time\":\"2021-09-07T05:12:50.514Z\",\"requestId\":\"d184b96c-bd65-42f4-855b-ccd53c5049f4\",\"retryable\":false,\"retryDelay\":94.89568480709455,\"stack\":[\"GoneException: 410\",\"    at Object.extractError (/var/runtime/node_modules/aws-sdk/lib/protocol/json.js:52:27)\"]}"],
        "source": "§3.3: Invoke Error framing VERIFIED-REAL/VERIFIED-SOURCE, GoneException JSON VERIFIED-REAL (aws-sdk-js-v3#2763); the combination is INFERENCE"
      },
      {
        "name": "lambda-json-error-gone", "fact": "gone", "prefilter": "\"errorType\":\"GoneException\"", "scope": "other",
        "pattern": "\"errorType\":\"GoneException\",\"errorMessage\":\"(?:410|UnknownError)\"",
        "samples": ["{\"timestamp\":\"2024-02-09T08:42:44.078Z\",\"level\":\"ERROR\",\"requestId\":\"d661f7cf-9208-46b9-85b0-213b04a91065\",\"message\":\"send failed GoneException: UnknownError\",\"errorType\":\"GoneException\",\"errorMessage\":\"UnknownError\",\"stackTrace\":[\"GoneException: UnknownError\"]}"],
        "source": "§3.10 INFERENCE from the Node runtime JSON formatter (VERIFIED-SOURCE)"
      },
      {
        "name": "python-uncaught-gone", "fact": "gone", "prefilter": "[ERROR] GoneException: An error occurred (GoneException)",
        "anchor": "start", "scope": "other", "set": {"role": "echo"},
        "pattern": "^\\[ERROR\\] GoneException: An error occurred \\(GoneException\\) when calling the (?<operation>\\w+) operation",
        "samples": ["[ERROR] GoneException: An error occurred (GoneException) when calling the PostToConnection operation: \rTraceback (most recent call last):"],
        "source": "§3.5 INFERENCE from awslambdaric bootstrap.py (VERIFIED-SOURCE) and the botocore template (VERIFIED-SOURCE)"
      },
      {
        "name": "python-error-json-gone", "fact": "gone", "prefilter": "\"errorMessage\": \"An error occurred (GoneException)",
        "scope": "other", "set": {"role": "echo"},
        "pattern": "\"errorMessage\": \"An error occurred \\(GoneException\\) when calling the (?<operation>\\w+) operation",
        "samples": ["{\"errorMessage\": \"An error occurred (GoneException) when calling the PostToConnection operation: \", \"errorType\": \"GoneException\", \"stackTrace\": []}"],
        "source": "§3.5 VERIFIED-REAL (Chalice Lambda invocation error JSON)"
      },
      {
        "name": "boto3-gone", "fact": "gone", "prefilter": "An error occurred (GoneException) when calling the ", "scope": "other",
        "pattern": "An error occurred \\(GoneException\\) when calling the (?<operation>PostToConnection|GetConnection|DeleteConnection) operation",
        "samples": ["[ERROR]\t2024-05-09T10:12:01.201Z\t1c8df7d3-aaaa-46da-9778-518e6eca8125\tpost failed: An error occurred (GoneException) when calling the PostToConnection operation: "],
        "source": "§3.5 VERIFIED-SOURCE (botocore ClientError template)"
      },
      {
        "name": "node-v2-gone", "fact": "gone", "prefilter": "GoneException: 410", "scope": "other",
        "pattern": "GoneException: 410\\b",
        "samples": ["GoneException: 410"],
        "source": "§3.3 VERIFIED-REAL (stack line) and VERIFIED-DOC (knowledge center: \"errorMessage\": \"GoneException: 410\")"
      },
      {
        "name": "node-v3-gone", "fact": "gone", "prefilter": "GoneException: UnknownError", "scope": "other",
        "pattern": "GoneException: UnknownError(?:.*?requestId: '(?<sdkRequestId>[0-9a-fA-F-]{36})')?",
        "samples": ["        ERROR [Lambda] Error sending to connection XXX: GoneException: UnknownError"],
        "source": "§3.4 VERIFIED-REAL"
      },
      {
        "name": "java-v1-gone", "fact": "gone", "prefilter": "Service: AmazonApiGatewayManagementApi; Status Code: 410", "scope": "other",
        "pattern": "Service: AmazonApiGatewayManagementApi; Status Code: 410;(?:[^)]*?Request ID: (?<sdkRequestId>[^;)\\s]+))?",
        "samples": [
          "com.amazonaws.services.apigatewaymanagementapi.model.GoneException: null (Service: AmazonApiGatewayManagementApi; Status Code: 410; Error Code: GoneException; Request ID: xxx)",
          "Exception in thread \"main\" com.amazonaws.AmazonServiceException: Unable to unmarshall exception response with the unmarshallers provided (Service: AmazonApiGatewayManagementApi; Status Code: 410; Error Code: null; Request ID: 66ef081c-70c5-11e9-9319-c18364b84c32)"
        ],
        "source": "§3.6 VERIFIED-REAL"
      },
      {
        "name": "java-v1-unmarshall-410", "fact": "gone", "prefilter": "Response Code: 410, Response Text: Gone", "scope": "other",
        "pattern": "Unable to unmarshall error response \\(null\\)\\. Response Code: 410, Response Text: Gone",
        "samples": ["com.amazonaws.SdkClientException: Unable to unmarshall error response (null). Response Code: 410, Response Text: Gone"],
        "source": "§3.6 VERIFIED-REAL (aws-sdk-java#2200, older v1 builds)"
      },
      {
        "name": "java-v2-gone", "fact": "gone", "prefilter": "Service: ApiGatewayManagementApi, Status Code: 410", "scope": "other",
        "pattern": "\\(Service: ApiGatewayManagementApi, Status Code: 410, Request ID: (?<sdkRequestId>[^,)\\s]+)",
        "samples": ["software.amazon.awssdk.services.apigatewaymanagementapi.model.GoneException: null (Service: ApiGatewayManagementApi, Status Code: 410, Request ID: 4f4b1d1e-1d7a-4b8e-9c1a-3c2f0b7f2a10) (SDK Attempt Count: 1)"],
        "source": "§3.6 INFERENCE (strong) from the AwsServiceException template (VERIFIED-SOURCE)"
      },
      {
        "name": "go-v2-gone", "fact": "gone", "prefilter": "https response error StatusCode: 410", "scope": "other",
        "pattern": "operation error ApiGatewayManagementApi: (?<operation>\\w+), https response error StatusCode: 410, RequestID: (?<sdkRequestId>[^,\\s]*)",
        "samples": ["operation error ApiGatewayManagementApi: PostToConnection, https response error StatusCode: 410, RequestID: 965ae9ea-c537-43d0-ae5c-3a458ccbc069, GoneException: "],
        "source": "§3.7 INFERENCE from the VERIFIED-REAL 403 rendering and the smithy-go templates (VERIFIED-SOURCE)"
      },
      {
        "name": "php-gone", "fact": "gone", "prefilter": "resulted in a `410 Gone` response", "scope": "other",
        "pattern": "Error executing \"(?<operation>\\w+)\" on \"[^\"]*?connections/(?<connectionId>[A-Za-z0-9_%=-]+)\"",
        "samples": ["Aws\\ApiGatewayManagementApi\\Exception\\ApiGatewayManagementApiException Error executing \"PostToConnection\" on \"https://xxxxx.execute-api.us-east-1.amazonaws.com/yyyyy/@connections/DOvZ1cdTIAMCLtA%3D\"; AWS HTTP error: Client error: `POST https://xxxxx.execute-api.us-east-1.amazonaws.com/yyyyy/@connections/DOvZ1cdTIAMCLtA%3D` resulted in a `410 Gone` response Unable to parse error information from response - Error parsing JSON: Syntax error"],
        "source": "§3.8 VERIFIED-REAL"
      },
      {
        "name": "aws-sample-stale-connection", "fact": "gone", "prefilter": "Found stale connection, deleting ", "scope": "other",
        "set": {"operation": "PostToConnection"},
        "pattern": "Found stale connection, deleting (?<connectionId>[A-Za-z0-9_%=-]+)",
        "samples": ["2019-06-07T19:11:20.564Z\tc793869b-ee49-115b-a5b6-4fd21e8dedac\tINFO\tFound stale connection, deleting R1kmxc2VNjMCFIA="],
        "source": "AWS simple-websockets-chat-app sendmessage handler (logs this only when postToConnection returned 410); anchors.md §10"
      },
      {
        "name": "app-connection-mention", "fact": "target", "prefilter": "onnection", "scope": "other",
        "caseless": true,
        "pattern": "connection(?:[ _-]?id)?[\"']?\\s*[:= ]\\s*[\"']?(?<connectionId>[A-Za-z0-9_-]{15}=)",
        "samples": ["2024-05-09T10:00:00.000Z\tc793869b-ee49-115b-a5b6-4fd21e8dedac\tERROR\tError sending to connection R1kmxc2VNjMCFIA=: GoneException: UnknownError"],
        "source": "§3.4 VERIFIED-REAL app line (`Error sending to connection XXX: GoneException: UnknownError`) with an id of the real shape (§3.1)"
      },
      {
        "name": "app-send-to-id", "fact": "target", "prefilter": "to ", "scope": "other", "caseless": true,
        "pattern": "\\bsend(?:ing)? to (?<connectionId>[A-Za-z0-9_-]{15}=)",
        "samples": ["-> addRobotParticipants() -> Failed to send to NQlXmfKCIAMCKxA="],
        "source": "§3.4 VERIFIED-REAL"
      },
      {
        "name": "connections-url", "fact": "target", "prefilter": "connections/", "scope": "other",
        "pattern": "(?:@|%40)connections/(?<connectionId>[A-Za-z0-9_=-]+(?:%3[Dd])?)",
        "samples": ["awscurl --service execute-api -X POST -d \"hello world\" https://aabbccddee.execute-api.us-east-1.amazonaws.com/prod/%40connections/R0oXAdfD0kwCH6w%3D"],
        "source": "§5.5 VERIFIED-DOC"
      }
    ]
  }
  """#

  static let file: RuleFile = {
    do {
      return try JSONDecoder().decode(RuleFile.self, from: Data(json.utf8))
    } catch {
      fatalError("built-in rules are not valid JSON: \(error)")
    }
  }()
}
