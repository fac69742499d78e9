// OpenID provider for m4's OAuth2 integration tests (tests/auth.rs).
//
// Runs the OpenID-certified `oidc-provider` on 127.0.0.1 and issues JWT access tokens
// (RFC 9068, `typ: at+jwt`) through the client-credentials grant, for whatever resource
// (audience) the client asks for. Keys come from tests/fixtures/auth/*.pem, so the
// Rust tests know which key signed what; rotating keys = restarting with another set.
//
//   node tests/oidc/provider.mjs [--port N] [--keys rsa-a,ec-a]
//
// Prints `listening <issuer>` on stdout once it accepts connections; stops on SIGTERM.
//
// Clients (secret = `<id>-secret`):
//   m4-rs256   scope read:mimic-data, RS256, tokens live 600 s
//   m4-es256   scope read:mimic-data, ES256, tokens live 600 s
//   m4-noscope scope other:scope only (no read:mimic-data), RS256
//   m4-short   scope read:mimic-data, RS256, tokens live 4 s (expiry and renewal tests)
//   m4-cli     public client (no secret) for `m4 auth login`: the device flow with
//              refresh tokens, RS256, tokens live 600 s. Sign-in and consent use the
//              provider's development pages (any login, any password).
//   m4-cli-short  the same, tokens live 8 s (a signed-in session across lifetimes)
//   any client that registers itself (dynamic client registration, RFC 7591), as MCP
//   clients do for the team server (tests/e2e/oauth_dance.py): the authorization code
//   flow with PKCE, RS256, tokens live 600 s, `sub` = the login typed on the page.

import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Provider from 'oidc-provider';

const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'auth');
const keys = option('keys', 'rsa-a,ec-a').split(',').map((name) => {
  const jwk = createPrivateKey(readFileSync(join(fixtures, `${name}.pem`))).export({ format: 'jwk' });
  return { ...jwk, kid: name, use: 'sig', alg: jwk.kty === 'EC' ? 'ES256' : 'RS256' };
});

const clients = [
  { id: 'm4-rs256', scope: 'read:mimic-data', alg: 'RS256', ttl: 600 },
  { id: 'm4-es256', scope: 'read:mimic-data', alg: 'ES256', ttl: 600 },
  { id: 'm4-noscope', scope: 'other:scope', alg: 'RS256', ttl: 600 },
  { id: 'm4-short', scope: 'read:mimic-data', alg: 'RS256', ttl: 4 },
];
const publicClients = [
  { id: 'm4-cli', scope: 'openid offline_access read:mimic-data', alg: 'RS256', ttl: 600 },
  { id: 'm4-cli-short', scope: 'openid offline_access read:mimic-data', alg: 'RS256', ttl: 8 },
];
const byId = new Map([...clients, ...publicClients].map((c) => [c.id, c]));

const port = Number(option('port', '0'));
const server = (await import('node:http')).createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  jwks: { keys },
  clients: [
    ...clients.map((c) => ({
      client_id: c.id,
      client_secret: `${c.id}-secret`,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: c.scope,
    })),
    ...publicClients.map((c) => ({
      client_id: c.id,
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      response_types: [],
      redirect_uris: [],
      scope: c.scope,
    })),
  ],
  scopes: ['openid', 'offline_access', 'read:mimic-data', 'other:scope'],
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    clientCredentials: { enabled: true },
    // MCP clients register themselves (RFC 7591) and sign in with the authorization
    // code flow and PKCE (required for public clients by default).
    registration: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'https://m4.example/api',
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resourceIndicator, client) => {
        // A client that registered itself (dynamic registration): RS256, 600 s.
        const c = byId.get(client.clientId) ?? { alg: 'RS256', ttl: 600 };
        return {
          scope: 'read:mimic-data other:scope',
          audience: resourceIndicator,
          accessTokenTTL: c.ttl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: c.alg } },
        };
      },
    },
  },
});
provider.proxy = false;
server.on('request', provider.callback());

process.stdout.write(`listening ${issuer}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
