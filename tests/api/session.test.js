'use strict';
// POST /session (API key) and POST /roleplay/session (session token):
// validation, every authentication and authorization error, the token's
// claims, single use under concurrency, and the tenant's admin switches
// (revoked keys, IP allow-list, active flag, monthly quota).
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./harness');

const schemas = h.loadSchemas();
let server;
let T;

before(async () => {
  server = await h.startServer();
  T = h.createTenant(server, { name: 'Session tenant' });
});
after(async () => {
  if (server) await server.stop();
});

const mint = (apiKey, body, extra = {}) => h.api(server, 'POST', '/session', { apiKey, body, ...extra });
const redeemRaw = (token, body = { drillKey: 'ma-full-sale' }, extra = {}) =>
  h.api(server, 'POST', '/roleplay/session', { token, body, ...extra });

function assertRedeemOk(r) {
  assert.equal(r.status, 200, `redeem: ${r.status} ${r.text.slice(0, 300)}`);
  schemas.assertSchema('RedeemSessionResponse', r.body);
  assert.match(r.body.callId, h.CALL_ID_RE);
  assert.match(r.body.sessionId, /^ext_[A-Za-z0-9_-]+$/);
  assert.equal(typeof r.body.connectionTicket, 'string');
  assert.ok(r.body.connectionTicket.length >= 16, 'connectionTicket is too short to be a secret');
  assert.ok(r.body.persona.name.length > 0, 'empty persona name');
  h.assertRequestId(r);
}

describe('POST /session: success', () => {
  test('the token is an HS256 JWT with the documented claims', async () => {
    const t0 = Math.floor(Date.now() / 1000);
    const r = await mint(T.apiKey, { externalUserId: 'rep_8842', externalAgencyId: 'agency_chicago' });
    assert.equal(r.status, 200, r.text);
    schemas.assertSchema('MintSessionResponse', r.body);
    h.assertRequestId(r);
    const { header, payload } = h.decodeJwt(r.body.token);
    assert.equal(header.alg, 'HS256');
    assert.equal(typeof header.kid, 'string');
    assert.ok(header.kid.length > 0);
    assert.equal(payload.tenant, T.tenantId);
    assert.equal(payload.externalUserId, 'rep_8842');
    assert.equal(payload.externalAgencyId, 'agency_chicago');
    assert.equal(payload.aud, 'athos:roleplay');
    assert.equal(payload.iss, 'athos');
    assert.ok(Number.isInteger(payload.iat) && Math.abs(payload.iat - t0) <= 5, `iat ${payload.iat}`);
    assert.equal(payload.exp - payload.iat, 300);
    assert.equal(Date.parse(r.body.expiresAt), payload.exp * 1000, 'expiresAt differs from exp');
    assert.equal(typeof payload.jti, 'string');
    assert.ok(payload.jti.length >= 16);
    // each token is distinct
    const r2 = await mint(T.apiKey, { externalUserId: 'rep_8842', externalAgencyId: 'agency_chicago' });
    assert.notEqual(h.decodeJwt(r2.body.token).payload.jti, payload.jti);
    // the token's signature verifies with the key the database holds for its kid
    const key = h.signingKeys(server.dbPath).find((k) => k.kid === header.kid);
    assert.ok(key, `kid ${header.kid} not in signing_keys`);
    const [hh, pp, ss] = r.body.token.split('.');
    assert.equal(crypto.createHmac('sha256', key.secret).update(`${hh}.${pp}`).digest('base64url'), ss);
  });

  test('externalAgencyId is optional; externalUserId may be 256 characters', async () => {
    let r = await mint(T.apiKey, { externalUserId: 'rep_no_agency' });
    assert.equal(r.status, 200, r.text);
    const p = h.decodeJwt(r.body.token).payload;
    assert.ok(p.externalAgencyId === undefined || p.externalAgencyId === null || p.externalAgencyId === '', `externalAgencyId ${p.externalAgencyId}`);
    r = await mint(T.apiKey, { externalUserId: 'u'.repeat(256), externalAgencyId: 'a'.repeat(256) });
    assert.equal(r.status, 200, r.text);
    // unicode is fine and round-trips
    r = await mint(T.apiKey, { externalUserId: 'rép_ünï_😀' });
    assert.equal(r.status, 200, r.text);
    assert.equal(h.decodeJwt(r.body.token).payload.externalUserId, 'rép_ünï_😀');
  });
});

describe('POST /session: 400 INVALID_REQUEST', () => {
  const bad = [
    ['missing externalUserId', { externalAgencyId: 'a' }],
    ['empty externalUserId', { externalUserId: '' }],
    ['numeric externalUserId', { externalUserId: 8842 }],
    ['null externalUserId', { externalUserId: null }],
    ['boolean externalUserId', { externalUserId: true }],
    ['object externalUserId', { externalUserId: { id: 'x' } }],
    ['array externalUserId', { externalUserId: ['x'] }],
    ['257-character externalUserId', { externalUserId: 'u'.repeat(257) }],
    ['empty externalAgencyId', { externalUserId: 'rep', externalAgencyId: '' }],
    ['numeric externalAgencyId', { externalUserId: 'rep', externalAgencyId: 7 }],
    ['257-character externalAgencyId', { externalUserId: 'rep', externalAgencyId: 'a'.repeat(257) }],
    ['an array body', [{ externalUserId: 'rep' }]],
    ['a string body', 'rep'],
    ['a null body', null],
  ];
  for (const [name, body] of bad) {
    test(name, async () => {
      const r = await mint(T.apiKey, body);
      h.assertError(r, 400, 'INVALID_REQUEST');
    });
  }
  for (const [name, raw] of [['malformed JSON', '{"externalUserId":'], ['trailing garbage', '{"externalUserId":"r"} x'], ['an empty body', ''], ['not JSON at all', 'externalUserId=rep']]) {
    test(name, async () => {
      const r = await mint(T.apiKey, undefined, { raw, headers: { 'Content-Type': 'application/json' } });
      h.assertError(r, 400, 'INVALID_REQUEST');
    });
  }
});

describe('API key authentication: 401', () => {
  test('INVALID_API_KEY: missing header, garbage, wrong scheme, a session token', async () => {
    const { token } = await h.mintToken(server, T.apiKey);
    const cases = [
      {},
      { Authorization: '' },
      { Authorization: 'Bearer' },
      { Authorization: 'Bearer ' },
      { Authorization: 'Bearer nope' },
      { Authorization: 'Bearer ath_live_' },
      { Authorization: `Bearer ${T.apiKey}x` },
      { Authorization: `Bearer ${T.apiKey.slice(0, -1)}` },
      { Authorization: `Basic ${Buffer.from(`${T.apiKey}:`).toString('base64')}` },
      { Authorization: `Token ${T.apiKey}` },
      { Authorization: T.apiKey },
      { Authorization: `Bearer ${token}` },
      { 'X-Api-Key': T.apiKey },
    ];
    for (const headers of cases) {
      for (const [m, p, body] of [['POST', '/session', { externalUserId: 'rep' }], ['GET', '/calls?from=2020-01-01T00:00:00Z'], ['GET', '/calls/athos_call_GZ1DjOkZv_VEPoE-CJ8mp']]) {
        const r = await h.api(server, m, p, { headers, body });
        h.assertError(r, 401, 'INVALID_API_KEY');
      }
    }
  });

  test('authentication comes before validation: no key and a bad body is 401', async () => {
    const r = await h.api(server, 'POST', '/session', { body: {} });
    h.assertError(r, 401, 'INVALID_API_KEY');
  });

  test('API_KEY_REVOKED after `athos key revoke`; other keys keep working', async () => {
    const k = h.cli(['key', 'create', T.tenantId], { dbPath: server.dbPath });
    assert.match(k.keyId, /^key_/);
    assert.match(k.apiKey, /^ath_live_/);
    assert.notEqual(k.apiKey, T.apiKey);
    let r = await mint(k.apiKey, { externalUserId: 'rep_k2' });
    assert.equal(r.status, 200, r.text);
    assert.equal(h.decodeJwt(r.body.token).payload.tenant, T.tenantId);
    r = await h.api(server, 'GET', '/calls?from=2020-01-01T00:00:00Z', { apiKey: k.apiKey });
    assert.equal(r.status, 200);
    h.cli(['key', 'revoke', k.keyId], { dbPath: server.dbPath });
    await h.eventually(async () => {
      h.assertError(await mint(k.apiKey, { externalUserId: 'rep_k2' }), 401, 'API_KEY_REVOKED');
    });
    h.assertError(await h.api(server, 'GET', '/calls?from=2020-01-01T00:00:00Z', { apiKey: k.apiKey }), 401, 'API_KEY_REVOKED');
    h.assertError(await h.api(server, 'GET', '/calls/athos_call_GZ1DjOkZv_VEPoE-CJ8mp', { apiKey: k.apiKey }), 401, 'API_KEY_REVOKED');
    r = await mint(T.apiKey, { externalUserId: 'rep_k1' });
    assert.equal(r.status, 200, 'the tenant\'s other key stopped working');
  });
});

describe('POST /roleplay/session: success and validation', () => {
  test('a minted token redeems once into a call', async () => {
    const { token } = await h.mintToken(server, T.apiKey, { externalUserId: 'rep_r1', externalAgencyId: 'ag' });
    const r = await redeemRaw(token, { drillKey: 'ma-full-sale', difficulty: 'Beginner', filters: { state: 'CA', category: 'anything' } });
    assertRedeemOk(r);
    const u = new URL(r.body.connectionUrl);
    assert.equal(u.protocol, 'ws:');
    assert.equal(u.host, `127.0.0.1:${server.port}`);
    assert.equal(u.pathname, '/api/external/v1/roleplay/live');
    assert.ok(!r.body.connectionUrl.includes(r.body.connectionTicket), 'the ticket is in the URL');
    h.assertError(await redeemRaw(token), 401, 'TOKEN_ALREADY_USED');
  });

  test('difficulty defaults; every enum value and a state with no persona are accepted', async () => {
    for (const body of [
      { drillKey: 'ma-full-sale' },
      { drillKey: 'ma-full-sale', difficulty: 'Beginner' },
      { drillKey: 'ma-full-sale', difficulty: 'Advanced' },
      { drillKey: 'ma-full-sale', difficulty: 'Elite' },
      { drillKey: 'ma-full-sale', filters: {} },
      { drillKey: 'ma-full-sale', filters: { state: 'ZZ' } },
      { drillKey: 'ma-full-sale', filters: { category: 'retention' } },
    ]) {
      const { token } = await h.mintToken(server, T.apiKey);
      assertRedeemOk(await redeemRaw(token, body));
    }
  });

  test('call ids, session ids and tickets are unique', async () => {
    const seen = new Set();
    for (let i = 0; i < 5; i++) {
      const { token } = await h.mintToken(server, T.apiKey);
      const r = await redeemRaw(token);
      assertRedeemOk(r);
      for (const v of [r.body.callId, r.body.sessionId, r.body.connectionTicket]) {
        assert.ok(!seen.has(v), `${v} repeated`);
        seen.add(v);
      }
    }
  });

  const bad = [
    ['missing drillKey', { difficulty: 'Advanced' }, 'INVALID_REQUEST'],
    ['numeric drillKey', { drillKey: 7 }, 'INVALID_REQUEST'],
    ['empty drillKey', { drillKey: '' }, null],
    ['bad difficulty', { drillKey: 'ma-full-sale', difficulty: 'Expert' }, 'INVALID_REQUEST'],
    ['lower-case difficulty', { drillKey: 'ma-full-sale', difficulty: 'advanced' }, 'INVALID_REQUEST'],
    ['numeric difficulty', { drillKey: 'ma-full-sale', difficulty: 2 }, 'INVALID_REQUEST'],
    ['filters not an object', { drillKey: 'ma-full-sale', filters: 'CA' }, 'INVALID_REQUEST'],
    ['numeric filters.state', { drillKey: 'ma-full-sale', filters: { state: 5 } }, 'INVALID_REQUEST'],
    ['unknown drill', { drillKey: 'no-such-drill' }, 'DRILL_NOT_FOUND'],
    ['path-like drill', { drillKey: '../drills/ma-full-sale' }, 'DRILL_NOT_FOUND'],
    ['an array body', [{ drillKey: 'ma-full-sale' }], 'INVALID_REQUEST'],
  ];
  for (const [name, body, code] of bad) {
    test(`400: ${name}`, async () => {
      const { token } = await h.mintToken(server, T.apiKey);
      const r = await redeemRaw(token, body);
      if (code) h.assertError(r, 400, code);
      else {
        assert.equal(r.status, 400, r.text);
        assert.ok(['INVALID_REQUEST', 'DRILL_NOT_FOUND'].includes(r.body.error.code));
        h.assertError(r, 400, r.body.error.code);
      }
    });
  }
  test('400: malformed JSON', async () => {
    const { token } = await h.mintToken(server, T.apiKey);
    h.assertError(await redeemRaw(token, undefined, { raw: '{"drillKey":', headers: { 'Content-Type': 'application/json' } }), 400, 'INVALID_REQUEST');
  });
});

describe('POST /roleplay/session: 401 token errors', () => {
  test('INVALID_TOKEN: missing, garbage, an API key, wrong scheme', async () => {
    const { token } = await h.mintToken(server, T.apiKey);
    for (const headers of [
      {},
      { Authorization: 'Bearer' },
      { Authorization: 'Bearer garbage' },
      { Authorization: 'Bearer a.b.c' },
      { Authorization: 'Bearer ...' },
      { Authorization: `Bearer ${T.apiKey}` },
      { Authorization: `Basic ${token}` },
      { Authorization: token },
      { Authorization: `Bearer ${token}.x` },
      { Authorization: `Bearer ${'A'.repeat(5000)}` },
    ]) {
      h.assertError(await redeemRaw(undefined, { drillKey: 'ma-full-sale' }, { headers }), 401, 'INVALID_TOKEN');
    }
    // none of that spent the real token
    assertRedeemOk(await redeemRaw(token));
  });

  test('INVALID_TOKEN: forged tokens (alg none, tampering, HS512, wrong key, wrong aud/iss/kid)', async () => {
    const { token } = await h.mintToken(server, T.apiKey, { externalUserId: 'rep_forge' });
    const { header, payload } = h.decodeJwt(token);
    const [hh, pp, ss] = token.split('.');
    const key = h.signingKeys(server.dbPath).find((k) => k.kid === header.kid);
    assert.ok(key, 'signing key not found in the db');
    const flip = (s, i) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const sign = (hdr, pl) => h.signJwt(hdr, pl, key.secret);
    const fresh = () => ({ ...payload, jti: crypto.randomUUID() });
    const forged = {
      'alg none, no signature': `${b64({ ...header, alg: 'none' })}.${pp}.`,
      'alg none, original signature': `${b64({ ...header, alg: 'none' })}.${pp}.${ss}`,
      'alg NONE': `${b64({ ...header, alg: 'NONE' })}.${pp}.`,
      'tampered signature': `${hh}.${pp}.${flip(ss, 0)}`,
      'truncated signature': `${hh}.${pp}.${ss.slice(0, 20)}`,
      'empty signature': `${hh}.${pp}.`,
      'tampered payload': `${hh}.${b64({ ...payload, externalUserId: 'rep_other' })}.${ss}`,
      'other tenant in payload': `${hh}.${b64({ ...payload, tenant: 'ten_someoneelse' })}.${ss}`,
      'HS512 header, HS512 signature with the real key': h.signJwt({ ...header, alg: 'HS512' }, fresh(), key.secret, 'HS512'),
      'HS512 header, HS256 signature': `${b64({ ...header, alg: 'HS512' })}.${pp}.${ss}`,
      'HS256 with a wrong key': h.signJwt(header, fresh(), crypto.randomBytes(32)),
      'HS256 with the kid as the key': h.signJwt(header, fresh(), Buffer.from(header.kid)),
      'RS256 header': `${b64({ ...header, alg: 'RS256' })}.${pp}.${ss}`,
      'wrong aud': sign(header, { ...fresh(), aud: 'athos:api' }),
      'aud missing': sign(header, (({ aud, ...x }) => x)(fresh())),
      'wrong iss': sign(header, { ...fresh(), iss: 'evil' }),
      'unknown kid': sign({ ...header, kid: 'nope' }, fresh()),
      'unknown tenant': sign(header, { ...fresh(), tenant: 'ten_doesnotexist' }),
      'exp missing': sign(header, (({ exp, ...x }) => x)(fresh())),
      'jti missing': sign(header, (({ jti, ...x }) => x)(fresh())),
      'externalUserId missing': sign(header, (({ externalUserId, ...x }) => x)(fresh())),
    };
    for (const [name, t] of Object.entries(forged)) {
      const r = await redeemRaw(t);
      assert.equal(r.status, 401, `${name}: ${r.status} ${r.text.slice(0, 300)}`);
      assert.equal(r.body && r.body.error && r.body.error.code, 'INVALID_TOKEN', `${name}: ${r.text.slice(0, 300)}`);
      h.assertError(r, 401, 'INVALID_TOKEN');
    }
    // positive control: the same crafting with the right claims is accepted,
    // so the rejections above are about the claim, not the crafting
    assertRedeemOk(await redeemRaw(sign(header, fresh())));
    // and the original token is still unspent
    assertRedeemOk(await redeemRaw(token));
  });

  test('TOKEN_EXPIRED for a token signed with a past exp', async () => {
    const { token } = await h.mintToken(server, T.apiKey);
    const { header, payload } = h.decodeJwt(token);
    const key = h.signingKeys(server.dbPath).find((k) => k.kid === header.kid);
    const now = Math.floor(Date.now() / 1000);
    const t = h.signJwt(header, { ...payload, jti: crypto.randomUUID(), iat: now - 400, exp: now - 100 }, key.secret);
    h.assertError(await redeemRaw(t), 401, 'TOKEN_EXPIRED');
  });

  test('TOKEN_ALREADY_USED: a second redeem, even with another body', async () => {
    const { token } = await h.mintToken(server, T.apiKey);
    assertRedeemOk(await redeemRaw(token));
    h.assertError(await redeemRaw(token), 401, 'TOKEN_ALREADY_USED');
    h.assertError(await redeemRaw(token, { drillKey: 'ma-full-sale', difficulty: 'Elite' }), 401, 'TOKEN_ALREADY_USED');
  });

  test('concurrent redeems of one token: exactly one 200, the rest TOKEN_ALREADY_USED', async () => {
    for (let round = 0; round < 5; round++) {
      const { token } = await h.mintToken(server, T.apiKey);
      const n = round === 0 ? 2 : 8;
      const rs = await Promise.all(Array.from({ length: n }, () => redeemRaw(token)));
      const ok = rs.filter((r) => r.status === 200);
      assert.equal(ok.length, 1, `round ${round}: ${rs.map((r) => r.status).join(',')}`);
      assertRedeemOk(ok[0]);
      for (const r of rs.filter((x) => x.status !== 200)) h.assertError(r, 401, 'TOKEN_ALREADY_USED');
    }
  });
});

describe('single use across threads and processes', () => {
  test('one token redeemed at once on a 4-thread server and a second process on the same database', { timeout: 60_000 }, async () => {
    const s3 = await h.startServer({ dbPath: server.dbPath, env: { ATHOS_THREADS: '4' } });
    try {
      for (let round = 0; round < 10; round++) {
        const { token } = await h.mintToken(server, T.apiKey, { externalUserId: `rep_race_${round}` });
        const rs = await Promise.all(Array.from({ length: 8 }, (_, i) =>
          h.api(i % 2 ? s3 : server, 'POST', '/roleplay/session', { token, body: { drillKey: 'ma-full-sale' } })));
        const ok = rs.filter((r) => r.status === 200);
        assert.equal(ok.length, 1, `round ${round}: ${rs.map((r) => `${r.status}:${r.body && r.body.error ? r.body.error.code : ''}`).join(',')}`);
        assertRedeemOk(ok[0]);
        for (const r of rs.filter((x) => x.status !== 200)) h.assertError(r, 401, 'TOKEN_ALREADY_USED');
      }
      // a token minted by one process redeems on the other (keys are shared through the database)
      const m = await h.api(s3, 'POST', '/session', { apiKey: T.apiKey, body: { externalUserId: 'rep_cross' } });
      assert.equal(m.status, 200, m.text.slice(0, 300));
      assertRedeemOk(await redeemRaw(m.body.token));
    } finally {
      await s3.stop();
    }
  });
});

describe('short session TTL and a public URL', () => {
  let s2;
  let T2;
  before(async () => {
    s2 = await h.startServer({ env: { ATHOS_SESSION_TTL_SEC: '1', ATHOS_PUBLIC_URL: 'https://athos.example.test' } });
    T2 = h.createTenant(s2, { name: 'TTL tenant' });
  });
  after(async () => {
    if (s2) await s2.stop();
  });

  test('TOKEN_EXPIRED once the TTL has passed', async () => {
    const r = await h.api(s2, 'POST', '/session', { apiKey: T2.apiKey, body: { externalUserId: 'rep_ttl' } });
    assert.equal(r.status, 200, r.text);
    const { payload } = h.decodeJwt(r.body.token);
    assert.equal(payload.exp - payload.iat, 1);
    await h.sleep(2500);
    h.assertError(await h.api(s2, 'POST', '/roleplay/session', { token: r.body.token, body: { drillKey: 'ma-full-sale' } }), 401, 'TOKEN_EXPIRED');
  });

  test('connectionUrl derives from ATHOS_PUBLIC_URL (https → wss)', async () => {
    const m = await h.api(s2, 'POST', '/session', { apiKey: T2.apiKey, body: { externalUserId: 'rep_url' } });
    const r = await h.api(s2, 'POST', '/roleplay/session', { token: m.body.token, body: { drillKey: 'ma-full-sale' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.connectionUrl, 'wss://athos.example.test/api/external/v1/roleplay/live');
  });
});

describe('tenant switches (403)', () => {
  test('IP_NOT_ALLOWED outside the allow-list, allowed again inside it', async () => {
    const X = h.createTenant(server, { name: 'IP tenant' });
    h.cli(['tenant', 'update', X.tenantId, '--ip-allow', '10.0.0.0/8'], { dbPath: server.dbPath });
    await h.eventually(async () => {
      h.assertError(await mint(X.apiKey, { externalUserId: 'rep' }), 403, 'IP_NOT_ALLOWED');
    });
    h.assertError(await h.api(server, 'GET', '/calls?from=2020-01-01T00:00:00Z', { apiKey: X.apiKey }), 403, 'IP_NOT_ALLOWED');
    h.assertError(await h.api(server, 'GET', '/calls/athos_call_GZ1DjOkZv_VEPoE-CJ8mp', { apiKey: X.apiKey }), 403, 'IP_NOT_ALLOWED');
    // other tenants are unaffected
    assert.equal((await mint(T.apiKey, { externalUserId: 'rep' })).status, 200);
    h.cli(['tenant', 'update', X.tenantId, '--ip-allow', '127.0.0.1/32'], { dbPath: server.dbPath });
    await h.eventually(async () => {
      assert.equal((await mint(X.apiKey, { externalUserId: 'rep' })).status, 200);
    });
    h.cli(['tenant', 'update', X.tenantId, '--ip-allow', '10.0.0.0/8,127.0.0.0/8'], { dbPath: server.dbPath });
    await h.eventually(async () => {
      assert.equal((await mint(X.apiKey, { externalUserId: 'rep' })).status, 200);
    });
    h.cli(['tenant', 'update', X.tenantId, '--ip-allow', '127.0.0.2/32'], { dbPath: server.dbPath });
    await h.eventually(async () => {
      h.assertError(await mint(X.apiKey, { externalUserId: 'rep' }), 403, 'IP_NOT_ALLOWED');
    });
  });

  test('TENANT_INACTIVE with --active false, back with --active true', async () => {
    const X = h.createTenant(server, { name: 'Inactive tenant' });
    const { token } = await h.mintToken(server, X.apiKey);
    h.cli(['tenant', 'update', X.tenantId, '--active', 'false'], { dbPath: server.dbPath });
    await h.eventually(async () => {
      h.assertError(await mint(X.apiKey, { externalUserId: 'rep' }), 403, 'TENANT_INACTIVE');
    });
    h.assertError(await h.api(server, 'GET', '/calls?from=2020-01-01T00:00:00Z', { apiKey: X.apiKey }), 403, 'TENANT_INACTIVE');
    // a token minted before the switch no longer starts a call
    const r = await redeemRaw(token);
    assert.notEqual(r.status, 200, 'an inactive tenant\'s token was redeemed');
    h.assertRequestId(r);
    schemas.assertSchema('Error', r.body);
    const listed = h.cli(['tenant', 'list'], { dbPath: server.dbPath });
    assert.ok(JSON.stringify(listed).includes(X.tenantId), 'tenant list does not show the tenant');
    h.cli(['tenant', 'update', X.tenantId, '--active', 'true'], { dbPath: server.dbPath });
    await h.eventually(async () => {
      assert.equal((await mint(X.apiKey, { externalUserId: 'rep' })).status, 200);
    });
  });

  test('TENANT_QUOTA_EXCEEDED once the month\'s calls reach the quota', async () => {
    const X = h.createTenant(server, { name: 'Quota tenant' });
    h.cli(['tenant', 'update', X.tenantId, '--monthly-call-quota', '1'], { dbPath: server.dbPath });
    const m = await h.eventually(async () => {
      const r = await mint(X.apiKey, { externalUserId: 'rep_q' });
      assert.equal(r.status, 200, r.text);
      return r.body;
    });
    assertRedeemOk(await redeemRaw(m.token));
    await h.eventually(async () => {
      h.assertError(await mint(X.apiKey, { externalUserId: 'rep_q' }), 403, 'TENANT_QUOTA_EXCEEDED');
    });
    // reading is not metered
    assert.equal((await h.api(server, 'GET', '/calls?from=2020-01-01T00:00:00Z', { apiKey: X.apiKey })).status, 200);
    // raising the quota lets minting resume
    h.cli(['tenant', 'update', X.tenantId, '--monthly-call-quota', '2'], { dbPath: server.dbPath });
    await h.eventually(async () => {
      assert.equal((await mint(X.apiKey, { externalUserId: 'rep_q' })).status, 200);
    });
  });
});
