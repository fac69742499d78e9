// OpenID provider for m4's OAuth2 integration tests (tests/auth.rs).
//
// Runs the OpenID-certified `oidc-provider` on 127.0.0.1 and issues JWT access tokens
// (RFC 9068, `typ: at+jwt`) through the client-credentials grant, for whatever resource
// (audience) the client asks for. Keys come from tests/fixtures/auth/*.pem, so the
// Rust tests know which key signed what; rotating keys = restarting with another set.
//
//   node tests/oidc/provider.mjs [--port N] [--keys rsa-a,ec-a] [--no-device-flow]
//
// Prints `listening <issuer>` on stdout once it accepts connections; stops on SIGTERM.
//
// Clients (secret = `<id>-secret`):
//   m4-rs256   scope read:mimic-data, RS256, tokens live 600 s
//   m4-es256   scope read:mimic-data, ES256, tokens live 600 s
//   m4-noscope scope other:scope only (no read:mimic-data), RS256
//   m4-short   scope read:mimic-data, RS256, tokens live 4 s (expiry and renewal tests)
//   m4-cli     public client (no secret) for `m4 auth login`: the device flow, and the
//              authorization code with PKCE (S256, required) redirected to
//              http://127.0.0.1/callback on any port (a native client, RFC 8252 §7.3),
//              with refresh tokens, RS256, tokens live 600 s. Sign-in and consent use
//              the provider's development pages (any login, any password).
//              `--no-device-flow` turns the device flow off (a provider without it).
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

const deviceFlow = !args.includes('--no-device-flow');
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
      application_type: 'native',
      grant_types: [
        ...(deviceFlow ? ['urn:ietf:params:oauth:grant-type:device_code'] : []),
        'authorization_code',
        'refresh_token',
      ],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
      scope: c.scope,
    })),
  ],
  scopes: ['openid', 'offline_access', 'read:mimic-data', 'other:scope'],
  // Public clients must use PKCE with S256 (oidc-provider's default for them; said here).
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: deviceFlow },
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
// oidc-provider follows OpenID Connect Core §11 to the letter and drops `offline_access`
// from an authorization request without `prompt=consent`. Auth0, Okta, Keycloak and
// Entra ID issue the refresh token without it, and m4 does not send it (it would force
// a consent screen, or an admin-approval request in Entra ID, at every sign-in), so
// this provider behaves like them: such a request is handled as if it had asked for
// consent (the consent page is shown, then the grant includes `offline_access`).
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/auth') {
    const query = new URLSearchParams(ctx.querystring);
    if ((query.get('scope') || '').split(' ').includes('offline_access') && !query.has('prompt')) {
      query.set('prompt', 'consent');
      ctx.querystring = query.toString();
    }
  }
  await next();
});
server.on('request', provider.callback());

process.stdout.write(`listening ${issuer}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
