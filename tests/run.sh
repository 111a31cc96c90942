#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the suite needs and runs it.
#   - Debian packages the tests use (as root, or through sudo);
#   - a virtual environment in .venv with geoplan and its test extras;
#   - ruff, then pytest (arguments are passed on to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(
  gdal-bin chromium chromium-driver fonts-noto-cjk postgresql postgresql-15-postgis-3
  python3-qgis qgis-providers libreoffice-calc libreoffice-writer cmark-gfm poppler-utils
)

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

.venv/bin/ruff check .
.venv/bin/ruff format --check --quiet .
.venv/bin/python -m pytest "$@"
