# Shared by the certbot/ scripts (sourced, not run). Resolves where things live:
#   DATA_DIR      Miauflix's data directory (default ./data, as the binary): the webroot for
#                 http-01 challenges is DATA_DIR/acme, the installed certificate DATA_DIR/tls/
#   CERTBOT_DIR   certbot's own state; unset: certbot's defaults (/etc/letsencrypt, …),
#                 set: CERTBOT_DIR/{config,work,logs} (tests, non-root installs)
#   ACME_SERVER   the ACME directory URL (default Let's Encrypt; ACME_STAGING=1: its staging)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="$(mkdir -p "${DATA_DIR:-./data}" && cd "${DATA_DIR:-./data}" && pwd)"
webroot="$data/acme"
tls="$data/tls"

certbot_dirs=()
if [ -n "${CERTBOT_DIR:-}" ]; then
    mkdir -p "$CERTBOT_DIR"
    CERTBOT_DIR="$(cd "$CERTBOT_DIR" && pwd)"
    certbot_dirs=(--config-dir "$CERTBOT_DIR/config" --work-dir "$CERTBOT_DIR/work" --logs-dir "$CERTBOT_DIR/logs")
fi
server_args=()
if [ -n "${ACME_SERVER:-}" ]; then
    server_args=(--server "$ACME_SERVER")
elif [ "${ACME_STAGING:-0}" = 1 ]; then
    server_args=(--server https://acme-staging-v02.api.letsencrypt.org/directory)
fi

# The hook certbot stores in the renewal configuration: it must work from cron/systemd
# without this environment, so the data directory is an argument.
deploy_hook() { printf '%q %q' "$here/deploy-hook.sh" "$data"; }
