'use strict';
// Two `athos serve` processes on one PostgreSQL database form a cluster:
// started together on a fresh database they migrate once and share one
// signing key; a token minted on one node redeems on the other, and its
// connection ticket is spent on either; of two nodes racing to redeem a
// token exactly one wins; every ended call is scored by one node and its
// webhook delivered exactly once while both nodes' scorers and deliverers
// run; and both nodes answer GET /calls with the same rows.
// Runs only under scripts/pg-test.sh (ATHOS_TEST_DATABASE_URL=postgres://…).
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const WebSocket = require('ws');
const { Webhook } = require('standardwebhooks');
const h = require('./harness');

const LIVE_PATH = '/api/external/v1/roleplay/live';
const TRANSCRIPT = [
  { role: 'assistant', content: 'Hello? Who is this?' },
  { role: 'user', content: 'Hi, this is Sam with Acme Benefits. This call may be recorded for quality. How are you today?' },
  { role: 'assistant', content: "I'm fine. What is this about?" },
  { role: 'user', content: 'What matters most to you about your current Medicare coverage?' },
  { role: 'assistant', content: 'I like my doctor. I do not want to lose him.' },
  { role: 'user', content: 'Understood. Thank you for your time today, goodbye.' },
];

/* A webhook receiver that records every request and answers 204. */
async function startReceiver() {
  const rx = { requests: [] };
  rx.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      rx.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise((resolve) => rx.server.listen(0, '127.0.0.1', resolve));
  rx.url = `http://127.0.0.1:${rx.server.address().port}/hooks`;
  rx.close = () => new Promise((resolve) => {
    rx.server.closeAllConnections?.();
    rx.server.close(() => resolve());
  });
  return rx;
}

/* A WebSocket with an awaitable queue of parsed messages. */
function connect(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const queue = [];
  const waiters = [];
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (waiters.length) waiters.shift()(m);
    else queue.push(m);
  });
  return {
    ws,
    opened: new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }),
    send: (o) => ws.send(JSON.stringify(o)),
    next: (ms = 5000) => (queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms);
      waiters.push((m) => { clearTimeout(t); resolve(m); });
    })),
  };
}

async function listAll(server, apiKey) {
  const rows = [];
  let cursor = null;
  do {
    const q = new URLSearchParams({ from: '2000-01-01T00:00:00Z', limit: '100', ...(cursor ? { cursor } : {}) });
    const r = await h.api(server, 'GET', `/calls?${q}`, { apiKey });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    rows.push(...r.body.data);
    cursor = r.body.nextCursor;
  } while (cursor);
  return rows;
}

describe('a two-node cluster on one PostgreSQL database', { skip: !h.isPostgres && 'runs under scripts/pg-test.sh (PostgreSQL)' }, () => {
  let A;
  let B;
  let rx;
  let T;
  const byMsgId = () => {
    const m = new Map();
    for (const r of rx.requests) m.set(r.headers['webhook-id'], (m.get(r.headers['webhook-id']) || 0) + 1);
    return m;
  };

  before(async () => {
    rx = await startReceiver();
    const db = h.newPgDatabase();
    // both nodes start at once on the fresh database: migrations and the
    // first signing key race, and must happen once
    // (several scoring workers per node: more claims race for the same rows)
    const env = { ATHOS_SCORING_WORKERS: '4' };
    [A, B] = await Promise.all([h.startServer({ dbPath: db, env }), h.startServer({ dbPath: db, env })]);
    T = h.createTenant(A, { name: 'Cluster tenant', webhookUrl: rx.url });
  });

  after(async () => {
    for (const s of [A, B]) {
      try { if (s) await s.stop(); } catch { /* gone */ }
    }
    if (rx) await rx.close();
  });

  test('nodes started together migrate once and share one signing key', () => {
    assert.equal(h.signingKeys(A.dbPath).length, 1);
    const applied = `${A.logs()}${B.logs()}`.match(/migration 1 \(initial\) applied/g) || [];
    assert.equal(applied.length, 1, 'migration 1 ran on both nodes');
  });

  test('a token minted on node A redeems on node B; the ticket starts the call on node A', { timeout: 30_000 }, async () => {
    const { token } = await h.mintToken(A, T.apiKey, { externalUserId: 'rep_cluster' });
    const call = await h.redeem(B, token);
    assert.equal(call.connectionUrl, B.url.replace(/^http/, 'ws') + LIVE_PATH);
    const c = connect(A.url.replace(/^http/, 'ws') + LIVE_PATH);
    await c.opened;
    c.send({ type: 'start', ticket: call.connectionTicket });
    const ready = await c.next();
    assert.equal(ready.type, 'ready', JSON.stringify(ready));
    assert.equal(ready.callId, call.callId);
    assert.equal((await c.next()).type, 'say');
    c.send({ type: 'say', text: 'Hi, this is Sam with Acme Benefits. This call may be recorded.' });
    assert.equal((await c.next()).type, 'say');
    c.send({ type: 'end' });
    const ended = await c.next();
    assert.equal(ended.type, 'ended', JSON.stringify(ended));
    c.ws.close();
    // scored by either node, announced once, readable on both
    await h.eventually(async () => {
      const ra = await h.api(A, 'GET', `/calls/${call.callId}`, { apiKey: T.apiKey });
      assert.equal(ra.status, 200, ra.text.slice(0, 200));
    }, 15_000);
    const ra = await h.api(A, 'GET', `/calls/${call.callId}`, { apiKey: T.apiKey });
    const rb = await h.api(B, 'GET', `/calls/${call.callId}`, { apiKey: T.apiKey });
    assert.equal(rb.status, 200);
    assert.deepEqual(rb.body, ra.body);
    await h.eventually(() => {
      const mine = rx.requests.filter((r) => JSON.parse(r.body).data.callId === call.callId);
      assert.equal(mine.length, 1);
    }, 10_000);
  });

  test('two nodes racing to redeem one token: exactly one 200', { timeout: 60_000 }, async () => {
    for (let round = 0; round < 10; round++) {
      const { token } = await h.mintToken(round % 2 ? A : B, T.apiKey, { externalUserId: `rep_race_${round}` });
      const rs = await Promise.all(Array.from({ length: 8 }, (_, i) =>
        h.api(i % 2 ? A : B, 'POST', '/roleplay/session', { token, body: { drillKey: 'ma-full-sale' } })));
      const ok = rs.filter((r) => r.status === 200);
      assert.equal(ok.length, 1, `round ${round}: ${rs.map((r) => r.status).join(',')}`);
      for (const r of rs.filter((x) => x.status !== 200)) h.assertError(r, 401, 'TOKEN_ALREADY_USED');
    }
  });

  test('ended calls are scored once and each webhook delivered exactly once, with both nodes running', { timeout: 60_000 }, async () => {
    const before = rx.requests.length;
    const calls = h.seedScoredCalls(A.dbPath, T.tenantId, Array.from({ length: 30 }, (_, i) => ({
      status: 'ended', score: null, scoredAt: null, transcript: TRANSCRIPT, endedAt: Date.now() - i, durationSec: 42,
    })));
    const ids = new Set(calls.map((c) => c.id));
    const seen = () => rx.requests.slice(before).filter((r) => ids.has(JSON.parse(r.body).data.callId));
    await h.eventually(() => assert.equal(seen().length, 30), 30_000);
    await h.sleep(2500); // past both deliverers' next polls: nothing more may arrive
    const got = seen();
    assert.equal(got.length, 30, 'a webhook was delivered twice');
    const counts = byMsgId();
    for (const r of got) {
      assert.equal(counts.get(r.headers['webhook-id']), 1, `webhook-id ${r.headers['webhook-id']} arrived more than once`);
      new Webhook(T.webhookSecret).verify(r.body, r.headers);
    }
    assert.deepEqual(new Set(got.map((r) => JSON.parse(r.body).data.callId)), ids);
    const rows = JSON.parse(h.sqlite(A.dbPath, ".mode json\nSELECT e.status, e.attempts, count(a.id) AS n FROM webhook_events e JOIN calls c ON c.id = e.call_id LEFT JOIN webhook_attempts a ON a.event_id = e.id WHERE c.public_id LIKE 'athos_call_%' GROUP BY e.id, e.status, e.attempts;"));
    for (const r of rows) assert.deepEqual(r, { status: 'delivered', attempts: 1, n: 1 });
    assert.equal(rows.length, 31);
    const scored = (s) => (s.logs().match(/call athos_call_\S+ scored/g) || []).length;
    assert.equal(scored(A) + scored(B), 31, 'a call was scored twice');
    console.log(`# scored by node A: ${scored(A)}, by node B: ${scored(B)}`);
  });

  test('GET /calls on either node sees the same rows', async () => {
    const a = await listAll(A, T.apiKey);
    const b = await listAll(B, T.apiKey);
    assert.equal(a.length, 31);
    assert.deepEqual(b, a);
  });

  test('a node starting up leaves the live calls of running nodes alone; a dead node\'s are ended', { timeout: 60_000 }, async () => {
    const start = async (node, url) => {
      const { token } = await h.mintToken(node, T.apiKey, { externalUserId: 'rep_live' });
      const call = await h.redeem(node, token);
      const c = connect(url.replace(/^http/, 'ws') + LIVE_PATH);
      await c.opened;
      c.send({ type: 'start', ticket: call.connectionTicket });
      assert.equal((await c.next()).type, 'ready');
      assert.equal((await c.next()).type, 'say');
      return { call, c };
    };
    const status = (id) => JSON.parse(h.sqlite(A.dbPath, `.mode json\nSELECT status, end_reason FROM calls WHERE public_id = '${id}';`))[0];
    const C = await h.startServer({ dbPath: A.dbPath });
    const onA = await start(A, A.url);
    const onC = await start(C, C.url);
    await C.kill9(); // onC's node is gone: its call is an orphan
    const D = await h.startServer({ dbPath: A.dbPath }); // ends orphans at start-up
    try {
      await h.eventually(() => {
        const st = status(onC.call.callId);
        assert.equal(st.end_reason, 'disconnect');
        assert.ok(['ended', 'scoring', 'scored'].includes(st.status), JSON.stringify(st));
      }, 5000);
      assert.equal(status(onA.call.callId).status, 'live', 'a starting node ended a running node\'s call');
      onA.c.send({ type: 'say', text: 'Hi, this is Sam with Acme Benefits.' });
      assert.equal((await onA.c.next()).type, 'say');
      onA.c.send({ type: 'end' });
      const ended = await onA.c.next();
      assert.equal(ended.type, 'ended', JSON.stringify(ended));
      assert.equal(ended.reason, 'rep_hangup');
    } finally {
      onA.c.ws.close();
      await D.stop();
    }
  });
});
