#!/usr/bin/env bash
# Installs the web app's browser libraries from the npm registry (exact versions from
# src/calsync/web/frontend/package-lock.json) and copies the files the pages load into
# src/calsync/web/static/vendor/. The pages never load anything from a CDN.
#
# The copied files are committed, so `make demo` and `make test` work without npm; run this
# script after changing the pinned versions in package.json, then commit the result.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
frontend="$root/src/calsync/web/frontend"
vendor="$root/src/calsync/web/static/vendor"

if ! command -v npm >/dev/null 2>&1; then
    echo "npm is needed to rebuild the vendor files (apt-get install -y npm)" >&2
    exit 1
fi

(cd "$frontend" && npm ci --no-audit --no-fund --silent)

mkdir -p "$vendor/fullcalendar"
cp "$frontend/node_modules/fullcalendar/index.global.min.js" "$vendor/fullcalendar/index.global.min.js"
cp "$frontend/node_modules/fullcalendar/LICENSE.md" "$vendor/fullcalendar/LICENSE.md"
version="$(cd "$frontend" && node -p 'require("fullcalendar/package.json").version')"
echo "$version" > "$vendor/fullcalendar/VERSION"
echo "FullCalendar $version copied to ${vendor#"$root"/}/fullcalendar"
