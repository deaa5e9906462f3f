'use strict';
// Quotas and revocation under abuse (issue 9, items 4, 6 and 11), driven
// from the outside against the real binary. Item 4: the monthly quota is
// checked in the transaction that creates the call, so tokens minted
// ahead and redeemed all at once never overshoot it, a redeem over quota
// does not burn its token, and a call redeemed but never started is
// reaped once its ticket is past and stops counting. Item 6: a key
// revocation, a tenant's deactivation and an allow-list change refuse the
// very next request (no waiting out the API-key cache), on every node of
// a cluster, and a revoked key's session tokens no longer redeem.
// Item 11: token buckets per tenant (`athos tenant update --rate-limit`),
// per API key and per client IP (redeem, live connects): RateLimit-*
// headers on API-key responses, 429 RATE_LIMITED with Retry-After over.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

function sqlJson(server, sql) {
  const out = h.sqlite(server.dbPath, `.mode json\n${sql}`).trim();
  return out ? JSON.parse(out) : [];
}

const redeemRaw = (server, token) =>
  h.api(server, 'POST', '/roleplay/session', { token, body: { drillKey: 'ma-full-sale' } });

function setQuota(server, tenantId, n) {
  h.cli(['tenant', 'update', tenantId, '--monthly-call-quota', String(n)], { dbPath: server.dbPath });
}

/* n tokens minted before any is redeemed (the quota then allows them all). */
async function mintMany(server, apiKey, n) {
  const tokens = [];
  for (let i = 0; i < n; i++) tokens.push((await h.mintToken(server, apiKey, { externalUserId: `rep_${i}` })).token);
  return tokens;
}

describe('monthly quota (item 4)', () => {
  let server;
  before(async () => {
    // a short ticket life, so the reap of never-started calls is observable
    server = await h.startServer({ env: { ATHOS_TICKET_TTL_SEC: '1' } });
  });
  after(async () => {
    if (server) await server.stop();
  });

  test('quota 2, six tokens minted first, redeemed in parallel: exactly 2 calls', async () => {
    const T = h.createTenant(server, { name: 'Race tenant' });
    setQuota(server, T.tenantId, 2);
    const tokens = await mintMany(server, T.apiKey, 6);
    const rs = await Promise.all(tokens.map((t) => redeemRaw(server, t)));
    const ok = rs.filter((r) => r.status === 200);
    const over = rs.filter((r) => r.status !== 200);
    assert.equal(ok.length, 2, `statuses: ${rs.map((r) => r.status).join(',')}`);
    for (const r of over) h.assertError(r, 403, 'TENANT_QUOTA_EXCEEDED');
    const [{ n }] = sqlJson(server, `SELECT count(*) AS n FROM calls c JOIN tenants t ON t.id = c.tenant_id WHERE t.public_id = '${T.tenantId}';`);
    assert.equal(Number(n), 2);

    // the refused tokens were not burned: raising the quota lets one redeem
    setQuota(server, T.tenantId, 3);
    const refused = tokens.filter((_, i) => rs[i].status !== 200);
    assert.equal((await redeemRaw(server, refused[0])).status, 200);
    h.assertError(await redeemRaw(server, refused[1]), 403, 'TENANT_QUOTA_EXCEEDED');
    // and a token that did redeem is still single-use
    const won = tokens.find((_, i) => rs[i].status === 200);
    h.assertError(await redeemRaw(server, won), 401, 'TOKEN_ALREADY_USED');
  });

  test('a call redeemed but never started is reaped and stops counting', async () => {
    const T = h.createTenant(server, { name: 'Reap tenant' });
    setQuota(server, T.tenantId, 1);
    const [first, second] = await mintMany(server, T.apiKey, 2);
    const call = await h.redeem(server, first); // no WebSocket ever starts it
    h.assertError(await redeemRaw(server, second), 403, 'TENANT_QUOTA_EXCEEDED');
    // ticket (1 s) + grace (5 s) + sweep period (5 s)
    await h.eventually(async () => {
      const rows = sqlJson(server, `SELECT status, end_reason FROM calls WHERE public_id = '${call.callId}';`);
      assert.deepEqual(rows, [{ status: 'expired', end_reason: 'ticket_expired' }]);
    }, 20_000);
    assert.equal((await redeemRaw(server, second)).status, 200);
  });
});

const CALLS = '/calls?from=2020-01-01T00:00:00Z';
const getCalls = (server, apiKey) => h.api(server, 'GET', CALLS, { apiKey });

/* Warms every node's API-key cache for apiKey (two requests each). */
async function warm(nodes, apiKey) {
  for (const n of nodes) {
    for (let i = 0; i < 2; i++) assert.equal((await getCalls(n, apiKey)).status, 200);
  }
}

/* The three admin changes, each checked on the NEXT request of every node
 * (no retry: the cache must not answer from before the change). */
async function immediateRevocation(nodes) {
  const [A] = nodes;
  const T = h.createTenant(A, { name: 'Revocation tenant' });
  const k = h.cli(['key', 'create', T.tenantId], { dbPath: A.dbPath });
  await warm(nodes, k.apiKey);
  const { token } = await h.mintToken(A, k.apiKey, { externalUserId: 'rep_rv' });
  h.cli(['key', 'revoke', k.keyId], { dbPath: A.dbPath });
  for (const n of nodes) h.assertError(await getCalls(n, k.apiKey), 401, 'API_KEY_REVOKED');
  // the token it minted before the revocation no longer redeems, on any node
  for (const n of nodes) h.assertError(await redeemRaw(n, token), 401, 'INVALID_TOKEN');

  await warm(nodes, T.apiKey);
  h.cli(['tenant', 'update', T.tenantId, '--ip-allow', '10.9.8.0/24'], { dbPath: A.dbPath });
  for (const n of nodes) h.assertError(await getCalls(n, T.apiKey), 403, 'IP_NOT_ALLOWED');
  h.cli(['tenant', 'update', T.tenantId, '--ip-allow', ''], { dbPath: A.dbPath });
  await warm(nodes, T.apiKey);
  h.cli(['tenant', 'update', T.tenantId, '--active', 'false'], { dbPath: A.dbPath });
  for (const n of nodes) h.assertError(await getCalls(n, T.apiKey), 403, 'TENANT_INACTIVE');
  h.cli(['tenant', 'update', T.tenantId, '--active', 'true'], { dbPath: A.dbPath });
  for (const n of nodes) assert.equal((await getCalls(n, T.apiKey)).status, 200);
}

describe('revocation takes effect on the next request (item 6)', () => {
  let server;
  before(async () => {
    // a cache long enough that waiting it out would be seen
    server = await h.startServer({ env: { ATHOS_AUTH_CACHE_MS: '60000' } });
  });
  after(async () => {
    if (server) await server.stop();
  });

  test('revoke, allow-list, deactivate: the next request is refused', async () => {
    await immediateRevocation([server]);
  });

  test('tokens minted by another key of the tenant still redeem', async () => {
    const T = h.createTenant(server, { name: 'Other key tenant' });
    const k = h.cli(['key', 'create', T.tenantId], { dbPath: server.dbPath });
    const mine = await h.mintToken(server, T.apiKey, { externalUserId: 'rep_a' });
    const theirs = await h.mintToken(server, k.apiKey, { externalUserId: 'rep_b' });
    h.cli(['key', 'revoke', k.keyId], { dbPath: server.dbPath });
    assert.equal((await redeemRaw(server, mine.token)).status, 200);
    h.assertError(await redeemRaw(server, theirs.token), 401, 'INVALID_TOKEN');
  });
});

describe('revocation across a two-node cluster (item 6)', { skip: !h.isPostgres && 'runs under scripts/pg-test.sh (PostgreSQL)' }, () => {
  let A, B;
  before(async () => {
    const db = h.newPgDatabase();
    const env = { ATHOS_AUTH_CACHE_MS: '60000' };
    A = await h.startServer({ dbPath: db, env });
    B = await h.startServer({ dbPath: db, env });
  });
  after(async () => {
    await Promise.all([A, B].filter(Boolean).map((s) => s.stop()));
  });

  test('a CLI revocation refuses the next request on BOTH nodes', async () => {
    await immediateRevocation([A, B]);
  });
});

/* The RateLimit-* headers of r as numbers (NaN when absent). */
function rateHeaders(r) {
  const n = (k) => Number(r.headers.get(k) ?? NaN);
  return { limit: n('ratelimit-limit'), remaining: n('ratelimit-remaining'), reset: n('ratelimit-reset'), retryAfter: n('retry-after') };
}

function assertRateLimited(r) {
  h.assertError(r, 429, 'RATE_LIMITED');
  const retry = Number(r.headers.get('retry-after'));
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After: ${r.headers.get('retry-after')}`);
}

describe('rate limits (item 11)', () => {
  let server;
  before(async () => {
    server = await h.startServer({ env: { ATHOS_RATE_LIMIT: '5', ATHOS_RATE_LIMIT_PER_KEY: '4', ATHOS_RATE_LIMIT_PER_IP: '3' } });
  });
  after(async () => {
    if (server) await server.stop();
  });

  test('per tenant: a burst of its limit, then 429 with Retry-After; headers count down', async () => {
    const T = h.createTenant(server, { name: 'Metered tenant' });
    const U = h.createTenant(server, { name: 'Neighbour tenant' });
    // per key 4 < tenant 5: use two keys so the tenant's bucket is the one that runs out
    const k2 = h.cli(['key', 'create', T.tenantId], { dbPath: server.dbPath });
    const rs = [];
    for (const key of [T.apiKey, T.apiKey, T.apiKey, k2.apiKey, k2.apiKey, k2.apiKey]) rs.push(await getCalls(server, key));
    const limited = rs.filter((r) => r.status === 429);
    assert.ok(limited.length >= 1, `statuses: ${rs.map((r) => r.status).join(',')}`);
    assert.equal(rs[0].status, 200);
    const first = rateHeaders(rs[0]);
    assert.equal(first.limit, 4); // the tighter bucket: the key's 4 of the tenant's 5
    assert.ok(first.remaining >= 3 && first.reset >= 1, JSON.stringify(first));
    for (const r of limited) assertRateLimited(r);
    assert.equal(rateHeaders(limited[0]).remaining, 0);
    // another tenant is not affected
    assert.equal((await getCalls(server, U.apiKey)).status, 200);
    // and the bucket refills
    await h.sleep(1100);
    assert.equal((await getCalls(server, T.apiKey)).status, 200);
  });

  test('per API key: one key over its limit, the tenant\'s other key goes on', async () => {
    const T = h.createTenant(server, { name: 'Two keys tenant' });
    h.cli(['tenant', 'update', T.tenantId, '--rate-limit', 'none'], { dbPath: server.dbPath });
    const k2 = h.cli(['key', 'create', T.tenantId], { dbPath: server.dbPath });
    const rs = [];
    for (let i = 0; i < 6; i++) rs.push(await getCalls(server, T.apiKey));
    assert.ok(rs.filter((r) => r.status === 429).length >= 1, `statuses: ${rs.map((r) => r.status).join(',')}`);
    assert.equal(rateHeaders(rs[0]).limit, 4);
    const other = await getCalls(server, k2.apiKey);
    assert.equal(other.status, 200);
  });

  test('athos tenant update --rate-limit N|none sets the tenant\'s bucket', async () => {
    const T = h.createTenant(server, { name: 'Configured tenant' });
    const out = h.cli(['tenant', 'update', T.tenantId, '--rate-limit', '2'], { dbPath: server.dbPath });
    assert.equal(out.rateLimit, 2);
    const keys = [T.apiKey, h.cli(['key', 'create', T.tenantId], { dbPath: server.dbPath }).apiKey];
    const rs = [];
    for (let i = 0; i < 4; i++) rs.push(await getCalls(server, keys[i % 2]));
    assert.equal(rateHeaders(rs[0]).limit, 2);
    assert.ok(rs.filter((r) => r.status === 429).length >= 1, `statuses: ${rs.map((r) => r.status).join(',')}`);
    assert.equal(h.cli(['tenant', 'update', T.tenantId, '--rate-limit', 'none'], { dbPath: server.dbPath }).rateLimit, 'none');
    const r = await getCalls(server, keys[1]);
    assert.equal(r.status, 200); // the next request: the auth generation carries the change
    assert.equal(h.cli(['tenant', 'update', T.tenantId, '--rate-limit', 'default'], { dbPath: server.dbPath }).rateLimit, null);
    assert.throws(() => h.cli(['tenant', 'update', T.tenantId, '--rate-limit', '0'], { dbPath: server.dbPath }), /rate-limit/);
  });

  test('per IP: redeems over the limit get 429 and the token is not burned', async () => {
    const T = h.createTenant(server, { name: 'Redeem IP tenant' });
    h.cli(['tenant', 'update', T.tenantId, '--rate-limit', 'none'], { dbPath: server.dbPath });
    const keys = [T.apiKey, h.cli(['key', 'create', T.tenantId], { dbPath: server.dbPath }).apiKey];
    const tokens = [];
    for (let i = 0; i < 5; i++) tokens.push((await h.mintToken(server, keys[i % 2], { externalUserId: `rep_${i}` })).token);
    await h.sleep(1100); // a full bucket
    const rs = await Promise.all(tokens.map((t) => redeemRaw(server, t)));
    const ok = rs.filter((r) => r.status === 200).length;
    assert.ok(ok >= 3 && ok < 5, `statuses: ${rs.map((r) => r.status).join(',')}`);
    const refusedAt = rs.findIndex((r) => r.status !== 200);
    assertRateLimited(rs[refusedAt]);
    await h.sleep(1100);
    assert.equal((await redeemRaw(server, tokens[refusedAt])).status, 200);
  });

  test('per IP: live WebSocket connects over the limit get 429 before the upgrade', async () => {
    await h.sleep(1100);
    const rs = [];
    for (let i = 0; i < 5; i++) rs.push(await h.api(server, 'GET', '/roleplay/live'));
    assert.ok(rs.slice(0, 3).every((r) => r.status !== 429), `statuses: ${rs.map((r) => r.status).join(',')}`);
    assertRateLimited(rs[4]);
  });
});
