"""Start m4 the way an MCP bundle host does and check it answers, with the official MCP
Python SDK (PyPI `mcp`, pinned in tests/e2e/requirements.txt).

Usage: bundle_client.py RESOLVED_JSON EXPECT_DATA_DIR [KEY=VALUE ...]

RESOLVED_JSON is packaging/resolve.mjs's output ({"command", "args", "env"}): the command
is started with that env on top of the extra KEY=VALUE variables (the host's own
environment, e.g. HOME). Runs initialize, tools/list and one execute_query, then checks
that the server built its data in EXPECT_DATA_DIR. Prints `PASS`/`FAIL` lines and exits
1 if any check failed.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import traceback

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

COUNT = "select count(*) as n from mimiciv_hosp.patients"


async def run(resolved: dict, base_env: dict[str, str], checks: list[tuple[str, bool, str]], log) -> None:
    params = StdioServerParameters(
        command=resolved["command"],
        args=resolved["args"],
        env={**base_env, **resolved["env"]},
    )
    async with stdio_client(params, errlog=log) as (read, write):
        async with ClientSession(read, write, read_timeout_seconds=120) as session:
            init = await session.initialize()
            checks.append(("initialize names the server", bool(init.server_info.name), str(init.server_info)))
            tools = {t.name for t in (await session.list_tools()).tools}
            checks.append(("tools/list has execute_query", "execute_query" in tools, str(sorted(tools))))
            result = await session.call_tool("execute_query", {"sql_query": COUNT}, read_timeout_seconds=120)
            rows = (result.structured_content or {}).get("rows") or [[None]]
            n = rows[0][0]
            checks.append(
                ("execute_query counts patients", not result.is_error and isinstance(n, int) and n > 0, str(result)[:400])
            )


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    resolved = json.load(open(sys.argv[1]))
    expect_dir = sys.argv[2]
    base_env = dict(arg.split("=", 1) for arg in sys.argv[3:])
    checks: list[tuple[str, bool, str]] = []
    with tempfile.TemporaryFile("w+") as log:
        try:
            asyncio.run(asyncio.wait_for(run(resolved, base_env, checks, log), timeout=300))
        except BaseException:  # noqa: BLE001 - a crash is a failed check, with its trace
            traceback.print_exc()
            checks.append(("session completes", False, "the client crashed (trace above)"))
        log.seek(0)
        stderr = log.read()
    db = os.path.join(expect_dir, "synthetic.duckdb")
    checks.append((f"the server built its data in {expect_dir}", os.path.exists(db), f"no {db}"))
    # m4 reads these at start; the OAuth2 ones only when OAuth2 is on.
    unfilled = [k for k, v in resolved["env"].items() if "${" in v and k in ("M4_DATA_DIR", "M4_DATASET")]
    for key in unfilled:
        checks.append(
            (f"the server warned that {key} is an unfilled placeholder", f"`{key}`" in stderr and "placeholder" in stderr, stderr[-2000:])
        )
    failed = 0
    for name, ok, why in checks:
        print(f"PASS bundle: {name}" if ok else f"FAIL bundle: {name}: {why}", flush=True)
        failed += not ok
    if failed:
        print("--- m4 server stderr ---\n" + stderr[-6000:], file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
