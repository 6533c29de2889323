#!/usr/bin/env bash
# Obtains a certificate for the configured domain(s) with certbot's webroot plugin and
# installs it (deploy-hook.sh: into DATA_DIR/tls, then a graceful nginx reload).
#
#   DOMAINS=miauflix.example.org[,www.…] LETSENCRYPT_EMAIL=you@example.org certbot/obtain.sh
#
# nginx must already run (scripts/stack.sh start, the systemd units or docker compose) and
# answer http://<domain>/.well-known/acme-challenge/ from DATA_DIR/acme on port 80: that
# is where the CA checks that the domain is ours. Extra arguments go to certbot.
# Environment: DOMAINS (default SERVER_NAME), LETSENCRYPT_EMAIL (none: registered without
# one), DATA_DIR, CERTBOT_DIR, ACME_SERVER / ACME_STAGING=1 (see common.sh).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

domains="${DOMAINS:-${SERVER_NAME:-}}"
if [ -z "$domains" ] || [ "$domains" = localhost ]; then
    echo "obtain: set DOMAINS (or SERVER_NAME) to the public name(s) of this server" >&2
    exit 64
fi
command -v certbot >/dev/null || { echo "obtain: certbot is not installed (apt-get install certbot)" >&2; exit 69; }

domain_args=()
for d in ${domains//,/ }; do domain_args+=(-d "$d"); done
email_args=(--register-unsafely-without-email)
[ -n "${LETSENCRYPT_EMAIL:-}" ] && email_args=(--email "$LETSENCRYPT_EMAIL")

mkdir -p "$webroot/.well-known/acme-challenge"
chmod 755 "$webroot" "$webroot/.well-known" "$webroot/.well-known/acme-challenge"

# --cert-name: a stable lineage name, so renewals and re-runs update the same certificate.
exec certbot certonly --non-interactive --agree-tos "${email_args[@]}" \
    "${certbot_dirs[@]}" "${server_args[@]}" \
    --webroot -w "$webroot" "${domain_args[@]}" \
    --cert-name "${CERT_NAME:-miauflix}" --keep-until-expiring --expand \
    --deploy-hook "$(deploy_hook)" "$@"
