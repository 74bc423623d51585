// The attacker of the abuse-agent run: a Python script run as nobody (setpriv), one mode per
// attack, printing one JSON object of what it saw. Also the stand-in for systemd's notify socket,
// which writes the wall-clock time of every WATCHDOG=1 to a file.
enum AbuseScript {
    static let text = #"""
import json, os, socket, sys, threading, time
mode, path = sys.argv[1], sys.argv[2]
arg = float(sys.argv[3]) if len(sys.argv) > 3 else 0
GET = '{"jsonrpc":"2.0","id":1,"method":"telemetry.get"}'
LST = '{"jsonrpc":"2.0","id":2,"method":"shaping.list"}'
SET = '{"jsonrpc":"2.0","id":3,"method":"shaping.set","params":{"selector":"10.98.0.1","rate":"1mbit"}}'
def conn(timeout=60):
    s = socket.socket(socket.AF_UNIX); s.settimeout(timeout); s.connect(path); return s
out = {}
if mode == "write":
    s = conn(); s.sendall((SET + "\n").encode())
    out["answer"] = json.loads(s.makefile("rb").readline())
elif mode == "batch":
    huge = ("[" + ",".join([GET] * 18000) + "]\n").encode()
    out.update(sent=0, refused=0, message="", slowest=0.0)
    def worker():
        s = conn(); f = s.makefile("rb"); end = time.time() + arg
        while time.time() < end:
            t = time.time(); s.sendall(huge); a = json.loads(f.readline())
            out["slowest"] = max(out["slowest"], time.time() - t); out["sent"] += 1
            if "error" in a: out["refused"] += 1; out["message"] = a["error"]["message"]
    ts = [threading.Thread(target=worker) for _ in range(4)]; [t.start() for t in ts]; [t.join() for t in ts]
elif mode == "flood":
    batch = ("[" + ",".join([LST] * 8 + [GET] * 8) + "]\n").encode()
    out.update(batches=0, lost=0, bytes=0)
    def worker():
        s = conn(); f = s.makefile("rb"); end = time.time() + arg
        while time.time() < end:
            s.sendall(batch); line = f.readline()
            if not line: out["lost"] += 1; return
            out["batches"] += 1; out["bytes"] += len(line)
    ts = [threading.Thread(target=worker) for _ in range(4)]; [t.start() for t in ts]; [t.join() for t in ts]
elif mode == "loris":
    held, refused, failed, message = [], 0, 0, ""
    for i in range(int(sys.argv[4])):
        try:
            s = conn(0.3); s.sendall(b"{")  # half a frame, never finished
            try:
                d = s.recv(4096)
                refused += 1
                if d: message = json.loads(d)["error"]["message"]
            except socket.timeout:
                held.append(s)
        except OSError as e:
            failed += 1; message = str(e)
    end = time.time() + arg
    while time.time() < end:
        time.sleep(0.5)
    closed = 0
    for s in held:
        s.setblocking(False)
        try:
            if s.recv(1) == b"": closed += 1
        except BlockingIOError: pass
        except OSError: closed += 1
    out.update(held=len(held), refused=refused, failed=failed, message=message, closed_by_server=closed)
elif mode == "halfclose":
    s = conn(); s.sendall((LST + "\n" + GET).encode()); s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        c = s.recv(1 << 20)
        if not c: break
        data += c
    out["answers"] = len([l for l in data.split(b"\n") if l.strip()])
elif mode == "notify":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(path)
    with open(sys.argv[4], "a", buffering=1) as f:
        while True:
            d = s.recv(4096)
            if b"WATCHDOG=1" in d: f.write("%.3f\n" % time.time())
print(json.dumps(out)); sys.stdout.flush()
"""#
}
