#!/usr/bin/env bash
# Catalog read path (issue 4), all through nginx over HTTPS in one run, data warm in the DB:
#   GET /api/health                          the API floor
#   nginx static file of the list's size     the ceiling for that payload
#   GET /api/movies/:id                      target >= 0.6 x health
#   GET /api/list/@@tmdb_movies_popular      target >= 0.4 x health, p99 < 25 ms
# The catalog is filled from the recorded TMDB answers (Tests/Fixtures) first.
# Usage: bench/catalog.sh [seconds] [connections]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
duration="${1:-10}"
connections="${2:-64}"
bin="${MIAUFLIX_BIN:-$repo/.build/release/miauflix}"
work="$(mktemp -d /tmp/miauflix-bench-catalog-XXXXXX)"
chmod 755 "$work"
fixtures_port_file="$work/fixtures.port"
python3 "$repo/Tests/Fixtures/server.py" "$repo/Tests/Fixtures" 0 >"$fixtures_port_file" &
fixtures_pid=$!
for _ in $(seq 1 50); do [ -s "$fixtures_port_file" ] && break; sleep 0.1; done
export DATA_DIR="$work/data" LISTEN_ADDRESS=127.0.0.1 RATE_LIMIT_TEST_MODE=true AUTH_RATE_LIMIT=100000 LOG_LEVEL=warning
export DISABLE_BACKGROUND_TASKS=true TMDB_API_URL="http://127.0.0.1:$(head -1 "$fixtures_port_file")/tmdb/3" TMDB_API_ACCESS_TOKEN=bench
HTTPS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export HTTPS_PORT HTTP_PORT
cleanup() { MIAUFLIX_BIN="$bin" "$repo/scripts/stack.sh" stop >/dev/null 2>&1 || true; kill "$fixtures_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

out="$(MIAUFLIX_BIN="$bin" "$repo/scripts/stack.sh" start)"
email="$(sed -n 's/^Created initial admin user with email: \(.*\) and password: \(.*\)$/\1/p' <<<"$out")"
password="$(sed -n 's/^Created initial admin user with email: \(.*\) and password: \(.*\)$/\2/p' <<<"$out")"
base="https://127.0.0.1:$HTTPS_PORT"
body="$(python3 -c 'import json,sys; print(json.dumps({"email": sys.argv[1], "password": sys.argv[2]}))' "$email" "$password")"
login_headers="$(curl -sk -D - -o /dev/null -H 'Content-Type: application/json' --data "$body" "$base/api/auth/login")"
session="$(sed -n 's/^set-cookie: __miauflix_at_\([A-Za-z0-9_-]*\)=.*/\1/Ip' <<<"$login_headers" | head -1)"
access="$(sed -n 's/^set-cookie: \(__miauflix_at_[^;]*\).*/\1/Ip' <<<"$login_headers" | head -1)"
auth=(-H "X-Session-Id: $session" -H "Cookie: $access")
"$bin" catalog refresh-lists >/dev/null
curl -skf "${auth[@]}" "$base/api/movies/278" >/dev/null
list_size=$(curl -skf "${auth[@]}" "$base/api/list/@@tmdb_movies_popular" | wc -c)
# The ceiling: nginx serving a static JSON file as large as the list answer.
python3 -c "import sys; print('{\"x\":\"' + 'a' * (int(sys.argv[1]) - 8) + '\"}')" "$list_size" >"$repo/frontend/.bench-static.json"
trap 'rm -f "$repo/frontend/.bench-static.json"; cleanup' EXIT

cat >"$work/auth.lua" <<LUA
wrk.headers["X-Session-Id"] = "$session"
wrk.headers["Cookie"] = "$access"
LUA

run() { # label path key [script]
    local script=()
    [ -n "${4:-}" ] && script=(-s "$4")
    wrk -t2 -c"$connections" -d2s "${script[@]}" "$base$2" >/dev/null 2>&1 || true
    local out; out="$(wrk -t2 -c"$connections" -d"${duration}s" --latency "${script[@]}" "$base$2")"
    local rps p99 non2xx
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    printf '%-40s %10s req/s   p99 %8s   non-2xx %s\n' "$1" "$rps" "$p99" "${non2xx:-0}"
    echo "$rps" >"$work/$3.rps"
}

echo "catalog bench: $(nproc) cores, wrk -t2 -c$connections -d${duration}s over HTTPS; list answer $list_size bytes"
run "GET /api/health" /api/health health
run "nginx static file ($list_size bytes)" /.bench-static.json static
run "GET /api/movies/278 (warm)" /api/movies/278 movie "$work/auth.lua"
run "GET /api/list/@@tmdb_movies_popular" /api/list/@@tmdb_movies_popular list "$work/auth.lua"
python3 - "$work" <<'PY'
import pathlib, sys
w = pathlib.Path(sys.argv[1])
r = {n: float((w / f"{n}.rps").read_text()) for n in ("health", "static", "movie", "list")}
print(f"movie/health = {r['movie']/r['health']:.2f} (target >= 0.6)   list/health = {r['list']/r['health']:.2f} (target >= 0.4)"
      f"   list/static = {r['list']/r['static']:.2f}")
PY
