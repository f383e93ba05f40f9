// A certified OpenID provider (panva/oidc-provider) for Cameo's single sign-on tests.
//
// Usage: node provider.mjs CONFIG_JSON
// CONFIG_JSON: {"port": 0, "client_id": "...", "client_secret": "...",
//               "redirect_uri": "http://127.0.0.1:N/login/sso/callback",
//               "accounts": {"alice": {"email": "...", "email_verified": true, "picture": "..."}}}
// Listens on 127.0.0.1 (port 0 picks a free one) and prints one line, `ISSUER <url>`, once it
// takes requests. devInteractions' form logs in any account named in `accounts` (any
// password); the consent page follows. Stops on SIGTERM or when stdin closes.
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2]);
const server = http.createServer();
await new Promise((resolve) => server.listen(config.port ?? 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: [config.redirect_uri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'picture'] },
  // Claims go into the ID token itself, so the relying party reads them without userinfo.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
});
provider.proxy = false;
server.on('request', provider.callback());
console.log(`ISSUER ${issuer}`);
// stdout carries that one line (the test stops reading it); the provider's notices go to
// stderr with its warnings.
console.log = console.info = console.error;

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
