"""The browser-less OAuth dance of a real MCP client against `m4 serve --http`.

Usage: oauth_dance.py MCP_URL

The MCP Python SDK's OAuth client support does everything a client like Claude Code
does: it reads the 401's `resource_metadata`, fetches the protected-resource metadata
and the provider's metadata, registers itself at the provider (dynamic client
registration), and runs the authorization code flow with PKCE. Where a person would
sign in and consent in a browser, this script drives the local provider's development
login and consent pages (tests/oidc: any login, any password) over HTTP. Then it lists
the tools and runs a query with the token it obtained.

Prints `PASS <check>` / `FAIL <check>: <why>` lines; exits 1 if any failed.
"""

from __future__ import annotations

import asyncio
import re
import sys
import traceback
import urllib.parse

import httpx2
from mcp import ClientSession
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

REDIRECT_URI = "http://127.0.0.1:33418/callback"
USER = "alice"

failures = 0


def check(name: str, condition: bool, why: str = "") -> None:
    global failures
    if condition:
        print(f"PASS oauth: {name}", flush=True)
    else:
        failures += 1
        print(f"FAIL oauth: {name}: {why}", flush=True)


class Memory(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Browser:
    """Follows the provider's pages as a user would: sign in as USER, then consent."""

    def __init__(self) -> None:
        self.callback: str | None = None

    async def visit(self, authorization_url: str) -> None:
        async with httpx2.AsyncClient(follow_redirects=False, timeout=30) as http:
            url, method, data = authorization_url, "GET", None
            for _ in range(20):
                response = await http.request(method, url, data=data)
                if response.status_code in (302, 303):
                    location = urllib.parse.urljoin(url, response.headers["location"])
                    if location.startswith(REDIRECT_URI):
                        self.callback = location
                        return
                    url, method, data = location, "GET", None
                    continue
                form = re.search(r'<form[^>]*action="([^"]+)"', response.text)
                if response.status_code != 200 or not form:
                    raise RuntimeError(f"unexpected page {response.status_code} at {url}: {response.text[:300]}")
                fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', response.text))
                if 'name="login"' in response.text:
                    fields.update({"login": USER, "password": "any"})
                url, method, data = urllib.parse.urljoin(url, form.group(1)), "POST", fields
            raise RuntimeError("no redirect back to the client after 20 pages")

    async def code(self) -> AuthorizationCodeResult:
        assert self.callback, "the provider never redirected back"
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.callback).query)
        if "error" in query:
            raise RuntimeError(f"the provider refused: {query}")
        return AuthorizationCodeResult(
            code=query["code"][0], state=query.get("state", [None])[0], iss=query.get("iss", [None])[0]
        )


async def run(url: str) -> None:
    browser = Browser()
    storage = Memory()
    auth = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="m4 e2e (Python SDK)",
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=browser.visit,
        callback_handler=browser.code,
    )
    async with httpx2.AsyncClient(auth=auth, timeout=60) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write, read_timeout_seconds=60) as session:
                await session.initialize()
                check("the client registered itself at the provider", storage.client is not None)
                check("the client obtained a token by authorization code + PKCE", storage.tokens is not None)
                tools = await session.list_tools()
                check("tools/list with the token", len(tools.tools) >= 8, str(len(tools.tools)))
                result = await session.call_tool(
                    "execute_query", {"sql_query": "select count(*) as n from mimiciv_hosp.patients"}
                )
                text = "\n".join(getattr(c, "text", "") for c in result.content)
                check("execute_query runs as the signed-in user", not result.is_error, text[:300])


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        asyncio.run(asyncio.wait_for(run(sys.argv[1]), timeout=120))
    except BaseException:  # noqa: BLE001 - any crash is a failed check, with its trace
        traceback.print_exc()
        check("the OAuth dance completes", False, "the client crashed (trace above)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
