// The attacker of the abuse-agent run: a Python script run as nobody (setpriv), one mode per
// attack, printing one JSON object of what it saw.
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
    # open them all first, each with half a frame, so that they are held at the same time
    conns, failed, message = [], 0, ""
    for i in range(int(sys.argv[4])):
        try:
            s = conn(5); s.sendall(b"{"); conns.append(s)  # half a frame, never finished
        except OSError as e:
            failed += 1; message = str(e)
    time.sleep(1)
    held, refused = [], 0
    for s in conns:
        s.setblocking(False)
        try:
            d = s.recv(4096)
            refused += 1
            if d: message = json.loads(d.split(b"\n")[0])["error"]["message"]
        except BlockingIOError:
            held.append(s)
        except OSError as e:
            refused += 1; message = str(e)
    end = time.time() + arg
    while time.time() < end:
        time.sleep(0.5)
    closed = 0
    for s in held:
        try:
            s.recv(1); closed += 1  # b"" or an error line: the server closed it
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
    answers = [json.loads(l) for l in data.split(b"\n") if l.strip()]
    out["answers"] = len(answers); out["ids"] = [a.get("id") for a in answers]; out["bytes"] = len(data)
elif mode == "execrace":
    # connect, keep the socket in a child, exec a setuid-root binary; the child then writes
    tries, writes, refused, message = int(arg), 0, 0, ""
    for i in range(tries):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try: s = conn()
            except OSError: os._exit(1)
            c = os.fork()
            if c == 0:
                time.sleep(0.1)  # the parent is the setuid binary by now
                try:
                    s.sendall((SET + "\n").encode()); os.write(w, s.makefile("rb").readline())
                finally:
                    os._exit(0)
            os.execv(sys.argv[4], [sys.argv[4], "0.5"])
        os.close(w)
        data = b""
        while True:
            d = os.read(r, 65536)
            if not d: break
            data += d
        os.close(r); os.waitpid(pid, 0)
        a = json.loads(data) if data else {}
        if "result" in a: writes += 1
        elif "error" in a: refused += 1; message = a["error"]["message"]
    out.update(tries=tries, writes=writes, refused=refused, message=message)
elif mode == "oversize":
    # frames over rpc.max_frame_bytes, again and again on 4 connections at once
    big = b"[" + b"1," * (int(sys.argv[4]) // 2) + b"1]\n"
    out.update(sent=0, answered=0, failed=0, message="")
    def worker():
        end = time.time() + arg
        while time.time() < end:
            try:
                s = conn(); f = s.makefile("rb")
                try: s.sendall(big)
                except OSError: pass  # the agent may close before reading it all
                line = f.readline(); out["sent"] += 1
                if line:
                    out["answered"] += 1; out["message"] = json.loads(line).get("error", {}).get("message", "")
                s.close()
            except OSError as e:
                out["failed"] += 1; out["message"] = str(e)
    ts = [threading.Thread(target=worker) for _ in range(4)]; [t.start() for t in ts]; [t.join() for t in ts]
elif mode == "churn":
    # connect, one telemetry.get, close, as fast as 8 threads can
    out.update(calls=0, failed=0, message="")
    def worker():
        end = time.time() + arg
        while time.time() < end:
            try:
                s = conn(10); s.sendall((GET + "\n").encode()); s.makefile("rb").readline(); s.close(); out["calls"] += 1
            except OSError as e:
                out["failed"] += 1; out["message"] = str(e)
    ts = [threading.Thread(target=worker) for _ in range(8)]; [t.start() for t in ts]; [t.join() for t in ts]
print(json.dumps(out)); sys.stdout.flush()
"""#
}
