#!/usr/bin/env python3
"""End-to-end latency of the controller's /filter and /prioritize over loopback HTTP, as
kube-scheduler sees it: one keep-alive connection, one call at a time, NodeNames bodies
(nodeCacheCapable: true) and full v1.Node bodies (nodeCacheCapable: false).

Starts the given edge-controller on a scratch config (loopback, no token, no state file), feeds
N nodes one report each, then times ITER calls per verb and shape. The figures size the shipped
httpTimeout (docs/kube-scheduler.md). Usage:

    scripts/extender-latency.py .build/release/edge-controller [--nodes 1000] [--iter 200]
"""
import argparse, http.client, json, os, shutil, socket, subprocess, sys, tempfile, time

POD = {"metadata": {"name": "web-1", "namespace": "default", "uid": "0f6c2e4e-1111-4b7e-9d2b-000000000001"},
       "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
                                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]},
       "status": {"phase": "Pending"}}


def node_object(name, i):
    """A v1.Node as kube-scheduler sends it, about 3.5 KB of JSON (the size of a real kubelet's Node)."""
    ip = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
    return {"kind": "Node", "apiVersion": "v1",
            "metadata": {"name": name, "uid": f"6f1c3e0a-4c1d-4b7e-9d2b-{i:012d}", "resourceVersion": "48213",
                         "creationTimestamp": "2025-01-10T09:12:44Z",
                         "labels": {"kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                    "topology.kubernetes.io/zone": "edge-zone-1"},
                         "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                         "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]},
            "status": {"capacity": {"cpu": "4", "ephemeral-storage": "41152812Ki", "memory": "8141116Ki", "pods": "110"},
                       "allocatable": {"cpu": "3800m", "ephemeral-storage": "37926431477", "memory": "7629116Ki", "pods": "110"},
                       "conditions": [{"type": t, "status": s, "lastHeartbeatTime": "2025-01-12T08:00:01Z",
                                       "lastTransitionTime": "2025-01-10T09:12:44Z", "reason": r, "message": m}
                                      for t, s, r, m in [("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                                                         ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                                                         ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                                                         ("Ready", "True", "KubeletReady", "kubelet is posting ready status")]],
                       "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                       "nodeInfo": {"machineID": "2f8a1c9e5b7d4e3f9a0b1c2d3e4f5a6b", "kernelVersion": "6.1.0-18-amd64",
                                    "osImage": "Debian GNU/Linux 12 (bookworm)", "containerRuntimeVersion": "containerd://1.7.13",
                                    "kubeletVersion": "v1.30.2", "operatingSystem": "linux", "architecture": "amd64"},
                       "images": [{"names": ["registry.k8s.io/pause:3.9"], "sizeBytes": 321520}]}}


def report(name, i):
    j = (i * 7 % 100) / 100
    return {"node": name, "agent_version": "latency", "generated_at": time.time(), "window_seconds": 30,
            "rtt_p50_ms": 5 + j, "rtt_p99_ms": 20 + 10 * j, "rtt_samples": 1000, "retrans_rate": 0.001 * j,
            "retransmits": 1, "segments_out": 10000, "drop_rate": j, "drop_rate_weighted": j, "drops": [],
            "runqlat_p95_ms": 1 + j, "runqlat_samples": 5000, "cpu_utilization": 0.2 + 0.5 * j, "peers": []}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def q(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(p * len(v)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("controller")
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--iter", type=int, default=200)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="edge-latency-")
    port = free_port()
    conf = os.path.join(tmp, "controller.toml")
    with open(conf, "w") as f:
        f.write(f'[server]\nlisten = "127.0.0.1:{port}"\ntoken_file = ""\n[rpc]\nsocket = "{tmp}/c.sock"\ngroup = ""\n'
                f'[registry]\nstale_after = "1h"\nstate_file = ""\nmax_nodes = {max(a.nodes, 100)}\n')
    proc = subprocess.Popen([a.controller, "--config", conf, "--log-level", "warning"], stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        names = [f"edge-{i:05d}" for i in range(a.nodes)]
        for i, n in enumerate(names):
            c.request("POST", "/v1/reports", json.dumps(report(n, i)), {"Content-Type": "application/json"})
            r = c.getresponse(); r.read()
            assert r.status == 200, (r.status, n)
        bodies = {
            "NodeNames": json.dumps({"Pod": POD, "Nodes": None, "NodeNames": names}).encode(),
            "Nodes": json.dumps({"Pod": POD, "Nodes": {"kind": "NodeList", "apiVersion": "v1", "metadata": {},
                                                       "items": [node_object(n, i) for i, n in enumerate(names)]},
                                 "NodeNames": None}).encode(),
        }
        cpu = os.cpu_count()
        print(f"extender over loopback HTTP, {a.nodes} candidates, {a.iter} calls each, one keep-alive connection, "
              f"client and controller on the same {cpu} cores ({os.path.basename(a.controller)} {a.controller})")
        print(f"{'shape':<10} {'verb':<11} {'request KiB':>11} {'response KiB':>12} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for shape, body in bodies.items():
            for verb in ("filter", "prioritize"):
                times, size = [], 0
                for k in range(a.iter + 10):
                    t = time.perf_counter()
                    c.request("POST", "/" + verb, body, {"Content-Type": "application/json"})
                    r = c.getresponse(); out = r.read()
                    dt = (time.perf_counter() - t) * 1000
                    assert r.status == 200, (r.status, out[:200])
                    size = len(out)
                    if k >= 10:  # warm-up calls left out
                        times.append(dt)
                print(f"{shape:<10} {verb:<11} {len(body) / 1024:>11.1f} {size / 1024:>12.1f} {q(times, .5):>8.2f} "
                      f"{q(times, .99):>8.2f} {max(times):>8.2f}")
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
