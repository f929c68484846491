// The baseline of `make bench` (BENCH_NODE=1): node-oidc-provider 9, storage in memory, on
// 127.0.0.1:$PORT. One confidential client (env CLIENT_ID, CLIENT_SECRET, REDIRECT_URI), PKCE
// S256, RS256 ID tokens, refresh tokens rotated on every use. No login page: the first
// /interaction/:uid of a browser signs it in as one parent and grants the scopes, so every later
// /auth of that browser answers with a code straight away, as with a live SSO session.
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const PORT = Number(process.env.PORT || 3000);
const SCOPE = 'openid profile';

// Storage: one Map of entries, plus the two indexes oidc-provider looks things up by.
const entries = new Map();
const byGrant = new Map();
const byUid = new Map();

class MapAdapter {
  constructor(name) { this.name = name; }

  key(id) { return `${this.name}/${id}`; }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    entries.set(key, { payload, until: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    if (payload.uid && this.name === 'Session') byUid.set(payload.uid, id);
    if (payload.grantId) {
      if (!byGrant.has(payload.grantId)) byGrant.set(payload.grantId, new Set());
      byGrant.get(payload.grantId).add(key);
    }
  }

  async find(id) {
    const entry = entries.get(this.key(id));
    if (!entry || entry.until < Date.now()) return undefined;
    return entry.payload;
  }

  async findByUid(uid) { return byUid.has(uid) ? this.find(byUid.get(uid)) : undefined; }

  async findByUserCode() { return undefined; }

  async consume(id) {
    const entry = entries.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) { entries.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    for (const key of byGrant.get(grantId) || []) entries.delete(key);
    byGrant.delete(grantId);
  }
}

const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'bench-rs256' };

const provider = new Provider(`http://127.0.0.1:${PORT}`, {
  adapter: MapAdapter,
  clients: [{
    client_id: process.env.CLIENT_ID || 'bench',
    client_secret: process.env.CLIENT_SECRET || 'bench-secret-with-enough-entropy-0123',
    redirect_uris: [process.env.REDIRECT_URI || 'http://127.0.0.1:8080/cb'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    scope: SCOPE,
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['bench cookie key'] },
  scopes: ['openid', 'profile'],
  claims: { openid: ['sub'], profile: ['given_name', 'family_name', 'name'] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, RefreshToken: 2592000,
    Session: 43200, Grant: 2592000, Interaction: 3600 },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      claims: async () => ({ sub, given_name: 'Camille', family_name: 'Parent', name: 'Camille Parent' }),
    };
  },
});

provider.use(async (ctx, next) => {
  if (ctx.method !== 'GET' || !ctx.path.startsWith('/interaction/')) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const accountId = details.session?.accountId || 'parent-1';
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(SCOPE);
  const grantId = await grant.save();
  await provider.interactionFinished(ctx.req, ctx.res,
    { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  ctx.respond = false;
});

provider.listen(PORT, '127.0.0.1', () => console.log(`node-oidc-provider on ${PORT}, pid ${process.pid}`));
