#!/usr/bin/env bash
# Installs, with apt, what the Python packages can't bring: redis-server, venv support, libmagic.
# --with-browser (make test-deps) adds Chromium, which only the operator page's browser test needs.
# --with-bench (make bench) adds wrk, the HTTP load generator of the webhook ingest benchmark.
set -euo pipefail
python=python3
with_browser=false
with_bench=false
for arg in "$@"; do
  case "$arg" in
    --with-browser) with_browser=true ;;
    --with-bench) with_bench=true ;;
    *) python=${arg:-$python} ;;
  esac
done
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if ! command -v "$python" >/dev/null 2>&1; then
  need+=(python3 python3-venv)
elif ! "$python" -c "import ensurepip, venv" >/dev/null 2>&1; then
  need+=(python3-venv)
fi
# neonize imports python-magic, which loads libmagic at import time.
if command -v "$python" >/dev/null 2>&1 && [ -z "$("$python" -c 'import ctypes.util; print(ctypes.util.find_library("magic") or "")')" ]; then
  need+=(libmagic1)
fi
# Playwright drives Debian's own build: its bundled browsers are downloaded from a CDN, not a package registry.
if $with_browser && [ ! -x /usr/bin/chromium ]; then
  need+=(chromium)
fi
if $with_bench && ! command -v wrk >/dev/null 2>&1; then
  need+=(wrk)
fi
[ ${#need[@]} -eq 0 ] && exit 0
echo "Installing system packages: ${need[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
