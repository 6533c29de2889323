#!/usr/bin/env bash
# A self-signed certificate for a machine without a public name (home server, LAN): browsers
# ask once to accept it. Replaces DATA_DIR/tls/{cert,key}.pem and reloads nginx if it runs.
#
#   certbot/self-signed.sh [name ...]     (default: SERVER_NAME, else the host name)
# localhost, 127.0.0.1 and ::1 are always included; names that look like IPs become IP SANs.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${SERVER_NAME:-$(hostname -f 2>/dev/null || hostname)}")
san=""
for n in "${names[@]}" localhost 127.0.0.1 ::1; do
    if [[ "$n" =~ ^[0-9.]+$ || "$n" == *:* ]]; then entry="IP:$n"; else entry="DNS:$n"; fi
    case ",$san," in *",$entry,"*) continue ;; esac
    san="${san:+$san,}$entry"
done

mkdir -p "$tls"
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "${SELF_SIGNED_DAYS:-825}" \
    -keyout "$tls/.key.pem.new" -out "$tls/.cert.pem.new" -subj "/CN=${names[0]}" \
    -addext "subjectAltName=$san" -addext "basicConstraints=critical,CA:FALSE" \
    -addext "extendedKeyUsage=serverAuth" >/dev/null 2>&1
chmod 644 "$tls/.cert.pem.new"
mv -f "$tls/.key.pem.new" "$tls/key.pem"
mv -f "$tls/.cert.pem.new" "$tls/cert.pem"
rm -f "$tls/chain.pem"
echo "self-signed: $tls/cert.pem for $san (valid ${SELF_SIGNED_DAYS:-825} days)"
echo "  SHA-256 fingerprint: $(openssl x509 -in "$tls/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)"
pid="$data/nginx/nginx.pid"
if [ -f "$pid" ] && kill -0 "$(cat "$pid")" 2>/dev/null; then kill -HUP "$(cat "$pid")"; echo "  nginx reloaded"; fi
