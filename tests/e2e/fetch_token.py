"""Print an access token from the test OpenID provider (tests/oidc/provider.mjs).

Usage: fetch_token.py ISSUER CLIENT_ID RESOURCE [SCOPE]   (SCOPE default: read:mimic-data)

Client-credentials grant at the token endpoint named by the issuer's discovery
document; the client's secret is `<CLIENT_ID>-secret`, as the provider defines it.
Standard library only.
"""

import base64
import json
import sys
import urllib.parse
import urllib.request


def main() -> int:
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    issuer, client, resource = sys.argv[1:4]
    scope = sys.argv[4] if len(sys.argv) == 5 else "read:mimic-data"
    discovery = issuer.rstrip("/") + "/.well-known/openid-configuration"
    with urllib.request.urlopen(discovery, timeout=10) as response:
        token_endpoint = json.load(response)["token_endpoint"]
    body = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "scope": scope, "resource": resource}
    ).encode()
    basic = base64.b64encode(f"{client}:{client}-secret".encode()).decode()
    request = urllib.request.Request(token_endpoint, data=body, headers={"Authorization": "Basic " + basic})
    with urllib.request.urlopen(request, timeout=10) as response:
        print(json.load(response)["access_token"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
