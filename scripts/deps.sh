#!/bin/sh
# Installs the Debian packages hearth needs to build and test, if any are missing.
# Prints the exact apt line and stops when not root, so nothing happens behind the user's back.
set -eu
PKGS="build-essential pkg-config libsqlite3-dev libpcre2-dev libutf8proc-dev libjansson-dev \
libcurl4-openssl-dev libmicrohttpd-dev libyaml-dev libxml2-dev libpoppler-glib-dev libcmocka-dev"
[ "${1:-}" = "--check" ] && CHECK_EXTRA="valgrind" || CHECK_EXTRA=""
missing=""
for p in $PKGS $CHECK_EXTRA; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "hearth: missing Debian packages:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "hearth: run as root:  apt-get install -y$missing" >&2
    exit 1
fi
echo "hearth: apt-get install -y$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q$missing >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 || true; apt-get install -y -q$missing; }
