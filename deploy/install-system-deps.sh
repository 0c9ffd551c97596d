#!/usr/bin/env bash
# Installs, with apt, what the Python packages can't bring: redis-server, venv support, libmagic.
set -euo pipefail
python=${1:-python3}
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
[ ${#need[@]} -eq 0 ] && exit 0
echo "Installing system packages: ${need[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
