#!/usr/bin/env bash
# Make benchmarks/peers/.venv: the pinned peers (requirements.txt, constraints.txt) and
# this library, installed from this checkout (editable, so the figures follow the code).
# The project's own environment is never touched.  Not run in continuous integration.
#
#   bash benchmarks/peers/setup.sh          # PYTHON=python3.12 to choose the interpreter
#   benchmarks/peers/.venv/bin/python benchmarks/peers/run_peers.py
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
"$python" -m venv "$here/.venv"
venv_python="$here/.venv/bin/python"
"$venv_python" -m pip install --quiet --upgrade pip
"$venv_python" -m pip install --quiet \
    -r "$here/requirements.txt" -c "$here/constraints.txt" -e "$root"
"$venv_python" - <<'PY'
import importlib.metadata as m
print("installed:", ", ".join(f"{n} {m.version(n)}" for n in ("strategy-experiments", "mlflow", "sacred")))
PY
echo "run: $venv_python $here/run_peers.py"
