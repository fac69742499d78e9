#!/usr/bin/env bash
# The install paths for users without Rust, exercised on this machine (Linux x86_64)
# with the release binary .ci/run already built:
#
# 1. The Claude Desktop bundle: pack it with the pinned mcpb CLI (validate, pack), unpack
#    it into a temporary folder, drop the binary's mode to 0600 (as Claude Desktop on
#    macOS does, mcpb issue 294), resolve the manifest's mcp_config with the resolver the
#    mcpb package exports (user left every field empty; user picked a folder; and the
#    win32 override), start it through the launcher and run initialize, tools/list and a
#    query with the MCP Python SDK.
# 2. The wheel (PyPI `m4-duckdb`): maturin builds it from the same crate, profile and
#    features as `cargo build --release`, reusing CARGO_TARGET_DIR (no second DuckDB
#    compile); it is installed into a fresh venv and with `uv tool install`, and m4 runs
#    from there: --version, init, query, config claude (the installed binary's absolute
#    path), doctor.
#
# Usage: packaging/ci-smoke.sh M4_BINARY     (needs M4_E2E_PYTHON with `mcp`, see .ci/run)
# Installs under $HOME/.cache only (and packaging/node_modules, git-ignored).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
binary=${1:?usage: packaging/ci-smoke.sh M4_BINARY}
python=${M4_E2E_PYTHON:-python3}
cache="$HOME/.cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }
check() { # $1: label, then the command
  local label=$1
  shift
  if "$@" > "$work/check.out" 2>&1; then pass "$label"; else fail "$label"; sed 's/^/    | /' "$work/check.out" | tail -n 40; fi
}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)

echo "== packaging: npm (pinned @anthropic-ai/mcpb)"
npm ci --prefix "$here" --no-audit --no-fund > "$work/npm.log" 2>&1 || { cat "$work/npm.log"; exit 1; }
mcpb="$here/node_modules/.bin/mcpb"

echo "== bundle: validate and pack"
check "bundle: mcpb validate packaging/manifest.json" "$mcpb" validate "$here/manifest.json"
node "$here/pack.mjs" --os linux --arch x64 --binary "$binary" --out "$work/dist" > "$work/pack.log" 2>&1 \
  || { cat "$work/pack.log"; exit 1; }
bundle="$work/dist/m4-$version-linux-x64.mcpb"
check "bundle: pack wrote m4-$version-linux-x64.mcpb" test -s "$bundle"
echo "    bundle size: $(stat -c %s "$bundle") bytes ($(du -h "$bundle" | cut -f1))"

echo "== bundle: unpack, binary at 0600, start through the launcher"
"$mcpb" unpack "$bundle" "$work/ext" > /dev/null
chmod 0600 "$work/ext/server/m4"
check "bundle: the unpacked binary starts at mode 0600" test "$(stat -c %a "$work/ext/server/m4")" = 600
host_env=("PATH=$PATH" "HOME=$work/home" "XDG_DATA_HOME=$work/home/.local/share" "XDG_CONFIG_HOME=$work/home/.config")
mkdir -p "$work/home"

node "$here/resolve.mjs" "$work/ext" '{}' > "$work/empty.json"
check "bundle: resolved command is /bin/sh + launcher + serve" "$python" -c '
import json, sys; c = json.load(open(sys.argv[1]))
assert c["command"] == "/bin/sh", c
assert c["args"] == [sys.argv[2] + "/server/launch.sh", "serve"], c' "$work/empty.json" "$work/ext"
check "bundle: user left every field empty: m4 answers, data in its per-user folder" \
  "$python" "$here/bundle_client.py" "$work/empty.json" "$work/home/.local/share/m4" "${host_env[@]}"
check "bundle: the launcher made the binary executable" test -x "$work/ext/server/m4"

chmod 0600 "$work/ext/server/m4"
mkdir -p "$work/picked data"
node "$here/resolve.mjs" "$work/ext" "{\"data_dir\": \"$work/picked data\", \"dataset\": \"synthetic\"}" > "$work/picked.json"
check "bundle: user picked a data folder: m4 answers, data in that folder" \
  "$python" "$here/bundle_client.py" "$work/picked.json" "$work/picked data" "${host_env[@]}"

node "$here/resolve.mjs" "$work/ext" '{"data_dir": "C:\\data"}' --platform win32 > "$work/win32.json"
check "bundle: on win32 the host runs server/m4.exe serve with the same env" "$python" -c '
import json, sys; c = json.load(open(sys.argv[1]))
assert c["command"] == sys.argv[2] + "/server/m4.exe" and c["args"] == ["serve"], c
assert c["env"]["M4_DATA_DIR"] == "C:\\data", c' "$work/win32.json" "$work/ext"

echo "== wheel: maturin build (release profile, CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-<default>})"
tools="$cache/m4-packaging-venv"
python3 -m venv "$tools"
"$tools/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
start=$(date +%s)
(cd "$root" && "$tools/bin/maturin" build --release --out "$work/wheels" > "$work/maturin.log" 2>&1) \
  || { tail -n 60 "$work/maturin.log"; exit 1; }
if grep -q "Compiling libduckdb-sys" "$work/maturin.log"; then
  fail "wheel: maturin reused the compiled DuckDB (it recompiled libduckdb-sys)"
else
  pass "wheel: maturin reused the compiled DuckDB ($(($(date +%s) - start)) s)"
fi
wheel=$(ls "$work"/wheels/m4_duckdb-"$version"-*.whl)
echo "    wheel: $(basename "$wheel"), $(stat -c %s "$wheel") bytes ($(du -h "$wheel" | cut -f1))"

echo "== wheel: a fresh venv, then m4 from it"
venv="$cache/m4-wheel-venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-index "$wheel"
m4="$venv/bin/m4"
check "wheel: holds m4 and the m4-duckdb launcher" test -x "$venv/bin/m4-duckdb"
check "wheel: m4 --version names m4 $version, DuckDB and the engines" bash -c \
  "'$m4' --version | tee /dev/stderr | grep -q '^m4 $version\$' && '$m4' --version | grep -q '^DuckDB v' && '$m4' --version | grep -q '^engines: duckdb'"
data="$work/wheel-data"
check "wheel: m4 init synthetic" env M4_DATA_DIR="$data" "$m4" init synthetic
check "wheel: m4 query" bash -c \
  "M4_DATA_DIR='$data' '$m4' query 'SELECT count(*) AS n FROM mimiciv_hosp.patients' | tee /dev/stderr | grep -q '| n |'"
check "wheel: m4 config claude writes the installed binary's absolute path" bash -c "
  HOME='$work/home' '$m4' config claude --config-file '$work/claude.json' >/dev/null &&
  '$python' -c 'import json,os,sys; c=json.load(open(sys.argv[1]))[\"mcpServers\"][\"m4\"][\"command\"]; print(c);
assert c == os.path.realpath(sys.argv[2]) and os.access(c, os.X_OK), c' '$work/claude.json' '$m4'"
check "wheel: m4 doctor finds the entry it wrote and reports this binary" bash -c "
  mkdir -p '$work/home/.config/Claude' && cp '$work/claude.json' '$work/home/.config/Claude/claude_desktop_config.json' &&
  cd '$work' && HOME='$work/home' XDG_CONFIG_HOME='$work/home/.config' M4_DATA_DIR='$data' '$m4' doctor --json > '$work/doctor.json';
  '$python' -c 'import json,sys; r=json.load(open(sys.argv[1])); e=[e for c in r[\"clients\"] for e in c[\"entries\"]];
assert len(e)==1 and e[0][\"is_this_binary\"] and e[0][\"ok\"], e' '$work/doctor.json'"

echo "== wheel: uv tool install (the README's command), offline from the built wheel"
export UV_TOOL_DIR="$work/uv-tools" UV_TOOL_BIN_DIR="$work/uv-bin" UV_CACHE_DIR="$cache/m4-uv-cache" UV_PYTHON_DOWNLOADS=never
check "uv tool install m4-duckdb (from the wheel)" "$tools/bin/uv" tool install --offline --python "$(command -v python3)" "$wheel"
check "uv tool: m4 --version from the tool's bin folder" bash -c "'$work/uv-bin/m4' --version | grep -q '^m4 $version\$'"
check "uv tool: m4 config claude writes a path that exists after the symlink" bash -c "
  HOME='$work/home' '$work/uv-bin/m4' config claude --config-file '$work/claude-uv.json' >/dev/null &&
  '$python' -c 'import json,os,sys; c=json.load(open(sys.argv[1]))[\"mcpServers\"][\"m4\"][\"command\"]; print(c);
assert os.path.isabs(c) and os.access(c, os.X_OK) and c == os.path.realpath(sys.argv[2]), c' '$work/claude-uv.json' '$work/uv-bin/m4'"

check "uvx m4-duckdb (the MCP registry's PyPI entry) runs m4 through the m4-duckdb launcher" bash -c \
  "'$tools/bin/uvx' --offline --no-index --find-links '$work/wheels' --python '$(command -v python3)' m4-duckdb --version | grep -q '^m4 $version\$'"

echo "packaging: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
