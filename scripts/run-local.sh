#!/usr/bin/env bash
# Runs edge-controller and edge-agent on this host (root) with default settings, the agent
# pushing to the controller, and shows live telemetry and node scores until Ctrl-C
# (or for RUN_SECONDS seconds). Binaries come from .build/release (make run builds them).
#
# Only two settings differ from the built-in defaults, both in out/local/:
#   agent.toml:      [controller] url = "http://$LISTEN", token_file = out/local/token
#   controller.toml: [server] listen = $LISTEN, token_file = out/local/token
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
STATE=out/local
RUN_SECONDS=${RUN_SECONDS:-0}
REFRESH=${REFRESH:-2}
# The controller's address (server.listen); LISTEN=127.0.0.1:8478 when 8477 is taken.
LISTEN=${LISTEN:-127.0.0.1:8477}

[ "$(id -u)" = 0 ] || { echo "run-local: needs root (BPF, /run sockets)" >&2; exit 1; }
for b in edge-agent edge-controller edgectl; do
  [ -x "$BIN/$b" ] || { echo "run-local: $BIN/$b missing; run 'make release' first" >&2; exit 1; }
done

mkdir -p "$STATE"
[ -s "$STATE/token" ] || { head -c 32 /dev/urandom | base64 > "$STATE/token"; chmod 0600 "$STATE/token"; }
TOKEN=$(realpath "$STATE/token")
cat > "$STATE/controller.toml" <<TOML
[server]
listen = "$LISTEN"
token_file = "$TOKEN"
TOML
cat > "$STATE/agent.toml" <<TOML
[controller]
url = "http://$LISTEN"
token_file = "$TOKEN"
push_interval = "2s"
TOML

pids=()
names=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "run-local: stopped (logs in $STATE/)"
}
trap cleanup EXIT INT TERM

"$BIN/edge-controller" --config "$STATE/controller.toml" >"$STATE/controller.log" 2>&1 & pids+=($!); names+=(controller)
"$BIN/edge-agent" --config "$STATE/agent.toml" >"$STATE/agent.log" 2>&1 & pids+=($!); names+=(agent)

# A daemon that exits while starting: say which one, and show its own last words (the reason).
daemon_exited() {
  local i
  for i in "${!pids[@]}"; do
    kill -0 "${pids[$i]}" 2>/dev/null && continue
    echo "run-local: edge-${names[$i]} exited while starting; last lines of $STATE/${names[$i]}.log:" >&2
    tail -n 20 "$STATE/${names[$i]}.log" | sed 's/^/    /' >&2
    return 0
  done
  return 1
}
ready=0
for _ in $(seq 1 300); do
  if [ -S /run/edge-agent/agent.sock ] && [ -S /run/edge-controller/controller.sock ]; then ready=1; break; fi
  daemon_exited && exit 1
  sleep 0.1
done
if [ "$ready" = 0 ]; then
  echo "run-local: the daemons did not open their sockets within 30 s; last log lines:" >&2
  for n in "${names[@]}"; do echo "  $STATE/$n.log:" >&2; tail -n 10 "$STATE/$n.log" | sed 's/^/    /' >&2; done
  exit 1
fi
# The HTTP port is bound after the socket: a taken port ends the controller within moments.
for _ in $(seq 1 20); do daemon_exited && exit 1; sleep 0.1; done
echo "run-local: edge-controller and edge-agent running; Ctrl-C stops both"
"$BIN/edgectl" status

start=$(date +%s)
while :; do
  sleep "$REFRESH"
  [ -t 1 ] && printf '\033[H\033[2J'
  date -u +"== %H:%M:%S  telemetry (edgectl telemetry)"
  "$BIN/edgectl" telemetry --peers 5 || true
  echo
  echo "== node scores (edgectl score --explain)"
  "$BIN/edgectl" score --explain || true
  if [ "$RUN_SECONDS" -gt 0 ] && [ $(( $(date +%s) - start )) -ge "$RUN_SECONDS" ]; then break; fi
done
