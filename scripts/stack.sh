#!/usr/bin/env bash
# Starts and stops the Miauflix stack (nginx + `miauflix api` + `miauflix engine`) under
# DATA_DIR, with its own pid files; nothing is written outside DATA_DIR.
#
#   scripts/stack.sh start   migrate, certificate, render nginx.conf, start what is not
#                            running, wait for https://…/api/health, print URL + credentials
#   scripts/stack.sh stop    stop exactly the processes recorded in DATA_DIR/run/*.pid
#   scripts/stack.sh status  show which of them run
#   scripts/stack.sh render  only the certificate (self-signed if none) and nginx.conf, for
#                            nginx run by systemd or Docker (deploy/, docker-compose.yml)
#
# Environment: MIAUFLIX_BIN (the built binary, required) and every configuration variable
# (DATA_DIR, HTTPS_PORT, …; see README). MIAUFLIX_DEMO=1 without a TMDB token starts the
# recorded-answer server (Tests/Fixtures) as TMDB, so the catalog works out of the box.
# Safe to run twice.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${MIAUFLIX_BIN:?set MIAUFLIX_BIN to the miauflix binary}"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
: "${COOKIE_SECURE:=true}"   # nginx serves HTTPS only
export COOKIE_SECURE

# Every setting comes from the binary's one configuration (also creates DATA_DIR/secrets).
settings="$("$bin" config shell)" || { echo "stack: configuration is invalid (see above)" >&2; exit 78; }
eval "$settings"
data="$MIAUFLIX_DATA_DIR"
run="$MIAUFLIX_RUN_DIR"
logs="$data/logs"
prefix="$data/nginx"
nginx_bin="${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}"

# A pid that exists and is not a zombie (where nothing reaps, a killed daemon lingers as one).
alive() {
    [ -f "$1" ] || return 1
    local pid; pid="$(cat "$1")"
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}

wait_gone() { # pidfile deadline_seconds
    local pid; pid="$(cat "$1" 2>/dev/null || true)"
    [ -n "$pid" ] || return 0
    local end=$((SECONDS + $2))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$1"
}

start_daemon() { # name args...
    local name="$1"; shift
    if alive "$run/$name.pid"; then
        echo "stack: $name already running (pid $(cat "$run/$name.pid"))"
        return
    fi
    nohup "$bin" "$@" >>"$logs/$name.log" 2>&1 </dev/null &
    echo $! >"$run/$name.pid"
}

certificate() {
    local tls="$data/tls"
    TLS_CERT="${TLS_CERT:-$tls/cert.pem}"
    TLS_KEY="${TLS_KEY:-$tls/key.pem}"
    if [ ! -s "$TLS_CERT" ] || [ ! -s "$TLS_KEY" ]; then
        mkdir -p "$tls"
        local san="DNS:localhost,IP:127.0.0.1,IP:::1"
        if [ "$MIAUFLIX_SERVER_NAME" != "localhost" ]; then san="DNS:$MIAUFLIX_SERVER_NAME,$san"; fi
        openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 365 \
            -keyout "$TLS_KEY" -out "$TLS_CERT" -subj "/CN=$MIAUFLIX_SERVER_NAME" \
            -addext "subjectAltName=$san" >/dev/null 2>&1
        chmod 600 "$TLS_KEY"
        echo "stack: generated a self-signed certificate for $MIAUFLIX_SERVER_NAME ($TLS_CERT)"
    fi
}

# A setting that is not in `config shell` (secrets): the environment, ./.env, then
# DATA_DIR/secrets.env, the binary's own order.
setting() {
    if [ -n "${!1:-}" ]; then printf '%s' "${!1}"; return; fi
    local f
    for f in ./.env "$data/secrets.env"; do
        if [ -r "$f" ] && grep -q "^$1=" "$f"; then grep "^$1=" "$f" | tail -n 1 | cut -d= -f2- | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'$/\1/"; return; fi
    done
}

# OCSP stapling only for a certificate that names a responder (a CA-issued one; never a
# self-signed one, and Let's Encrypt dropped OCSP in 2025): nginx would only log errors.
ocsp_lines() {
    local uri issuer subject
    uri="$(openssl x509 -in "$TLS_CERT" -noout -ocsp_uri 2>/dev/null | head -n 1)"
    issuer="$(openssl x509 -in "$TLS_CERT" -noout -issuer 2>/dev/null | sed 's/^issuer=//')"
    subject="$(openssl x509 -in "$TLS_CERT" -noout -subject 2>/dev/null | sed 's/^subject=//')"
    [ -n "$uri" ] && [ "$issuer" != "$subject" ] || return 0
    local lines="ssl_stapling on;"
    local chain="${TLS_CHAIN:-$(dirname "$TLS_CERT")/chain.pem}"
    [ -s "$chain" ] && lines="$lines ssl_stapling_verify on; ssl_trusted_certificate $chain;"
    local ns; ns="$(awk '$1=="nameserver"{print $2; exit}' /etc/resolv.conf 2>/dev/null || true)"
    case "$ns" in *:*) ns="[$ns]" ;; esac
    [ -n "$ns" ] && lines="$lines resolver $ns valid=300s; resolver_timeout 5s;"
    printf '%s' "$lines"
}

# TRUSTED_PROXIES: addresses/CIDRs of a proxy in front of nginx whose X-Forwarded-For
# nginx believes (realip); empty: the TCP peer is the client.
real_ip_lines() {
    local list="${TRUSTED_PROXIES:-}" lines="" p
    [ -n "$list" ] || return 0
    for p in ${list//,/ }; do
        [[ "$p" =~ ^[0-9A-Fa-f.:/]+$ ]] || { echo "stack: TRUSTED_PROXIES: '$p' is not an address or CIDR" >&2; exit 78; }
        lines="$lines set_real_ip_from $p;"
    done
    printf '%s real_ip_header X-Forwarded-For; real_ip_recursive on;' "$lines"
}

render_nginx() {
    local proxy_secret; proxy_secret="$(setting REVERSE_PROXY_SECRET)"
    if [ -n "$proxy_secret" ] && ! [[ "$proxy_secret" =~ ^[A-Za-z0-9._~+/=-]+$ ]]; then
        echo "stack: REVERSE_PROXY_SECRET may only use letters, digits and ._~+/=- (it goes into nginx.conf)" >&2
        exit 78
    fi
    local ocsp real_ip
    ocsp="$(ocsp_lines)"
    real_ip="$(real_ip_lines)"
    mkdir -p "$prefix/conf" "$prefix/tmp" "$data/acme"
    chmod 755 "$prefix" "$prefix/conf" "$data/acme"
    cp "$here/nginx/security-headers.conf" "$here/nginx/fastcgi_params" "$prefix/conf/"
    cp /etc/nginx/mime.types "$prefix/conf/mime.types"
    # nginx's workers must reach the sockets and the frontend. As root they run as `nobody`;
    # if nobody cannot read the frontend (e.g. the clone lives under /root), run them as root.
    local user_line=""
    if [ "$(id -u)" = 0 ]; then
        if command -v runuser >/dev/null && runuser -u nobody -- test -r "$here/frontend/index.html" -a -x "$run" 2>/dev/null; then
            user_line="user nobody nogroup;"
        else
            user_line="user root;"
            echo "stack: note: nginx workers run as root because 'nobody' cannot read $here/frontend or $run" >&2
        fi
    fi
    local https_suffix=":$MIAUFLIX_HTTPS_PORT"
    [ "$MIAUFLIX_HTTPS_PORT" = 443 ] && https_suffix=""
    sed -e "s|@USER_LINE@|$user_line|g" \
        -e "s|@PREFIX@|$prefix|g" \
        -e "s|@LOG_DIR@|$logs|g" \
        -e "s|@API_SOCKET@|$MIAUFLIX_API_SOCKET|g" \
        -e "s|@ENGINE_SOCKET@|$MIAUFLIX_ENGINE_SOCKET|g" \
        -e "s|@LISTEN_ADDRESS@|$MIAUFLIX_LISTEN_ADDRESS|g" \
        -e "s|@HTTP_PORT@|$MIAUFLIX_HTTP_PORT|g" \
        -e "s|@HTTPS_PORT@|$MIAUFLIX_HTTPS_PORT|g" \
        -e "s|@HTTPS_SUFFIX@|$https_suffix|g" \
        -e "s|@SERVER_NAME@|$MIAUFLIX_SERVER_NAME|g" \
        -e "s|@TLS_CERT@|$TLS_CERT|g" \
        -e "s|@TLS_KEY@|$TLS_KEY|g" \
        -e "s|@ACME_ROOT@|$data/acme|g" \
        -e "s|@FRONTEND_ROOT@|$here/frontend|g" \
        -e "s|@NGINX_BODY_LIMIT@|$MIAUFLIX_NGINX_BODY_LIMIT|g" \
        -e "s|@API_MAX_BODY_BYTES@|$MIAUFLIX_API_MAX_BODY_BYTES|g" \
        -e "s|@AUTH_RATE@|$MIAUFLIX_AUTH_RATE|g" \
        -e "s|@AUTH_BURST@|$MIAUFLIX_AUTH_BURST|g" \
        -e "s|@STREAM_RATE@|${STREAM_RATE_LIMIT:-50}|g" \
        -e "s|@STREAM_BURST@|${STREAM_RATE_BURST:-200}|g" \
        -e "s|@OCSP_STAPLING@|        $ocsp|g" \
        -e "s|@REAL_IP@|    $real_ip|g" \
        -e "s|@PROXY_SECRET@|$proxy_secret|g" \
        "$here/nginx/nginx.conf.template" >"$prefix/conf/nginx.conf.tmp"
    # The rendered file holds the proxy secret: readable by its owner only (nginx's master
    # reads it before dropping privileges).
    chmod 600 "$prefix/conf/nginx.conf.tmp"
    mv -f "$prefix/conf/nginx.conf.tmp" "$prefix/conf/nginx.conf"
    "$nginx_bin" -t -q -p "$prefix" -c "$prefix/conf/nginx.conf" -e "$logs/nginx-error.log"
}

wait_healthy() {
    local url="https://127.0.0.1:$MIAUFLIX_HTTPS_PORT/api/health"
    local engine="https://127.0.0.1:$MIAUFLIX_HTTPS_PORT/api/stream/health"
    local end=$((SECONDS + ${STACK_START_TIMEOUT:-60}))
    until curl -fsk --max-time 2 "$url" >/dev/null 2>&1 && curl -fsk --max-time 2 "$engine" >/dev/null 2>&1; do
        if [ $SECONDS -ge $end ]; then
            echo "stack: $url did not answer; see $logs/" >&2
            tail -n 20 "$logs"/*.log >&2 || true
            return 1
        fi
        sleep 0.2
    done
}

demo_upstream() {
    [ "${MIAUFLIX_DEMO:-0}" = 1 ] || return 0
    if [ -n "${TMDB_API_ACCESS_TOKEN:-}" ]; then
        echo "stack: MIAUFLIX_DEMO ignored: a TMDB token is set"
        return 0
    fi
    if ! alive "$run/fixtures.pid"; then
        local port
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        nohup python3 "$here/Tests/Fixtures/server.py" "$here/Tests/Fixtures" "$port" >"$run/fixtures.port.tmp" 2>>"$logs/fixtures.log" </dev/null &
        echo $! >"$run/fixtures.pid"
        echo "$port" >"$run/fixtures.port"
    fi
    export TMDB_API_URL="http://127.0.0.1:$(cat "$run/fixtures.port")/tmdb/3" TMDB_API_ACCESS_TOKEN=demo
    echo "stack: demo catalog: recorded TMDB answers on port $(cat "$run/fixtures.port") (set TMDB_API_ACCESS_TOKEN for the real one)"
}

# MIAUFLIX_DEMO=1 with the demo catalog: a local swarm (opentracker + a libtorrent seeder on
# 127.0.0.2, loopback only) seeds a generated 24 s test video, attached to movie 680
# ("Alleged Ferret" in the recorded catalog), so Watch Now plays with no internet at all.
demo_swarm() {
    [ "${MIAUFLIX_DEMO:-0}" = 1 ] && [ "${TMDB_API_ACCESS_TOKEN:-}" = demo ] || return 0
    if ! alive "$run/demo-swarm.pid"; then
        rm -f "$run/demo-swarm.json"
        nohup python3 "$here/Tests/EndToEnd/swarm.py" serve --dir "$data/demo-swarm" --lifetime 31536000 \
            >"$run/demo-swarm.json" 2>>"$logs/demo-swarm.log" </dev/null &
        echo $! >"$run/demo-swarm.pid"
        local end=$((SECONDS + 180))
        until grep -q '"torrent"' "$run/demo-swarm.json" 2>/dev/null; do
            if [ $SECONDS -ge $end ] || ! alive "$run/demo-swarm.pid"; then
                echo "stack: demo seeder did not start; see $logs/demo-swarm.log" >&2
                return 1
            fi
            sleep 0.2
        done
    fi
    local torrent
    torrent="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["torrent"])' "$run/demo-swarm.json")"
    "$bin" source add --tmdb-id 680 --torrent "$torrent" --quality HD
}

cmd_start() {
    mkdir -p "$logs" "$run"
    demo_upstream
    # Migrate first: creates the database and, on a new installation, the first admin.
    local migrate_out
    migrate_out="$("$bin" migrate)"
    local admin_lines
    admin_lines="$(grep -E '^(Created initial admin user|Please change these credentials)' <<<"$migrate_out" || true)"
    [ -n "$admin_lines" ] && echo "$admin_lines"

    certificate
    render_nginx
    start_daemon api api
    start_daemon engine engine
    if alive "$prefix/nginx.pid"; then
        "$nginx_bin" -p "$prefix" -c "$prefix/conf/nginx.conf" -e "$logs/nginx-error.log" -s reload
    else
        "$nginx_bin" -p "$prefix" -c "$prefix/conf/nginx.conf" -e "$logs/nginx-error.log"
    fi
    wait_healthy
    demo_swarm

    local host="$MIAUFLIX_SERVER_NAME"
    local port_part=":$MIAUFLIX_HTTPS_PORT"; [ "$MIAUFLIX_HTTPS_PORT" = 443 ] && port_part=""
    echo
    echo "Miauflix is running: https://$host$port_part/"
    if [ -n "$admin_lines" ]; then
        echo "Admin credentials (shown only on this first start):"
        echo "$admin_lines" | sed -n 's/^Created initial admin user with email: \(.*\) and password: \(.*\)$/  e-mail:   \1\n  password: \2/p'
    else
        echo "Admin account(s): $("$bin" user list | awk '$2=="admin"{print $1}' | paste -sd, -)"
        echo "  (password shown on first start; reset with: $bin user reset-password <e-mail>)"
    fi
    echo "Logs: $logs/   Data: $data/   Stop: make stop"
}

cmd_stop() {
    [ -f "$run/api.pid" ] && kill -TERM "$(cat "$run/api.pid")" 2>/dev/null || true
    [ -f "$run/engine.pid" ] && kill -TERM "$(cat "$run/engine.pid")" 2>/dev/null || true
    if alive "$prefix/nginx.pid"; then kill -QUIT "$(cat "$prefix/nginx.pid")" 2>/dev/null || true; fi
    if alive "$run/fixtures.pid"; then kill "$(cat "$run/fixtures.pid")" 2>/dev/null || true; fi
    rm -f "$run/fixtures.pid"
    if alive "$run/demo-swarm.pid"; then kill -TERM "$(cat "$run/demo-swarm.pid")" 2>/dev/null || true; fi
    wait_gone "$run/demo-swarm.pid" 15
    local drain=$((MIAUFLIX_API_DRAIN_SECONDS + 5))
    wait_gone "$run/api.pid" "$drain"
    wait_gone "$run/engine.pid" 15
    wait_gone "$prefix/nginx.pid" 10
    echo "stack: stopped"
}

cmd_status() {
    local rc=0
    for f in "$run/api.pid" "$run/engine.pid" "$prefix/nginx.pid"; do
        if alive "$f"; then echo "running  $(basename "$f" .pid) pid $(cat "$f")"; else echo "stopped  $(basename "$f" .pid)"; rc=1; fi
    done
    return $rc
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    render) mkdir -p "$logs" "$run"; certificate; render_nginx; echo "stack: rendered $prefix/conf/nginx.conf" ;;
    *) echo "usage: $0 start|stop|status|render" >&2; exit 2 ;;
esac
