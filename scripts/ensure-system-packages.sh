#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing.
# Runs as root on CI and on developer machines (apt-get works there); elsewhere it only reports.
set -euo pipefail

missing=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    missing+=(postgresql)
fi
for extra in "$@"; do
    case "$extra" in
        chromium) command -v chromium >/dev/null 2>&1 || missing+=(chromium) ;;
    esac
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
