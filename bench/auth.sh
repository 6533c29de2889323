#!/usr/bin/env bash
# What authentication costs (issue 3), all through nginx over HTTPS in one run:
#   GET /api/health               the API floor (no auth, no database)
#   GET /api/auth/session         JWT check from cookie + one user read: target >= 70% of health
#   POST /api/auth/login          Argon2id (19 MiB, t=2) per request: bounded by design
# Usage: bench/auth.sh [seconds] [connections]. Rate limits are off (RATE_LIMIT_TEST_MODE).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
duration="${1:-10}"
connections="${2:-64}"
bin="${MIAUFLIX_BIN:-$repo/.build/release/miauflix}"
work="$(mktemp -d /tmp/miauflix-bench-auth-XXXXXX)"
chmod 755 "$work"
export DATA_DIR="$work/data" LISTEN_ADDRESS=127.0.0.1 RATE_LIMIT_TEST_MODE=true AUTH_RATE_LIMIT=100000 LOG_LEVEL=warning
HTTPS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export HTTPS_PORT HTTP_PORT
cleanup() { [ -n "${BENCH_KEEP:-}" ] && return; MIAUFLIX_BIN="$bin" "$repo/scripts/stack.sh" stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

out="$(MIAUFLIX_BIN="$bin" "$repo/scripts/stack.sh" start)"
email="$(sed -n 's/^Created initial admin user with email: \(.*\) and password: \(.*\)$/\1/p' <<<"$out")"
password="$(sed -n 's/^Created initial admin user with email: \(.*\) and password: \(.*\)$/\2/p' <<<"$out")"
base="https://127.0.0.1:$HTTPS_PORT"
body="$(python3 -c 'import json,sys; print(json.dumps({"email": sys.argv[1], "password": sys.argv[2]}))' "$email" "$password")"
login_headers="$(curl -sk -D - -o /dev/null -H 'Content-Type: application/json' --data "$body" "$base/api/auth/login")"
session="$(sed -n 's/^set-cookie: __miauflix_at_\([A-Za-z0-9_-]*\)=.*/\1/Ip' <<<"$login_headers" | head -1)"
access="$(sed -n 's/^set-cookie: \(__miauflix_at_[^;]*\).*/\1/Ip' <<<"$login_headers" | head -1)"
[ -n "$session" ] || { echo "bench: login failed" >&2; exit 1; }
curl -skf -H "X-Session-Id: $session" -H "Cookie: $access" "$base/api/auth/session" >/dev/null

cat >"$work/session.lua" <<LUA
wrk.headers["X-Session-Id"] = "$session"
wrk.headers["Cookie"] = "$access"
LUA
cat >"$work/login.lua" <<LUA
wrk.method = "POST"
wrk.body = [[$body]]
wrk.headers["Content-Type"] = "application/json"
LUA

run() { # label connections path [script]
    local script=()
    [ -n "${4:-}" ] && script=(-s "$4")
    wrk -t2 -c"$2" -d2s "${script[@]}" "$base$3" >/dev/null 2>&1 || true
    local out; out="$(wrk -t2 -c"$2" -d"${duration}s" --latency "${script[@]}" "$base$3")"
    local rps p99 non2xx
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    printf '%-34s %10s req/s   p99 %8s   non-2xx %s\n' "$1" "$rps" "$p99" "${non2xx:-0}"
    echo "$rps" >"$work/$5.rps"
}

echo "auth bench: $(nproc) cores, wrk -t2 -d${duration}s over HTTPS"
run "GET /api/health" "$connections" /api/health "" health
run "GET /api/auth/session" "$connections" /api/auth/session "$work/session.lua" session
run "POST /api/auth/login" "$connections" /api/auth/login "$work/login.lua" login
python3 - "$work" <<'PY'
import pathlib, sys
w = pathlib.Path(sys.argv[1])
read = lambda name: float((w / f"{name}.rps").read_text())
health, session, login = read("health"), read("session"), read("login")
print(f"session/health = {session/health:.2f} (target >= 0.70); login/health = {login/health:.4f}")
PY
