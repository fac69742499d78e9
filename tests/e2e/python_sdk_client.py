"""Drive the m4 binary with the official MCP Python SDK (PyPI `mcp`) over stdio.

Usage: python_sdk_client.py M4_BINARY DATA_DIR [KEY=VALUE ...]
       python_sdk_client.py --http URL [BEARER_TOKEN]

The second form drives a running `m4 serve --http` (the team server) over the
streamable HTTP transport, with `Authorization: Bearer BEARER_TOKEN` on every request.

Starts `M4_BINARY serve` with M4_DATA_DIR=DATA_DIR (plus the extra variables, e.g. the
OAuth2 ones for an auth-on pass), runs initialize, tools/list and a tools/call of every
tool, and checks that each answer makes sense. Prints one `PASS <check>` or
`FAIL <check>: <why>` line per check, then exits 1 if any failed (2 on a crash).
The SDK itself validates every message against the protocol's schemas, and each
tool's structured content against its output schema.
"""

from __future__ import annotations

import asyncio
import re
import sys
import traceback
import tempfile
from typing import Any, TextIO

import httpx2
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

EXPECTED_TOOLS = {
    "get_database_schema",
    "get_table_info",
    "execute_query",
    "get_icu_stays",
    "get_lab_results",
    "get_race_distribution",
    "list_datasets",
    "search_items",
}

COUNT_PATIENTS = "select count(*) as n from mimiciv_hosp.patients"


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, condition: bool, why: str = "") -> bool:
        if condition:
            self.passed += 1
            print(f"PASS python-sdk: {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL python-sdk: {name}: {why}", flush=True)
        return condition


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def first_number(result: Any) -> float | None:
    """The first cell of a one-row result: structured content first, else the text table."""
    structured = result.structured_content
    if isinstance(structured, dict):
        rows = structured.get("rows")
        if isinstance(rows, list) and rows and isinstance(rows[0], list) and rows[0]:
            cell = rows[0][0]
            if isinstance(cell, (int, float)) and not isinstance(cell, bool):
                return float(cell)
    match = re.search(r"\|\s*(\d+)\s*\|", text_of(result))
    return float(match.group(1)) if match else None


async def call(session: ClientSession, name: str, arguments: dict[str, Any]) -> Any:
    return await session.call_tool(name, arguments, read_timeout_seconds=60)


async def run(
    binary: str, data_dir: str, extra_env: dict[str, str], checks: Checks, server_log: TextIO
) -> None:
    params = StdioServerParameters(
        command=binary,
        args=["serve"],
        env={"M4_DATA_DIR": data_dir, **extra_env},
    )
    # The server's log goes to a file, shown only when something failed.
    async with stdio_client(params, errlog=server_log) as (read, write):
        async with ClientSession(read, write, read_timeout_seconds=60) as session:
            await exercise(session, checks)


async def run_http(url: str, token: str | None, checks: Checks) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60.0)) as client:
        async with streamable_http_client(url, http_client=client) as (read, write):
            async with ClientSession(read, write, read_timeout_seconds=60) as session:
                await exercise(session, checks)


async def exercise(session: ClientSession, checks: Checks) -> None:
    """initialize, tools/list, every tool, resources and prompts, each answer checked."""
    init = await session.initialize()
    checks.check(
        "initialize advertises tools",
        init.capabilities.tools is not None,
        f"capabilities: {init.capabilities}",
    )
    checks.check(
        "initialize names the server",
        bool(init.server_info.name),
        f"server_info: {init.server_info}",
    )

    listed = await session.list_tools()
    tools = {tool.name: tool for tool in listed.tools}
    checks.check(
        "tools/list has every m4 tool",
        EXPECTED_TOOLS <= tools.keys(),
        f"missing {sorted(EXPECTED_TOOLS - tools.keys())}",
    )
    for name in sorted(EXPECTED_TOOLS & tools.keys()):
        schema = tools[name].input_schema
        checks.check(
            f"{name} takes an object",
            schema.get("type") == "object",
            f"input schema: {schema}",
        )
        if name == "list_datasets":
            continue  # it lists every data set: a `dataset` argument would mean nothing
        checks.check(
            f"{name} takes an object with an optional `dataset`",
            schema.get("type") == "object"
            and "dataset" in schema.get("properties", {})
            and "dataset" not in schema.get("required", []),
            f"input schema: {schema}",
        )
        checks.check(
            f"{name} has a description",
            bool(tools[name].description),
            "empty description",
        )

    ok_calls: list[tuple[str, dict[str, Any], str]] = [
        ("list_datasets", {}, "synthetic"),
        ("get_database_schema", {}, "mimiciv_hosp.patients"),
        ("get_table_info", {"table_name": "mimiciv_hosp.patients"}, "subject_id"),
        ("get_table_info", {"table_name": "patients", "show_sample": False}, "gender"),
        ("execute_query", {"sql_query": COUNT_PATIENTS}, ""),
        ("get_icu_stays", {"limit": 3}, "stay_id"),
        ("get_lab_results", {"limit": 5}, "itemid"),
        ("get_lab_results", {"lab_item": "creatinine", "limit": 5}, ""),
        ("get_race_distribution", {"limit": 5}, ""),
        ("search_items", {"query": "heart rate"}, "heart rate"),
    ]
    for name, arguments, expected_text in ok_calls:
        label = f"tools/call {name} {arguments}"
        result = await call(session, name, arguments)
        text = text_of(result)
        if not checks.check(f"{label} succeeds", not result.is_error, text[:500]):
            continue
        checks.check(f"{label} returns text", bool(text.strip()), "empty content")
        if expected_text:
            checks.check(
                f"{label} mentions `{expected_text}`",
                expected_text.lower() in text.lower(),
                text[:500],
            )

    count = await call(session, "execute_query", {"sql_query": COUNT_PATIENTS})
    n = first_number(count)
    checks.check(
        "execute_query count(*) of patients is a number > 0",
        n is not None and n > 0,
        f"got {n!r} from {text_of(count)[:300]}",
    )

    dropped = await call(session, "execute_query", {"sql_query": "drop table mimiciv_hosp.patients"})
    checks.check(
        "execute_query refuses `drop table` with isError",
        dropped.is_error is True,
        text_of(dropped)[:300],
    )
    checks.check(
        "the refusal says why",
        len(text_of(dropped).strip()) > 10,
        text_of(dropped)[:300],
    )
    again = await call(session, "execute_query", {"sql_query": COUNT_PATIENTS})
    checks.check(
        "patients still there after the refused drop",
        first_number(again) == n,
        text_of(again)[:300],
    )

    resources = await session.list_resources()
    uris = {str(resource.uri) for resource in resources.resources}
    checks.check("resources/list names the MIMIC-IV primer", "m4://mimic-iv/primer" in uris, str(sorted(uris))[:300])
    primer = await session.read_resource("m4://mimic-iv/primer")
    primer_text = "".join(getattr(c, "text", "") for c in primer.contents)
    checks.check("resources/read returns the primer", "anchor_age" in primer_text, primer_text[:300])
    prompts = await session.list_prompts()
    names = {prompt.name for prompt in prompts.prompts}
    checks.check("prompts/list has build_cohort", "build_cohort" in names, str(sorted(names)))
    prompt = await session.get_prompt("build_cohort", {"criteria": "adults with sepsis"})
    prompt_text = "".join(getattr(m.content, "text", "") for m in prompt.messages)
    checks.check("prompts/get fills the argument", "adults with sepsis" in prompt_text, prompt_text[:300])

    unknown = await call(session, "get_table_info", {"table_name": "no_such_table_xyz"})
    checks.check(
        "get_table_info on an unknown table is a tool error, not a crash",
        unknown.is_error is True,
        text_of(unknown)[:300],
    )


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    checks = Checks()
    if sys.argv[1] == "--http":
        url, token = sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else None)
        try:
            asyncio.run(asyncio.wait_for(run_http(url, token, checks), timeout=300))
        except BaseException:  # noqa: BLE001 - any crash is a failed check, with its trace
            traceback.print_exc()
            checks.check("session completes", False, "the client crashed (trace above)")
        print(f"python-sdk: {checks.passed} passed, {checks.failed} failed", flush=True)
        return 1 if checks.failed else 0
    binary, data_dir = sys.argv[1], sys.argv[2]
    extra_env = dict(arg.split("=", 1) for arg in sys.argv[3:])
    with tempfile.TemporaryFile("w+") as server_log:
        try:
            asyncio.run(asyncio.wait_for(run(binary, data_dir, extra_env, checks, server_log), timeout=300))
        except BaseException:  # noqa: BLE001 - any crash is a failed check, with its trace
            traceback.print_exc()
            checks.check("session completes", False, "the client crashed (trace above)")
        if checks.failed:
            server_log.seek(0)
            print("--- m4 server stderr ---", file=sys.stderr)
            print(server_log.read()[-8000:], file=sys.stderr)
    print(f"python-sdk: {checks.passed} passed, {checks.failed} failed", flush=True)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
