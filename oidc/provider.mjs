// Local OpenID Connect provider standing in for the group's single sign-on.
//
// Development and test use only: static clients, four demo users, in-memory
// state, plain http on the loopback interface. See README.md in this folder.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import querystring from 'node:querystring';

import Provider, { errors } from 'oidc-provider';

// ---------------------------------------------------------------------------
// configuration from the environment
// ---------------------------------------------------------------------------

const env = process.env;

function list(value) {
  return (value || '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

// "8000-8010,18000-18010" -> [8000, ..., 8010, 18000, ..., 18010]
function portRanges(value) {
  const ports = [];
  for (const part of list(value)) {
    const [lo, hi = lo] = part.split('-').map((n) => Number.parseInt(n, 10));
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi) {
      throw new Error(`invalid port range: ${part}`);
    }
    for (let port = lo; port <= hi; port += 1) ports.push(port);
  }
  return ports;
}

function unique(values) {
  return [...new Set(values)];
}

const HOST = env.OIDC_HOST || '127.0.0.1';
const PORT = Number.parseInt(env.OIDC_PORT || '59000', 10);
const ISSUER = (env.OIDC_ISSUER || `http://${HOST}:${PORT}`).replace(/\/+$/, '');
const API_AUDIENCE = env.OIDC_API_AUDIENCE || 'https://api.resort.local';
const API_SCOPES = ['catalog:read', 'bookings:read', 'bookings:write'];
const KEYS_FILE = env.OIDC_KEYS_FILE || '';

// Extra backend ports allowed by default (extra api instances started by tests).
// Set OIDC_BACKEND_DEV_PORTS to an empty string to register only the explicit lists.
const DEV_PORTS = portRanges(env.OIDC_BACKEND_DEV_PORTS ?? '8000-8010,18000-18010');

const BACKEND = {
  clientId: env.OIDC_BACKEND_CLIENT_ID || 'resort-backend',
  secret: env.OIDC_BACKEND_CLIENT_SECRET || 'resort-backend-secret',
  authMethod: env.OIDC_BACKEND_TOKEN_AUTH_METHOD || 'client_secret_basic',
  redirectUris: unique([
    ...list(env.OIDC_BACKEND_REDIRECT_URIS
      ?? 'http://127.0.0.1:8000/auth/callback,http://localhost:8000/auth/callback'),
    ...DEV_PORTS.map((port) => `http://127.0.0.1:${port}/auth/callback`),
    ...DEV_PORTS.map((port) => `http://localhost:${port}/auth/callback`),
  ]),
  postLogoutRedirectUris: unique([
    ...list(env.OIDC_BACKEND_POST_LOGOUT_REDIRECT_URIS
      ?? 'http://127.0.0.1:8000/,http://localhost:8000/'),
    ...DEV_PORTS.map((port) => `http://127.0.0.1:${port}/`),
    ...DEV_PORTS.map((port) => `http://localhost:${port}/`),
  ]),
  backchannelLogoutUri: env.OIDC_BACKEND_BACKCHANNEL_LOGOUT_URI
    || 'http://127.0.0.1:8000/auth/backchannel-logout',
};

const PARTNERS = [
  {
    clientId: env.OIDC_PARTNER_CLIENT_ID || 'partner-acme',
    secret: env.OIDC_PARTNER_CLIENT_SECRET || 'partner-acme-secret',
    scope: API_SCOPES.join(' '),
  },
  {
    // a second travel agency with the same rights: partners must never see each other's holds/bookings
    clientId: 'partner-globe',
    secret: 'partner-globe-secret',
    scope: API_SCOPES.join(' '),
  },
  {
    clientId: 'partner-blocked',
    secret: 'partner-blocked-secret',
    scope: 'catalog:read',
  },
];

// ---------------------------------------------------------------------------
// demo users
// ---------------------------------------------------------------------------

const USERS = [
  {
    login: 'guest',
    sub: 'u-guest-0001',
    email: 'guest@example.com',
    name: 'Gil-dong Hong',
    given_name: 'Gil-dong',
    family_name: 'Hong',
    locale: 'ko-KR',
    groups: ['customers'],
  },
  {
    login: 'frontdesk',
    sub: 'u-frontdesk-0001',
    email: 'frontdesk@gresort.example',
    name: 'Front Desk Kim',
    given_name: 'Front Desk',
    family_name: 'Kim',
    locale: 'ko-KR',
    groups: ['staff', 'front-desk', 'property:jeju-ocean', 'property:gangwon-ski'],
  },
  {
    login: 'housekeeping',
    sub: 'u-housekeeping-0001',
    email: 'housekeeping@gresort.example',
    name: 'Housekeeping Lee',
    given_name: 'Housekeeping',
    family_name: 'Lee',
    locale: 'ko-KR',
    groups: ['housekeeping', 'property:jeju-ocean'],
  },
  {
    login: 'admin',
    sub: 'u-admin-0001',
    email: 'admin@gresort.example',
    name: 'Admin Park',
    given_name: 'Admin',
    family_name: 'Park',
    locale: 'en-US',
    groups: ['staff', 'resort-admins'],
  },
  {
    login: 'guest2',
    sub: 'u-guest-0002',
    email: 'guest2@example.com',
    name: 'Jane Doe',
    given_name: 'Jane',
    family_name: 'Doe',
    locale: 'en-US',
    groups: ['customers'],
  },
];

// OIDC_GROUPS_FILE (tests, demos): {"<login>": ["group", ...]} read at every use, so a user's groups can be
// changed while the provider runs (a demotion at the IdP); users it does not name keep their own groups.
const GROUPS_FILE = env.OIDC_GROUPS_FILE || '';

function withCurrentGroups(user) {
  if (!user || !GROUPS_FILE || !fs.existsSync(GROUPS_FILE)) return user;
  const groups = JSON.parse(fs.readFileSync(GROUPS_FILE, 'utf8'))[user.login];
  return Array.isArray(groups) ? { ...user, groups } : user;
}

const BUILT_IN_BY_LOGIN = new Map(USERS.map((user) => [user.login, user]));
const BUILT_IN_BY_SUB = new Map(USERS.map((user) => [user.sub, user]));
const USERS_BY_LOGIN = { get: (login) => withCurrentGroups(BUILT_IN_BY_LOGIN.get(login)) };
const USERS_BY_SUB = { get: (sub) => withCurrentGroups(BUILT_IN_BY_SUB.get(sub)) };

function checkPassword(user, password) {
  const expected = Buffer.from(`${user.login}-password`);
  const given = Buffer.from(String(password ?? ''));
  return expected.length === given.length && crypto.timingSafeEqual(expected, given);
}

async function findAccount(ctx, id) {
  // Sessions and grants store the subject; the login name is accepted too.
  const user = USERS_BY_SUB.get(id) || USERS_BY_LOGIN.get(id);
  if (!user) return undefined;
  return {
    accountId: user.sub,
    async claims() {
      return {
        sub: user.sub,
        email: user.email,
        email_verified: true,
        name: user.name,
        given_name: user.given_name,
        family_name: user.family_name,
        locale: user.locale,
        groups: [...user.groups],
      };
    },
  };
}

// ---------------------------------------------------------------------------
// signing keys
// ---------------------------------------------------------------------------

function thumbprint(jwk) {
  const members = jwk.kty === 'RSA'
    ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
    : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return crypto.createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function generateJwks() {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return {
    keys: [
      { ...rsa, use: 'sig', alg: 'RS256', kid: thumbprint(rsa) },
      { ...ec, use: 'sig', alg: 'ES256', kid: thumbprint(ec) },
    ],
  };
}

function loadJwks() {
  if (!KEYS_FILE) return generateJwks();
  if (fs.existsSync(KEYS_FILE)) {
    const jwks = JSON.parse(fs.readFileSync(KEYS_FILE, 'utf8'));
    if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) {
      throw new Error(`${KEYS_FILE} holds no keys`);
    }
    return jwks;
  }
  const jwks = generateJwks();
  fs.mkdirSync(path.dirname(path.resolve(KEYS_FILE)), { recursive: true });
  fs.writeFileSync(KEYS_FILE, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600 });
  return jwks;
}

// ---------------------------------------------------------------------------
// provider configuration
// ---------------------------------------------------------------------------

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/i;

const configuration = {
  clients: [
    {
      client_id: BACKEND.clientId,
      client_secret: BACKEND.secret,
      client_name: 'Resort booking backend',
      application_type: 'web',
      token_endpoint_auth_method: BACKEND.authMethod,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: BACKEND.redirectUris,
      post_logout_redirect_uris: BACKEND.postLogoutRedirectUris,
      backchannel_logout_uri: BACKEND.backchannelLogoutUri,
      backchannel_logout_session_required: true,
      id_token_signed_response_alg: 'RS256',
      scope: 'openid email profile groups offline_access',
    },
    ...PARTNERS.map((partner) => ({
      client_id: partner.clientId,
      client_secret: partner.secret,
      client_name: partner.clientId,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: partner.scope,
    })),
  ],
  findAccount,
  jwks: loadJwks(),
  cookies: {
    keys: ['resort-dev-cookie-key-1-not-secret', 'resort-dev-cookie-key-0-not-secret'],
  },
  claims: {
    acr: null,
    auth_time: null,
    iss: null,
    sid: null,
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'locale', 'given_name', 'family_name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups', ...API_SCOPES],
  conformIdTokenClaims: false,
  pkce: {
    // Required for every authorization code request (only S256 is supported).
    required: () => true,
  },
  rotateRefreshToken: () => true,
  // oidc-provider drops `offline_access` unless the request also says
  // prompt=consent. The backend gets a refresh token either way: with
  // offline_access it outlives the provider session, without it it is bound
  // to that session (ended by logout at the provider).
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  clientBasedCORS: () => false,
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Client credentials without a `resource` parameter still get an API token;
      // the backend's user logins keep an opaque access token for userinfo.
      async defaultResource(ctx, client, oneOf) {
        if (oneOf) return oneOf;
        if (ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials') {
          return API_AUDIENCE;
        }
        return undefined;
      },
      async getResourceServerInfo(ctx, resourceIndicator) {
        if (resourceIndicator === API_AUDIENCE) {
          return {
            audience: API_AUDIENCE,
            scope: API_SCOPES.join(' '),
            accessTokenTTL: 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        }
        throw new errors.InvalidTarget();
      },
      useGrantedResource: async () => false,
    },
  },
  ttl: {
    AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL || 600,
    AuthorizationCode: 60,
    ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL || 600,
    IdToken: 600,
    Interaction: 3600,
    RefreshToken: 86400,
    Session: 86400,
    Grant: 86400,
  },
  // Back-channel logout posts go to the backend on the loopback interface.
  // oidc-provider's SSRF guard drops connections to special-use addresses
  // (127.0.0.0/8 included), so lift it for loopback targets only.
  fetch(url, options) {
    const { hostname } = new URL(url);
    if (LOOPBACK.test(hostname)) {
      const { dispatcher, ...rest } = options;
      return globalThis.fetch(url, rest);
    }
    return globalThis.fetch(url, options);
  },
};

const provider = new Provider(ISSUER, configuration);
provider.proxy = false;

// ---------------------------------------------------------------------------
// login check in front of the built-in development login form
// ---------------------------------------------------------------------------
//
// The built-in form accepts any login and uses it as the account id. This
// middleware handles POSTs of the login prompt: only the demo users with
// password `<login>-password` pass, and they are signed in by their subject.
// Consent and everything else go on to the built-in handlers untouched.

const INTERACTION_PATH = /^\/interaction\/([^/]+)\/?$/;

function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request entity too large');
    chunks.push(chunk);
  }
  return querystring.parse(Buffer.concat(chunks).toString('utf8'));
}

function invalidLoginPage(submitUrl, login) {
  return `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>Sign-in</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
  <div class="container">
    <h1>Sign-in</h1>
    <p class="error" id="login-error">Invalid login or password.</p>
    <form autocomplete="off" action="${escapeHtml(submitUrl)}" method="post">
      <input type="hidden" name="prompt" value="login"/>
      <input required type="text" name="login" placeholder="Enter any login" value="${escapeHtml(login)}">
      <input required type="password" name="password" placeholder="and password" autofocus="on">
      <button type="submit" class="login login-submit">Sign-in</button>
    </form>
  </div>
</body>
</html>`;
}

provider.use(async (ctx, next) => {
  const match = ctx.method === 'POST' ? INTERACTION_PATH.exec(ctx.path) : null;
  if (!match) return next();

  let interaction;
  try {
    interaction = await provider.interactionDetails(ctx.req, ctx.res);
  } catch {
    return next(); // let the built-in handler render the proper error
  }
  if (interaction.uid !== match[1] || interaction.prompt.name !== 'login') return next();

  ctx.set('cache-control', 'no-store');
  const form = await readForm(ctx.req);
  if (form.prompt !== 'login') {
    ctx.status = 400;
    ctx.type = 'text';
    ctx.body = 'expected the login prompt';
    return undefined;
  }

  const login = String(form.login ?? '').trim();
  const user = USERS_BY_LOGIN.get(login);
  if (!user || !checkPassword(user, form.password)) {
    ctx.status = 200;
    ctx.type = 'html';
    ctx.body = invalidLoginPage(ctx.path, login);
    return undefined;
  }

  const returnTo = await provider.interactionResult(
    ctx.req,
    ctx.res,
    { login: { accountId: user.sub } },
    { mergeWithLastSubmission: false },
  );
  ctx.status = 303;
  ctx.set('location', returnTo);
  ctx.body = '';
  return undefined;
});

provider.on('backchannel.error', (ctx, err, client) => {
  console.error(`backchannel logout to ${client.clientId} failed: ${err.message}`);
});
provider.on('server_error', (ctx, err) => {
  console.error('server_error', err);
});

// ---------------------------------------------------------------------------
// start / stop
// ---------------------------------------------------------------------------

const server = provider.listen(PORT, HOST, () => {
  console.log(`oidc-provider listening on ${ISSUER}`);
});

server.on('error', (err) => {
  console.error(`oidc-provider failed to start: ${err.message}`);
  process.exit(1);
});

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
  console.log(`oidc-provider stopping (${signal})`);
}

process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
