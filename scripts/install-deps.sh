#!/usr/bin/env bash
# Installs what building, running and testing Miauflix need on Debian 12, and nothing
# that is already there. Usage: scripts/install-deps.sh [run|demo|test|bench]
set -euo pipefail
mode="${1:-run}"

packages=(libfcgi-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev libargon2-dev
          nginx openssl curl pkg-config ca-certificates)
case "$mode" in
    test) packages+=(libfcgi-bin opentracker mktorrent ffmpeg zbar-tools librsvg2-bin chromium chromium-driver
                     pebble certbot docker-compose python3-yaml) ;;
    demo) packages+=(opentracker mktorrent ffmpeg) ;;
    bench) packages+=(libfcgi-bin wrk gcc) ;;
esac

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        echo "install-deps: add /opt/swift/usr/bin to PATH" >&2
    else
        echo "install-deps: Swift 6 is required (https://www.swift.org/install/linux/)" >&2
    fi
    exit 1
fi

if [ "$mode" = test ] || [ "$mode" = demo ]; then
    python3 -c 'import pytest, requests, jwt, cryptography, libtorrent, selenium, yaml, openapi_spec_validator, jsonschema, schemathesis
assert libtorrent.__version__ in ("2.1.1", "2.1.1.0"), libtorrent.__version__' 2>/dev/null || \
        python3 -m pip install -q --disable-pip-version-check -r Tests/EndToEnd/requirements.txt
fi
