#!/usr/bin/env bash
# Side-by-side benchmark of the API path (issue 2), all behind the same nginx over HTTPS:
#   (a) nginx serving a static JSON file of the same size  — the ceiling
#   (b) a bare C libfcgi app answering the same JSON        — the FastCGI floor
#   (c) miauflix GET /api/health                             — us
# Prints req/s and p50/p99 for each and the ratios c/a and c/b. Target: c/b >= 0.95 with
# p99 < 15 ms at 64 connections. Usage: bench/api-floor.sh [seconds] [connections]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
duration="${1:-10}"
connections="${2:-64}"
bin="${MIAUFLIX_BIN:-$repo/.build/release/miauflix}"
work="$(mktemp -d /tmp/miauflix-bench-XXXXXX)"
chmod 755 "$work"
pids=()
cleanup() {
    for p in "${pids[@]}"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
    [ -f "$work/nginx/nginx.pid" ] && kill -QUIT "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
    sleep 0.5
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
threads="${API_THREADS:-4}"
workers="${API_WORKERS:-$(nproc)}"

mkdir -p "$work/bin" "$work/nginx/tmp" "$work/nginx/www/static" "$work/data"
gcc -O2 -Wall -o "$work/bin/hello-fcgi" "$repo/bench/hello-fcgi.c" -lfcgi -lpthread
printf '{"status":"ok"}' >"$work/nginx/www/static/health.json"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 2 \
    -subj /CN=localhost >/dev/null 2>&1

# (b): the same shape as our pool: $workers processes x $threads threads on one socket.
"$work/bin/hello-fcgi" "$work/c.sock" "$threads" "$workers" & pids+=($!)
for _ in $(seq 1 50); do [ -S "$work/c.sock" ] && break; sleep 0.1; done
# (c)
DATA_DIR="$work/data" API_WORKERS="$workers" API_THREADS="$threads" API_SOCKET="$work/api.sock" LOG_LEVEL=warning RATE_LIMIT_TEST_MODE=true \
    "$bin" api >"$work/api.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do [ -S "$work/api.sock" ] && break; sleep 0.1; done

sed -e "s|@PREFIX@|$work/nginx|g" -e "s|@C_SOCKET@|$work/c.sock|g" -e "s|@API_SOCKET@|$work/api.sock|g" \
    -e "s|@PORT@|$port|g" -e "s|@CERT@|$work/cert.pem|g" -e "s|@KEY@|$work/key.pem|g" -e "s|@REPO@|$repo|g" \
    "$repo/bench/nginx-bench.conf.template" >"$work/nginx/nginx.conf"
[ "$(id -u)" = 0 ] && sed -i '1i user root;' "$work/nginx/nginx.conf"
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log"

base="https://127.0.0.1:$port"
for path in /static/health.json /c/health /api/health; do
    body="$(curl -sk "$base$path")"
    [ "$body" = '{"status":"ok"}' ] || { echo "bench: $path answered $body" >&2; exit 1; }
done

cpu_ticks() { # pids... -> utime+stime of them and their children (the pool's workers)
    local total=0 pid
    for pid in "$@" $(for p in "$@"; do pgrep -P "$p" || true; done); do
        [ -r "/proc/$pid/stat" ] || continue
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$total"
}

run() { # path app-pid -> "rps p50ms p99ms app-us-per-request"
    wrk -t2 -c"$connections" -d2s "$base$1" >/dev/null 2>&1 || true   # warm-up
    local before; before=$(cpu_ticks $2)
    local out; out="$(wrk -t2 -c"$connections" -d"${duration}s" --latency "$base$1")"
    local after; after=$(cpu_ticks $2)
    local requests; requests=$(awk '/requests in/ {print $1}' <<<"$out")
    local cpu_us; cpu_us=$(python3 -c "import os,sys; print(round((int(sys.argv[2])-int(sys.argv[1]))*1e6/os.sysconf('SC_CLK_TCK')/max(1,int(sys.argv[3])),1))" "$before" "$after" "$requests")
    local rps p50 p99
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    local errors; errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
    echo "$rps $(ms "$p50") $(ms "$p99") $cpu_us ${errors:-}"
}
ms() { # wrk latency (us/ms/s) -> ms
    python3 -c "import re,sys; n,u=re.fullmatch(r'([0-9.]+)(us|ms|s)',sys.argv[1]).groups(); print(round(float(n)*{'us':0.001,'ms':1,'s':1000}[u],2))" "$1"
}

echo "api-floor: $(nproc) cores, $workers workers x $threads threads, wrk -t2 -c$connections -d${duration}s over HTTPS"
read -r a_rps a_p50 a_p99 a_cpu a_err <<<"$(run /static/health.json "$(cat "$work/nginx/nginx.pid")")"
read -r b_rps b_p50 b_p99 b_cpu b_err <<<"$(run /c/health "${pids[0]}")"
read -r c_rps c_p50 c_p99 c_cpu c_err <<<"$(run /api/health "${pids[1]}")"
printf '%-28s %10s %9s %9s %12s\n' "" "req/s" "p50 ms" "p99 ms" "app µs/req"
printf '%-28s %10s %9s %9s %12s %s\n' "(a) nginx static file" "$a_rps" "$a_p50" "$a_p99" "(nginx $a_cpu)" "${a_err:-}"
printf '%-28s %10s %9s %9s %12s %s\n' "(b) C libfcgi floor" "$b_rps" "$b_p50" "$b_p99" "$b_cpu" "${b_err:-}"
printf '%-28s %10s %9s %9s %12s %s\n' "(c) miauflix /api/health" "$c_rps" "$c_p50" "$c_p99" "$c_cpu" "${c_err:-}"
python3 - "$a_rps" "$b_rps" "$c_rps" "$c_p99" "$b_cpu" "$c_cpu" <<'PY'
import sys
a, b, c, p99, bcpu, ccpu = map(float, sys.argv[1:])
print(f"c/a = {c/a:.2f}   c/b = {c/b:.2f}   app CPU per request c/b = {ccpu/max(bcpu,0.1):.2f}")
print(f"target c/b >= 0.95 with p99 < 15 ms: {'met' if c/b >= 0.95 and p99 < 15 else 'NOT met'}"
      " (req/s swing ±20% between runs on a shared 2-core machine; the CPU column is steadier)")
PY
