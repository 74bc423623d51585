#!/usr/bin/env python3
"""Runs a CNI conflist the way libcni does (containerd, CRI-O); inside a test bed guest, as root.

    cni_chain.py add   --conflist F --id CONTAINER --netns NAME [--ifname eth0] [--egress-rate BITS --egress-burst BITS]
    cni_chain.py check --conflist F --id CONTAINER --netns NAME [...]
    cni_chain.py del   --conflist F --id CONTAINER --netns NAME [...]

For each plugin of the list (ADD: in order, DEL: in reverse) it executes CNI_PATH/<type> with
CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS (/run/netns/NAME), CNI_IFNAME, CNI_PATH in the
environment and the plugin's entry on stdin, with what libcni adds to it: `name` and
`cniVersion` of the list, `prevResult` (the previous plugin's result; for CHECK and DEL the
cached result of the last ADD), and `runtimeConfig` with the capability arguments the entry
declares in `capabilities` (here `bandwidth`: egressRate/egressBurst in bits, as containerd
fills them from the pod's kubernetes.io/egress-bandwidth annotation). The ADD result is cached
in /var/lib/cni/results/<name>-<id>-<ifname> like libcni's cache.

Prints one JSON object: {"ok": bool, "result": <final result>, "steps": [{plugin, command,
rc, stdout, stderr}]}; exit status 0 when every plugin succeeded.
"""
import argparse
import json
import os
import subprocess
import sys

CNI_PATH = "/usr/lib/cni"
CACHE = "/var/lib/cni/results"


def entry_for(conflist, plugin, prev, bandwidth):
    e = dict(plugin)
    e["name"] = conflist["name"]
    e["cniVersion"] = conflist["cniVersion"]
    if prev is not None:
        e["prevResult"] = prev
    caps = plugin.get("capabilities") or {}
    if bandwidth and caps.get("bandwidth"):
        e["runtimeConfig"] = {"bandwidth": bandwidth}
    return e


def run_plugin(args, plugin_type, command, stdin):
    env = {
        "CNI_COMMAND": command, "CNI_CONTAINERID": args.id, "CNI_NETNS": "/run/netns/" + args.netns,
        "CNI_IFNAME": args.ifname, "CNI_PATH": CNI_PATH, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    }
    exe = os.path.join(CNI_PATH, plugin_type)
    p = subprocess.run([exe], input=json.dumps(stdin), env=env, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["add", "check", "del"])
    ap.add_argument("--conflist", required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--netns", required=True)
    ap.add_argument("--ifname", default="eth0")
    ap.add_argument("--egress-rate", type=int, default=0)
    ap.add_argument("--egress-burst", type=int, default=0)
    args = ap.parse_args()

    conflist = json.load(open(args.conflist))
    plugins = conflist["plugins"]
    bandwidth = None
    if args.egress_rate:
        bandwidth = {"egressRate": args.egress_rate, "egressBurst": args.egress_burst}
    os.makedirs(CACHE, exist_ok=True)
    cache = os.path.join(CACHE, f"{conflist['name']}-{args.id}-{args.ifname}")
    steps, ok, prev = [], True, None

    if args.command == "add":
        for plugin in plugins:
            rc, out, err = run_plugin(args, plugin["type"], "ADD", entry_for(conflist, plugin, prev, bandwidth))
            steps.append({"plugin": plugin["type"], "command": "ADD", "rc": rc, "stdout": out, "stderr": err})
            if rc != 0:
                ok = False
                break
            prev = json.loads(out)
        if ok:
            with open(cache, "w") as f:
                json.dump({"result": prev, "bandwidth": bandwidth}, f)
    else:
        cached = None
        try:
            cached = json.load(open(cache))
        except (OSError, ValueError):
            pass
        prev = cached["result"] if cached else None
        order = plugins if args.command == "check" else list(reversed(plugins))
        for plugin in order:
            cmd = args.command.upper()
            rc, out, err = run_plugin(args, plugin["type"], cmd, entry_for(conflist, plugin, prev, bandwidth))
            steps.append({"plugin": plugin["type"], "command": cmd, "rc": rc, "stdout": out, "stderr": err})
            if rc != 0:
                ok = False
                if cmd == "CHECK":
                    break
        if args.command == "del" and ok:
            try:
                os.unlink(cache)
            except OSError:
                pass
    print(json.dumps({"ok": ok, "result": prev, "steps": steps}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
