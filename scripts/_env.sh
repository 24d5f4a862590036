# Shared by scripts/run-hub and scripts/test: a project-local virtualenv with the pinned set,
# installed again only when requirements.txt or pyproject.toml change.
# shellcheck shell=bash
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
PYTHON_BIN="${PYTHON:-python3.11}"

ensure_venv() {
  if ! command -v "$PYTHON_BIN" >/dev/null 2>&1; then
    PYTHON_BIN=python3
  fi
  "$PYTHON_BIN" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || { echo "Python 3.11 is required (found $("$PYTHON_BIN" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2; exit 2; }
  [ -x "$VENV/bin/python" ] || "$PYTHON_BIN" -m venv "$VENV"
  local stamp="$VENV/.domiland-installed" want
  want="$(cat "$REPO/requirements.txt" "$REPO/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "==> installing the pinned requirements into .venv (first run takes a minute)"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -r "$REPO/requirements.txt"
    "$VENV/bin/python" -m pip install --quiet --no-deps -e "$REPO"
    echo "$want" > "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
}

# Airflow settings shared by the hub's processes; AIRFLOW_HOME and DOMILAND_STATE_DIR come from the caller.
airflow_env() {
  export AIRFLOW__CORE__DAGS_FOLDER="$REPO/dags"
  export AIRFLOW__CORE__PLUGINS_FOLDER="$REPO/plugins"
  export AIRFLOW__CORE__LOAD_EXAMPLES=False
}
