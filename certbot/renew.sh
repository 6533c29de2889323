#!/usr/bin/env bash
# Renews the certificate(s) due within 30 days (certbot decides; a no-op otherwise). Each
# renewal runs the stored deploy hook: install + graceful nginx reload.
#
#   certbot/renew.sh            once (the systemd timer deploy/systemd/miauflix-certbot.timer)
#   certbot/renew.sh --loop     every RENEW_INTERVAL seconds (default 12 h) with a random
#                               delay, forever (the docker-compose certbot service)
# Extra arguments go to `certbot renew` (e.g. --force-renewal, --dry-run; run by hand
# without a terminal, certbot first sleeps up to 8 minutes unless --no-random-sleep-on-renew).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

renew() { certbot renew --non-interactive "${certbot_dirs[@]}" "$@"; }

if [ "${1:-}" = --loop ]; then
    shift
    trap 'exit 0' TERM INT
    while :; do
        renew --quiet --no-random-sleep-on-renew "$@" || echo "renew: certbot renew failed; retrying at the next round" >&2
        sleep $(( ${RENEW_INTERVAL:-43200} + RANDOM % 600 )) & wait $!
    done
fi
renew "$@"
