#!/usr/bin/env bash
# certbot deploy hook: installs the certificate certbot just obtained or renewed
# ($RENEWED_LINEAGE) into DATA_DIR/tls (cert.pem = full chain, key.pem, chain.pem) and
# reloads nginx gracefully (SIGHUP: new workers take the new certificate, old workers
# finish the requests and streams they hold; no connection is dropped).
#
#   certbot … --deploy-hook "certbot/deploy-hook.sh /var/lib/miauflix"
#   RENEWED_LINEAGE=/etc/letsencrypt/live/miauflix certbot/deploy-hook.sh DATA_DIR   (by hand)
#
# The new files are checked (key matches certificate, nginx -t) before they replace the
# old ones; on a failure the old certificate stays in place and the hook exits non-zero.
set -euo pipefail
data="${1:-${DATA_DIR:-./data}}"
data="$(cd "$data" && pwd)"
lineage="${RENEWED_LINEAGE:?RENEWED_LINEAGE is not set (certbot sets it for deploy hooks)}"
tls="$data/tls"
prefix="$data/nginx"
nginx_bin="${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}"

for f in fullchain.pem privkey.pem; do
    [ -s "$lineage/$f" ] || { echo "deploy-hook: $lineage/$f is missing" >&2; exit 66; }
done
cert_key="$(openssl x509 -in "$lineage/fullchain.pem" -noout -pubkey | openssl sha256)"
key_key="$(openssl pkey -in "$lineage/privkey.pem" -pubout | openssl sha256)"
[ "$cert_key" = "$key_key" ] || { echo "deploy-hook: the key does not match the certificate" >&2; exit 65; }

mkdir -p "$tls"
umask 077
cp "$lineage/fullchain.pem" "$tls/.cert.pem.new"
cp "$lineage/privkey.pem" "$tls/.key.pem.new"
if [ -s "$lineage/chain.pem" ]; then cp "$lineage/chain.pem" "$tls/.chain.pem.new"; fi
chmod 644 "$tls/.cert.pem.new"; chmod 600 "$tls/.key.pem.new"
[ -f "$tls/.chain.pem.new" ] && chmod 644 "$tls/.chain.pem.new"
# certbot runs as root; nginx may run as the owner of DATA_DIR (the systemd units: miauflix).
if [ "$(id -u)" = 0 ]; then chown --reference="$tls" "$tls"/.*.pem.new; fi

# Keep the current files to restore if nginx refuses the new ones.
for f in cert.pem key.pem chain.pem; do
    if [ -f "$tls/$f" ]; then cp -p "$tls/$f" "$tls/.$f.old"; fi
done
# Each rename is atomic: nginx (or anyone) sees the old file or the new one, never half.
mv -f "$tls/.key.pem.new" "$tls/key.pem"
mv -f "$tls/.cert.pem.new" "$tls/cert.pem"
if [ -f "$tls/.chain.pem.new" ]; then mv -f "$tls/.chain.pem.new" "$tls/chain.pem"; fi

restore() {
    for f in cert.pem key.pem chain.pem; do
        if [ -f "$tls/.$f.old" ]; then mv -f "$tls/.$f.old" "$tls/$f"; fi
    done
}

conf="$prefix/conf/nginx.conf"
pidfile="$prefix/nginx.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    # nginx of `make run` or of the systemd unit (both use the prefix DATA_DIR/nginx).
    if ! "$nginx_bin" -t -q -p "$prefix" -c "$conf" -e "$data/logs/nginx-error.log"; then
        restore
        echo "deploy-hook: nginx refuses the new certificate; the old one stays" >&2
        exit 1
    fi
    kill -HUP "$(cat "$pidfile")"
    echo "deploy-hook: installed $(openssl x509 -in "$tls/cert.pem" -noout -serial) for ${RENEWED_DOMAINS:-?}; nginx reloaded"
elif [ -n "${NGINX_RELOAD_COMMAND:-}" ]; then
    sh -c "$NGINX_RELOAD_COMMAND"
    echo "deploy-hook: installed; ran NGINX_RELOAD_COMMAND"
else
    # Docker: nginx runs in another container and reloads when cert.pem changes
    # (docker-compose.yml); or nginx is not running yet and will load it on start.
    echo "deploy-hook: installed into $tls (no nginx running here to reload)"
fi
rm -f "$tls"/.*.old
