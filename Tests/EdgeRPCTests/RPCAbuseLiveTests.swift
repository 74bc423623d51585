// Issue 13's attacks on the RPC server, on a real socket: half-close, descriptor exhaustion by
// one uid (slow-loris), and a symlink swapped in for the socket. Root: clients run as nobody
// through setpriv.
import EdgeCore
@testable import EdgeRPC
import EdgeTestSupport
import Foundation
import Logging
import XCTest

final class RPCAbuseLiveTests: XCTestCase {
    private var live: LiveServer?

    override func tearDown() async throws {
        try await live?.stop()
        live = nil
    }

    private func start(_ configure: @escaping (inout RPCServerConfiguration) -> Void = { _ in }) async throws -> LiveServer {
        let server = try LiveServer(configure: configure)
        try await server.start()
        live = server
        return server
    }

    private func requireTools() throws {
        try requireRoot()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            try unmet("needs /usr/bin/setpriv and /usr/bin/python3")
        }
    }

    // MARK: finding 9: half-close

    /// Sends what the Python expression `payload` gives (bytes) on one connection, shuts down
    /// the sending side, waits `pause` seconds, then returns every answer line.
    private func halfClose(_ server: LiveServer, payload: String, pause: Double = 0) throws -> [JSONValue] {
        let script = """
            import json, socket, sys, time
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(10)
            s.connect(sys.argv[1])
            s.sendall(\(payload))
            s.shutdown(socket.SHUT_WR)
            time.sleep(\(pause))
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk: break
                data += chunk
            sys.stdout.write(data.decode())
            """
        let r = try sh(["/usr/bin/python3", "-c", script, server.path])
        return try r.stdout.split(separator: "\n").map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }

    /// Requests followed at once by shutdown(SHUT_WR) are all answered (the last one even
    /// without its newline), then the server closes. A write sent that way is answered too.
    func testRequestsBeforeAHalfCloseAreAnswered() async throws {
        try requireTools()
        let server = try await start()
        let answers = try halfClose(server, payload: """
            b'{"jsonrpc":"2.0","id":1,"method":"sleep","params":{"milliseconds":200}}\\n'
                      b'{"jsonrpc":"2.0","id":2,"method":"state.set"}\\n'
                      b'{"jsonrpc":"2.0","id":3,"method":"sum","params":{"values":[1,2]}}'
            """)
        XCTAssertEqual(answers.count, 3, "answers: \(answers)")
        guard answers.count == 3 else { return }
        XCTAssertEqual(answers[0]["result"], true)
        XCTAssertEqual(answers[1]["result"], ["changed_by_uid": 0])
        XCTAssertEqual(answers[2]["result"], ["caller_uid": 0, "total": 3])
    }

    /// The same with a first answer larger than the socket's write buffer, read only after the
    /// server's buffers filled.
    func testALargeAnswerBeforeAHalfCloseDoesNotLoseTheNext() async throws {
        try requireTools()
        let server = try await start()
        let answers = try halfClose(server, payload: """
            json.dumps({"jsonrpc": "2.0", "id": 1, "method": "echo", "params": {"text": "x" * 1000, "repeat_count": 400}}).encode()
                      + b'\\n{"jsonrpc":"2.0","id":2,"method":"sum","params":{"values":[1,2]}}'
            """, pause: 0.5)
        XCTAssertEqual(answers.count, 2)
        guard answers.count == 2 else { return }
        XCTAssertEqual(answers[0]["result"]?.stringValue?.count, 400_000)
        XCTAssertEqual(answers[1]["result"], ["caller_uid": 0, "total": 3])
    }

    /// Two answers larger than the write buffer's high watermark, the second to a request sent
    /// just before the half-close. The second write made the channel unwritable inside
    /// `writeAndFlush`; the writability event ran the queue re-entrantly, found nothing left, and
    /// closed after the *previous* write, so the second answer was dropped (`make abuse`:
    /// `shaping.list` + `telemetry.get` over 1,024 classes, 178 KB + 163 KB).
    func testTwoLargeAnswersBeforeAHalfCloseAreBothSent() async throws {
        try requireTools()
        let server = try await start()
        let answers = try halfClose(server, payload: """
            json.dumps({"jsonrpc": "2.0", "id": 1, "method": "echo", "params": {"text": "x" * 1000, "repeat_count": 200}}).encode()
                      + b'\\n' + json.dumps({"jsonrpc": "2.0", "id": 2, "method": "echo", "params": {"text": "y" * 1000, "repeat_count": 200}}).encode()
            """)
        XCTAssertEqual(answers.count, 2, "a large answer after a half-close was dropped")
        guard answers.count == 2 else { return }
        XCTAssertEqual(answers[0]["result"]?.stringValue?.count, 200_000)
        XCTAssertEqual(answers[1]["result"]?.stringValue?.count, 200_000)
        XCTAssertEqual(answers[1]["id"], 2)
    }

    // MARK: finding 5: descriptor exhaustion

    /// Opens `count` connections as nobody, reports for each whether the server kept it open
    /// ("open") or answered and closed it (its error line); waits for the file `go`, then
    /// reports which of the open ones the server closed within `wait` seconds.
    private let holdScript = """
        import json, os, socket, sys, time
        path, count, go, wait = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
        conns, first = [], []
        for i in range(count):
            s = socket.socket(socket.AF_UNIX); s.connect(path); conns.append(s)
        for s in conns:
            s.settimeout(0.2)
            try:
                d = s.recv(4096)
                first.append(json.loads(d)["error"]["message"] if d else "closed")
            except socket.timeout:
                first.append("open")
        print(json.dumps(first)); sys.stdout.flush()
        deadline = time.time() + 30
        while not os.path.exists(go) and time.time() < deadline: time.sleep(0.05)
        second = []
        for s, f in zip(conns, first):
            if f != "open": continue
            s.settimeout(wait)
            try:
                second.append("closed" if s.recv(4096) == b"" else "data")
            except socket.timeout:
                second.append("open")
        print(json.dumps(second)); sys.stdout.flush()
        """

    private final class Holder {
        let process = Process()
        let out = Pipe()
        var buffer = Data()

        init(script: String, socket: String, count: Int, go: String, wait: Double) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script,
                                 socket, String(count), go, String(wait)]
            process.standardOutput = out
            try process.run()
        }

        /// The next JSON line the script prints.
        func line() throws -> [String] {
            while true {
                if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = buffer[buffer.startIndex..<nl]
                    buffer = Data(buffer[(nl + 1)...])
                    return try JSONDecoder().decode([String].self, from: line)
                }
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { throw HolderEnded() }
                buffer.append(chunk)
            }
        }
    }

    /// One uid may hold `max_clients_per_uid` connections; the next is refused with a clear
    /// error; root is still served; the held connections are closed after the idle timeout.
    func testOneUidIsBoundedRootIsServedAndIdleConnectionsAreClosed() async throws {
        try requireTools()
        let server = try await start {
            $0.maxClientsPerUID = 3
            $0.idleTimeout = .seconds(3)
        }
        XCTAssertEqual(chmod(server.path, 0o666), 0)
        let go = server.directory + "/go"
        let holder = try Holder(script: holdScript, socket: server.path, count: 4, go: go, wait: 6)
        let first = try holder.line()
        XCTAssertEqual(first.filter { $0 == "open" }.count, 3, "\(first)")
        XCTAssertEqual(first.filter { $0 != "open" },
                       ["server busy: uid 65534 already has 3 connections (limit 3, rpc.max_clients_per_uid)"])
        // Root is not bound by the member's connections.
        XCTAssertEqual(try server.client().call("sum", params: SumParams(values: [2, 3]), as: SumResult.self),
                       SumResult(total: 5, callerUid: 0))
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        let second = try holder.line()
        holder.process.waitUntilExit()
        XCTAssertEqual(second, ["closed", "closed", "closed"], "idle connections must be closed after rpc.idle_timeout")
    }

    /// With the server full of non-root clients, root still gets one of the reserved slots.
    func testAFullServerStillServesRoot() async throws {
        try requireTools()
        let server = try await start {
            $0.maxClients = 10  // 5 slots for others, 5 kept for root
        }
        XCTAssertEqual(chmod(server.path, 0o666), 0)
        let go = server.directory + "/go"
        let holder = try Holder(script: holdScript, socket: server.path, count: 6, go: go, wait: 0.2)
        let first = try holder.line()
        // Connections are set up on two event loops: which one is turned away may vary.
        XCTAssertEqual(first.filter { $0 == "open" }.count, 5, "\(first)")
        XCTAssertEqual(first.filter { $0 != "open" }, ["server busy: too many clients connected (limit 10, rpc.max_clients)"])
        let clients = (0..<3).map { _ in server.client() }
        for c in clients {
            XCTAssertEqual(try c.call("echo", params: EchoParams(text: "root"), as: String.self), "root")
        }
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        _ = try holder.line()
        holder.process.waitUntilExit()
    }

    // MARK: finding 11: symlink swap on the socket's chown/chmod

    /// A directory another user can write to is refused before anything is bound.
    func testASocketDirectoryOthersCanWriteIsRefused() async throws {
        try requireRoot()
        let dir = try Fixture.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(chmod(dir, 0o777), 0)
        let open = RPCServer(configuration: RPCServerConfiguration(socketPath: dir + "/a.sock", socketGroup: nil),
                             router: Fixture.router(), logger: Fixture.logger)
        do {
            try await open.start()
            XCTFail("listened in a world-writable directory")
            await open.shutdown()
        } catch let error as RPCServerError {
            XCTAssertEqual(error, .unsafeDirectory(path: dir, reason: "it is writable by its group or others (mode 777)"))
            XCTAssertTrue("\(error)".contains("rpc.socket"), "\(error)")
        }
        XCTAssertEqual(chmod(dir, 0o755), 0)
        XCTAssertEqual(chown(dir, 65534, 65534), 0)
        let foreign = RPCServer(configuration: RPCServerConfiguration(socketPath: dir + "/b.sock", socketGroup: nil),
                                router: Fixture.router(), logger: Fixture.logger)
        do {
            try await foreign.start()
            XCTFail("listened in a directory that belongs to another user")
            await foreign.shutdown()
        } catch let error as RPCServerError {
            XCTAssertEqual(error, .unsafeDirectory(path: dir, reason: "it belongs to uid 65534"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/a.sock"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/b.sock"))
        // /tmp-like: world-writable but sticky, so nobody else can replace our socket.
        XCTAssertEqual(chown(dir, 0, 0), 0)
        XCTAssertEqual(chmod(dir, 0o1777), 0)
        XCTAssertNoThrow(try RPCSocketFile.checkDirectory(ofSocket: dir + "/c.sock"))
    }

    /// The swap itself: the socket replaced by a link to a victim file between bind and
    /// chown/chmod. Owner and mode are applied to the bound socket's inode or not at all; the
    /// victim keeps its owner and mode.
    func testOwnerAndModeNeverFollowASwappedInLink() throws {
        try requireRoot()
        let dir = try Fixture.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let victim = dir + "/victim"
        FileManager.default.createFile(atPath: victim, contents: Data("secret".utf8))
        XCTAssertEqual(chmod(victim, 0o600), 0)
        let socketPath = dir + "/s.sock"
        // The swap: what sits at the socket's path when owner and mode are applied is a link.
        XCTAssertEqual(symlink(victim, socketPath), 0)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        XCTAssertThrowsError(try RPCSocketFile.applyAccess(path: socketPath, inode: nil, group: "root", logger: logger)) {
            XCTAssertTrue("\($0)".contains("no longer the socket we bound"), "\($0)")
        }
        var st = stat()
        XCTAssertEqual(stat(victim, &st), 0)
        XCTAssertEqual(st.st_mode & 0o7777, 0o600, "the victim's mode changed through the link")
        XCTAssertEqual(st.st_gid, 0)
    }
}

/// The connection-holding script ended before printing what the test waits for.
struct HolderEnded: Error {}
