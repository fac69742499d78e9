#!/usr/bin/env bash
# End-to-end proof with real MCP clients: drives the built m4 binary over stdio with
# the official MCP Python SDK (PyPI `mcp`) and the MCP Inspector CLI (npm
# `@modelcontextprotocol/inspector`, with `--strict` tool-schema checks): initialize,
# tools/list, and a tools/call of every tool, each answer checked. Once with auth off;
# then, when tests/oidc/ is installed, with auth on against its local OpenID provider
# (valid token: everything works; no token, other audience, missing scope: refused),
# and the team server (`m4 serve --http`) with both clients and the SDK's OAuth sign-in.
#
# This script installs nothing. Before it runs, .ci/run does (from the repo root):
#   npm ci --prefix tests/e2e --no-audit --no-fund
#   python3 -m venv "$VENV" && "$VENV/bin/pip" install -r tests/e2e/requirements.txt
#   export M4_E2E_PYTHON="$VENV/bin/python"      # default: python3 (must have `mcp`)
# Node >= 20 and Python >= 3.10.
#
# Usage: tests/e2e/run.sh M4_BINARY [DATA_DIR]
#   DATA_DIR: a data folder with an initialised data set. Default: a temporary
#   folder in which `m4 init synthetic` builds the synthetic data set.
# Prints one PASS/FAIL line per check and ends with `N passed, M failed`; exits 1
# if any check failed, 2 on bad usage.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
python=${M4_E2E_PYTHON:-python3}
# Nothing from the caller's shell may change what the server does (auth, limits,
# data set): each pass passes its own M4_* variables explicitly.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^M4_' || true)

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 M4_BINARY [DATA_DIR]" >&2
  exit 2
fi
binary=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
if [ ! -x "$binary" ]; then
  echo "error: \`$1\` is not an executable m4 binary" >&2
  echo "hint: build it with \`cargo build --release\` and pass its path" >&2
  exit 2
fi
if [ ! -d "$here/node_modules/@modelcontextprotocol/inspector" ]; then
  echo "error: the MCP Inspector is not installed in \`$here/node_modules\`" >&2
  echo "hint: npm ci --prefix tests/e2e --no-audit --no-fund" >&2
  exit 2
fi
if ! "$python" -c 'import mcp' 2>/dev/null; then
  echo "error: \`$python\` cannot import the MCP Python SDK (\`mcp\`)" >&2
  echo "hint: python3 -m venv VENV && VENV/bin/pip install -r tests/e2e/requirements.txt, then M4_E2E_PYTHON=VENV/bin/python" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ $# -eq 2 ]; then
  data_dir=$(cd "$2" && pwd)
else
  data_dir="$work/data"
  echo "== building the synthetic data set in $data_dir"
  if ! "$binary" --data-dir "$data_dir" init synthetic; then
    echo "error: \`m4 init synthetic\` failed" >&2
    exit 1
  fi
fi

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() {
  failed=$((failed + 1))
  echo "FAIL $1"
  if [ -n "${2:-}" ] && [ -s "$2" ]; then sed 's/^/    | /' "$2" | tail -n 40; fi
}

# `-q` keeps the Inspector's own chatter (and the server's stderr) out of $work/err.txt;
# a check that needs the server's stderr empties it for its call.
inspector_quiet=(-q)

# Runs the Inspector CLI on a fresh m4 server. $1: pass name, $2: env file (KEY=VALUE
# lines), rest: Inspector options. The server command comes first: `--tool-arg`
# takes several values and would swallow anything after it.
inspector() {
  local env_file=$2
  shift 2
  local env_args=(-e "M4_DATA_DIR=$data_dir")
  while IFS= read -r pair; do [ -n "$pair" ] && env_args+=(-e "$pair"); done < "$env_file"
  # npx from inside tests/e2e: with npm 11, `npx --prefix tests/e2e` run from
  # elsewhere does not find the locally installed bin.
  (cd "$here" && npx --no-install @modelcontextprotocol/inspector --cli \
    "${env_args[@]}" "$binary" serve --format json "${inspector_quiet[@]}" --connect-timeout 60000 "$@") \
    > "$work/out.json" 2> "$work/err.txt"
}

# Asserts with Python over the Inspector's JSON result in $work/out.json.
json_check() {
  "$python" - "$work/out.json" "$1" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    doc = json.load(f)
result = doc.get("result", {})
ok = eval(sys.argv[2], {"result": result, "doc": doc})
sys.exit(0 if ok else 1)
EOF
}

# $1: label, $2: expected exit code, $3: Python condition on `result`, $4: env file, rest: options.
inspector_expect() {
  local label=$1 want=$2 condition=$3 env_file=$4
  shift 4
  inspector "$label" "$env_file" "$@"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    cat "$work/out.json" >> "$work/err.txt"
    fail "$label (inspector exited $got, expected $want)" "$work/err.txt"
  elif ! json_check "$condition"; then
    cat "$work/out.json" >> "$work/err.txt"
    fail "$label (unexpected result: $condition)" "$work/err.txt"
  else
    pass "$label"
  fi
}

texts='"\n".join(c.get("text", "") for c in result.get("content", []))'

# One pass of both clients. $1: pass name; rest: extra server environment as
# KEY=VALUE (e.g. the M4_OAUTH2_* variables for an auth-on pass).
run_pass() {
  local name=$1
  shift
  local env_file="$work/env-$name"
  printf '%s\n' "$@" > "$env_file"
  echo "== [$name] MCP Python SDK"
  "$python" "$here/python_sdk_client.py" "$binary" "$data_dir" "$@" > "$work/py.txt" 2>&1
  local py_status=$?
  local py_pass py_fail
  py_pass=$(grep -c '^PASS ' "$work/py.txt")
  py_fail=$(grep -c '^FAIL ' "$work/py.txt")
  grep -E '^(PASS|FAIL) ' "$work/py.txt" | sed "s/^\(PASS\|FAIL\) /\1 [$name] /"
  passed=$((passed + py_pass))
  failed=$((failed + py_fail))
  if [ "$py_status" -ne 0 ] && [ "$py_fail" -eq 0 ]; then
    fail "[$name] python-sdk client exited $py_status" "$work/py.txt"
  elif [ "$py_fail" -ne 0 ]; then
    echo "    python-sdk output:"
    grep -vE '^(PASS) ' "$work/py.txt" | sed 's/^/    | /' | tail -n 60
  fi

  echo "== [$name] MCP Inspector CLI"
  local names='{t["name"] for t in result["tools"]}'
  inspector_expect "[$name] inspector: tools/list --strict lists every tool with portable schemas" 0 \
    "$names >= {'get_database_schema','get_table_info','execute_query','get_icu_stays','get_lab_results','get_race_distribution','list_datasets','search_items'}" \
    "$env_file" --method tools/list --strict
  local warnings
  warnings=$(grep -c '^Warning: tool' "$work/err.txt")
  if [ "$warnings" -gt 0 ]; then
    echo "    note: --strict reported $warnings schema portability warning(s) (not errors), e.g.:"
    grep -m1 -A2 '^Warning: tool' "$work/err.txt" | sed 's/^/    | /'
  fi

  local ok='result.get("isError") is not True and len('"$texts"'.strip()) > 0'
  inspector_expect "[$name] inspector: list_datasets" 0 "$ok and 'synthetic' in $texts" \
    "$env_file" --method tools/call --tool-name list_datasets
  inspector_expect "[$name] inspector: get_database_schema" 0 "$ok and 'mimiciv_hosp.patients' in $texts" \
    "$env_file" --method tools/call --tool-name get_database_schema
  inspector_expect "[$name] inspector: get_table_info" 0 "$ok and 'subject_id' in $texts" \
    "$env_file" --method tools/call --tool-name get_table_info --tool-arg table_name=mimiciv_hosp.patients
  inspector_expect "[$name] inspector: execute_query count(*) > 0" 0 \
    "$ok and result['structuredContent']['rows'][0][0] > 0" \
    "$env_file" --method tools/call --tool-name execute_query \
    --tool-arg "sql_query=select count(*) as n from mimiciv_hosp.patients"
  inspector_expect "[$name] inspector: get_icu_stays" 0 "$ok and 'stay_id' in $texts" \
    "$env_file" --method tools/call --tool-name get_icu_stays --tool-arg limit=3
  inspector_expect "[$name] inspector: get_lab_results" 0 "$ok" \
    "$env_file" --method tools/call --tool-name get_lab_results --tool-arg lab_item=creatinine limit=5
  inspector_expect "[$name] inspector: get_race_distribution" 0 "$ok" \
    "$env_file" --method tools/call --tool-name get_race_distribution --tool-arg limit=5
  inspector_expect "[$name] inspector: search_items" 0 "$ok and 'heart rate' in $texts.lower()" \
    "$env_file" --method tools/call --tool-name search_items --tool-arg "query=heart rate"
  inspector_expect "[$name] inspector: resources/list" 0 \
    "'m4://mimic-iv/primer' in {r['uri'] for r in result['resources']}" \
    "$env_file" --method resources/list
  inspector_expect "[$name] inspector: prompts/list" 0 \
    "'build_cohort' in {p['name'] for p in result['prompts']}" \
    "$env_file" --method prompts/list
  # Exit status 5 is the Inspector's "tool returned isError:true".
  inspector_expect "[$name] inspector: execute_query refuses drop table" 5 "result.get('isError') is True" \
    "$env_file" --method tools/call --tool-name execute_query \
    --tool-arg "sql_query=drop table mimiciv_hosp.patients"
}

echo "== m4 binary: $binary"
echo "== data folder: $data_dir"
run_pass auth-off

# Auth on: the OpenID provider harness of tests/oidc/ (npm `oidc-provider` on
# 127.0.0.1) issues real JWT access tokens through the client-credentials grant.
oidc_dir=$(cd "$here/.." && pwd)/oidc
audience="https://m4.example/api"

# Whether the Inspector's answer in $work/out.json is a successful tool call
# (JSON with a result that is not a tool error), however the JSON is laid out.
call_succeeded() {
  "$python" - "$work/out.json" <<'EOF'
import json, sys
try:
    with open(sys.argv[1]) as f:
        doc = json.load(f)
except (OSError, ValueError):
    sys.exit(1)
result = doc.get("result") if isinstance(doc, dict) else None
sys.exit(0 if isinstance(result, dict) and result.get("isError") is not True else 1)
EOF
}

# A tools/call that auth must refuse, and the refusal m4 must state: the server
# refuses to start (its stderr, which the Inspector passes on without `-q`) or
# answers a tool error. A crash, a missing binary or a timeout states no refusal
# and fails. $1: label, $2: env file, $3: the refusal text.
inspector_refused() {
  local label=$1 env_file=$2 refusal=$3
  local inspector_quiet=()
  inspector "$label" "$env_file" --method tools/call --tool-name execute_query \
    --tool-arg "sql_query=select count(*) as n from mimiciv_hosp.patients"
  local got=$?
  if [ "$got" -eq 0 ] || call_succeeded; then
    cat "$work/out.json" >> "$work/err.txt"
    fail "$label (the call was not refused)" "$work/err.txt"
  elif ! grep -qF -- "$refusal" "$work/err.txt" "$work/out.json"; then
    cat "$work/out.json" >> "$work/err.txt"
    fail "$label (inspector exited $got without m4's refusal \`$refusal\`)" "$work/err.txt"
  else
    pass "$label (inspector exited $got: $refusal)"
  fi
}

# $1: label, $2: the refusal text, $3: client id, $4: resource, $5: scope, then the
# env pairs; runs inspector_refused with that client's token.
refused_with_token() {
  local label=$1 refusal=$2 client=$3 resource=$4 scope=$5 token
  shift 5
  if ! token=$("$python" "$here/fetch_token.py" "$issuer" "$client" "$resource" "$scope" 2> "$work/token.err"); then
    fail "$label (no token from the OpenID provider)" "$work/token.err"
    return
  fi
  printf '%s\n' "$@" "M4_OAUTH2_TOKEN=$token" > "$work/env-refused"
  inspector_refused "$label" "$work/env-refused" "$refusal"
}

# The team server: `m4 serve --http` with per-request OAuth2 (the audience defaults to
# its public URL). The Python SDK's streamable HTTP client and the Inspector CLI send a
# bearer token from the provider; without one the server answers 401 with its challenge;
# the SDK's OAuth client signs in by itself (oauth_dance.py).
http_pass() {
  local port
  port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local url="http://127.0.0.1:$port"
  echo "== [http] m4 serve --http 127.0.0.1:$port"
  env M4_DATA_DIR="$data_dir" M4_OAUTH2_ENABLED=true "M4_OAUTH2_ISSUER_URL=$issuer" \
    M4_AUDIT_LOG="$work/audit.jsonl" "$binary" serve --http "127.0.0.1:$port" 2> "$work/http.err" &
  local server_pid=$!
  local up=""
  for _ in $(seq 1 300); do
    if "$python" -c "import urllib.request,sys; urllib.request.urlopen('$url/healthz', timeout=1)" 2>/dev/null; then
      up=yes
      break
    fi
    sleep 0.2
  done
  if [ -z "$up" ]; then
    fail "[http] m4 serve --http answers /healthz" "$work/http.err"
    kill "$server_pid" 2>/dev/null
    return
  fi
  pass "[http] m4 serve --http answers /healthz"
  local http_token
  if ! http_token=$("$python" "$here/fetch_token.py" "$issuer" m4-rs256 "$url" 2> "$work/token.err"); then
    fail "[http] an access token for $url" "$work/token.err"
    kill "$server_pid" 2>/dev/null
    return
  fi
  "$python" "$here/python_sdk_client.py" --http "$url/mcp" "$http_token" > "$work/py.txt" 2>&1
  local py_status=$?
  grep -E '^(PASS|FAIL) ' "$work/py.txt" | sed "s/^\(PASS\|FAIL\) /\1 [http] /"
  passed=$((passed + $(grep -c '^PASS ' "$work/py.txt")))
  failed=$((failed + $(grep -c '^FAIL ' "$work/py.txt")))
  if [ "$py_status" -ne 0 ]; then
    fail "[http] python-sdk client over streamable HTTP exited $py_status" "$work/py.txt"
  fi
  # Without a token the SDK's session cannot start: the server answers 401 with the
  # challenge that names its protected-resource metadata.
  if "$python" "$here/python_sdk_client.py" --http "$url/mcp" > "$work/py-none.txt" 2>&1; then
    fail "[http] python-sdk without a token is refused" "$work/py-none.txt"
  else
    pass "[http] python-sdk without a token cannot open a session"
  fi
  if "$python" - "$url" > "$work/challenge.txt" 2>&1 <<'EOF'
import sys, urllib.request, urllib.error
url = sys.argv[1]
request = urllib.request.Request(url + "/mcp", data=b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"})
try:
    urllib.request.urlopen(request, timeout=10)
    sys.exit("not refused")
except urllib.error.HTTPError as e:
    challenge = e.headers.get("WWW-Authenticate", "")
    print(e.code, challenge)
    ok = e.code == 401 and f'resource_metadata="{url}/.well-known/oauth-protected-resource"' in challenge
    sys.exit(0 if ok else 1)
EOF
  then
    pass "[http] no token: 401 with the RFC 9728 challenge"
  else
    fail "[http] no token: 401 with the RFC 9728 challenge" "$work/challenge.txt"
  fi
  local http_inspector=(--transport http --header "Authorization: Bearer $http_token")
  for call in "tools/list" "tools/call execute_query"; do
    local args=(--method tools/list)
    local condition='len(result["tools"]) >= 8'
    if [ "$call" != "tools/list" ]; then
      args=(--method tools/call --tool-name execute_query --tool-arg "sql_query=select count(*) as n from mimiciv_hosp.patients")
      condition='result.get("isError") is not True and result["structuredContent"]["rows"][0][0] > 0'
    fi
    (cd "$here" && npx --no-install @modelcontextprotocol/inspector --cli "$url/mcp" --format json -q \
      "${args[@]}" "${http_inspector[@]}") > "$work/out.json" 2> "$work/err.txt"
    local got=$?
    if [ "$got" -ne 0 ]; then
      cat "$work/out.json" >> "$work/err.txt"
      fail "[http] inspector over HTTP: $call (exited $got)" "$work/err.txt"
    elif ! json_check "$condition"; then
      cat "$work/out.json" >> "$work/err.txt"
      fail "[http] inspector over HTTP: $call ($condition)" "$work/err.txt"
    else
      pass "[http] inspector over HTTP with an Authorization header: $call"
    fi
  done
  # A real client's sign-in: discovery from the 401, dynamic client registration,
  # authorization code + PKCE through the provider's login and consent pages.
  "$python" "$here/oauth_dance.py" "$url/mcp" > "$work/oauth.txt" 2>&1
  local oauth_status=$?
  grep -E '^(PASS|FAIL) ' "$work/oauth.txt" | sed "s/^\(PASS\|FAIL\) /\1 [http] /"
  passed=$((passed + $(grep -c '^PASS ' "$work/oauth.txt")))
  failed=$((failed + $(grep -c '^FAIL ' "$work/oauth.txt")))
  if [ "$oauth_status" -ne 0 ]; then
    fail "[http] the Python SDK's OAuth client signs in and calls tools (exited $oauth_status)" "$work/oauth.txt"
  fi
  if grep -q '"sub":"alice"' "$work/audit.jsonl" 2>/dev/null; then
    pass "[http] the audit log names the signed-in user (alice)"
  else
    fail "[http] the audit log names the signed-in user (alice)" "$work/audit.jsonl"
  fi
  if grep -q '"sub":"m4-rs256"' "$work/audit.jsonl" 2>/dev/null && ! grep -qF "$http_token" "$work/audit.jsonl"; then
    pass "[http] the audit log names the token's user, never the token"
  else
    fail "[http] the audit log names the token's user, never the token" "$work/audit.jsonl"
  fi
  kill "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
}

if [ ! -f "$oidc_dir/provider.mjs" ]; then
  echo "SKIPPED auth-on: no OpenID provider harness in tests/oidc/"
elif [ ! -d "$oidc_dir/node_modules/oidc-provider" ]; then
  if [ -n "${CI:-}" ]; then
    fail "[auth-on] the OpenID provider is installed (npm ci --prefix tests/oidc); CI must run the auth-on pass"
  else
    echo "SKIPPED auth-on: install the OpenID provider with \`npm ci --prefix tests/oidc\` to run it"
  fi
else
  echo "== starting the OpenID provider (tests/oidc)"
  node "$oidc_dir/provider.mjs" > "$work/oidc.out" 2> "$work/oidc.err" &
  oidc_pid=$!
  trap 'kill "$oidc_pid" 2>/dev/null; rm -rf "$work"' EXIT
  issuer=""
  for _ in $(seq 1 100); do
    issuer=$(sed -n 's/^listening //p' "$work/oidc.out")
    [ -n "$issuer" ] && break
    sleep 0.2
  done
  if [ -z "$issuer" ]; then
    fail "[auth-on] the OpenID provider starts" "$work/oidc.err"
  elif ! token=$("$python" "$here/fetch_token.py" "$issuer" m4-rs256 "$audience" 2> "$work/token.err"); then
    fail "[auth-on] an access token from the OpenID provider" "$work/token.err"
  else
    auth_env=(M4_OAUTH2_ENABLED=true "M4_OAUTH2_ISSUER_URL=$issuer" "M4_OAUTH2_AUDIENCE=$audience")
    run_pass auth-on "${auth_env[@]}" "M4_OAUTH2_TOKEN=$token"

    echo "== [auth-on] refusals"
    printf '%s\n' "${auth_env[@]}" > "$work/env-none"
    inspector_refused "[auth-on] inspector: no token is refused" "$work/env-none" \
      "Missing OAuth2 access token"
    refused_with_token "[auth-on] inspector: a token for another audience is refused" \
      "Token audience mismatch: expected \`$audience\`" \
      m4-rs256 "https://other.example/api" read:mimic-data "${auth_env[@]}"
    refused_with_token "[auth-on] inspector: a token without read:mimic-data is refused" \
      "Missing required scopes: read:mimic-data" \
      m4-noscope "$audience" other:scope "${auth_env[@]}"

    http_pass
  fi
  kill "$oidc_pid" 2>/dev/null
  wait "$oidc_pid" 2>/dev/null
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
