// A real OpenID provider (the `oidc-provider` package) on loopback, for Reserv's OIDC
// sign-in tests. It is not an imitation: discovery, the authorization endpoint, PKCE,
// the token endpoint, signed ID tokens and the JWKS are oidc-provider's own.
//
// Usage: node server.mjs  (settings from the environment)
//   OIDC_PORT           the loopback port to listen on
//   OIDC_CLIENT_ID      the one confidential client's id
//   OIDC_CLIENT_SECRET  its secret
//   OIDC_REDIRECT_URI   its redirect URI (Reserv's /auth/oidc/callback)
//
// The login page stands in for Freja eID / SITHS / BankID: the person types a login
// name, and the provider records the acr and amr that user's "e-legitimation" gives;
// "Avbryt" cancels, and the provider answers Reserv with error=access_denied.
// The HSA-id (`hsa_id`) is given only by the userinfo endpoint, never in the ID token,
// as some providers do with claims beyond the basic ones.
// It prints "listening <issuer>" once it accepts requests.

import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const clientId = process.env.OIDC_CLIENT_ID;
const clientSecret = process.env.OIDC_CLIENT_SECRET;
const redirectUri = process.env.OIDC_REDIRECT_URI;
if (!port || !clientId || !clientSecret || !redirectUri) {
  console.error('set OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_REDIRECT_URI');
  process.exit(2);
}

export const LOA2 = 'http://id.elegnamnden.se/loa/1.0/loa2';
export const LOA3 = 'http://id.elegnamnden.se/loa/1.0/loa3';

// The test users, by login name: their claims, and how strongly they sign in.
const USERS = {
  // A care worker with a password-only identity (low assurance).
  'vardare': {
    email: 'Vardare.OIDC@kommun.example', employee_id: 'E-1001', name: 'Vera Vårdare',
    hsa_id: 'SE2321000016-H1001',
    acr: LOA2, amr: ['pwd'],
  },
  // A crisis lead signing in with a strong, multi-factor identity.
  'krisledare': {
    email: 'krisledare.oidc@kommun.example', employee_id: 'E-1002', name: 'Kim Krisledare',
    acr: LOA3, amr: ['pwd', 'otp'],
  },
  // The same kind of crisis lead, but with a weak identity this time.
  'krisledare-svag': {
    email: 'krisledare-svag.oidc@kommun.example', employee_id: 'E-1003', name: 'Sam Svag',
    acr: LOA2, amr: ['pwd'],
  },
  // A care worker whose sign-in leaves acr and amr out of the ID token; the userinfo
  // endpoint reports them.
  'hemtjanst': {
    email: 'hemtjanst.oidc@kommun.example', employee_id: 'E-1004', name: 'Hedda Hemtjänst',
    hsa_id: 'SE2321000016-H1004', userinfo: { acr: LOA3, amr: ['pwd', 'otp'] },
  },
  // A person for whom the userinfo endpoint fails.
  'trasig': {
    email: 'trasig.oidc@kommun.example', employee_id: 'E-1005', name: 'Tove Trasig',
    hsa_id: 'SE2321000016-H1005', userinfoFails: true,
  },
  // Known to the provider, unknown to Reserv.
  'okand': {
    email: 'okand@kommun.example', employee_id: 'E-9999', name: 'Okänd Person',
    acr: LOA3, amr: ['pwd', 'otp'],
  },
};

const scopes = 'openid email profile';
const claimNames = ['sub', 'email', 'email_verified', 'name', 'employee_id', 'hsa_id', 'acr'];

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  claims: {
    // amr (RFC 8176: how the person signed in) is given with the openid scope, so
    // that it reaches the ID token, where Reserv reads it; acr and amr are also given
    // by userinfo for a user whose ID token lacks them.
    openid: ['sub', 'amr', 'acr'],
    email: ['email', 'email_verified'],
    profile: ['name', 'employee_id', 'hsa_id'],
  },
  // The claims of the scopes go into the ID token too (but for hsa_id, see findAccount).
  conformIdTokenClaims: false,
  acrValues: [LOA2, LOA3],
  cookies: { keys: ['reserv-test-provider-only'] },
  async findAccount(ctx, sub) {
    const user = USERS[sub];
    if (!user) return undefined;
    return {
      accountId: sub,
      // `use` is 'id_token' or 'userinfo'.
      async claims(use) {
        const claims = { sub, email: user.email, email_verified: true, name: user.name, employee_id: user.employee_id };
        if (use !== 'userinfo') return claims;
        // The provider answers this with 500 server_error.
        if (user.userinfoFails) throw new Error('the directory behind the userinfo endpoint is down');
        return { ...claims, hsa_id: user.hsa_id, ...user.userinfo };
      },
    };
  },
});

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function html(res, status, content) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><body>${content}</body></html>`);
}

// The interaction pages: a login form, and a consent form when the provider asks.
async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return html(res, 400, 'wrong interaction');
  if (req.method === 'GET') {
    if (details.prompt.name === 'login') {
      return html(res, 200, `<h1>Logga in</h1><form method="post" action="/interaction/${escape(uid)}/login">`
        + '<label>Användarnamn <input name="login"></label><button>Logga in</button></form>'
        + `<form method="post" action="/interaction/${escape(uid)}/abort"><button>Avbryt</button></form>`);
    }
    return html(res, 200, `<h1>Godkänn</h1><form method="post" action="/interaction/${escape(uid)}/confirm">`
      + '<button>Godkänn</button></form>');
  }
  if (action === 'login') {
    const login = (await body(req)).get('login') ?? '';
    const user = USERS[login];
    if (!user) return html(res, 200, '<p>Okänd användare</p>');
    return provider.interactionFinished(req, res,
      { login: { accountId: login, acr: user.acr, amr: user.amr } },
      { mergeWithLastSubmission: false });
  }
  if (action === 'abort') {
    return provider.interactionFinished(req, res,
      { error: 'access_denied', error_description: 'Användaren avbröt inloggningen' },
      { mergeWithLastSubmission: false });
  }
  if (action === 'confirm') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(scopes);
    grant.addOIDCClaims(claimNames);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  return html(res, 404, 'unknown action');
}

const oidc = provider.callback();
const server = http.createServer(async (req, res) => {
  const match = /^\/interaction\/([^/?]+)(?:\/(login|confirm|abort))?/.exec(req.url);
  if (!match) return oidc(req, res);
  try {
    await interaction(req, res, match[1], match[2]);
  } catch (error) {
    console.error(error);
    if (!res.headersSent) html(res, 500, escape(error.message));
  }
});
server.listen(port, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${port}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
