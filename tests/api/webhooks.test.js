'use strict';
// call.scored webhooks, black-box: a real receiver on 127.0.0.1 verifies
// every delivery with npm `standardwebhooks` AND npm `svix`; retries keep
// the webhook-id and re-sign; a kill -9 loses nothing; a rotation signs
// with both secrets; a private target is refused without the flag; 410,
// redirects and Retry-After behave as DESIGN.md says.
//
// Ended calls are produced two ways: a full live call over the WebSocket
// (the real path), and — to control timing precisely — a TEST-ONLY helper
// that writes an `ended` call with its turns straight into the SQLite file
// with the sqlite3 CLI (never a back door in the server).
const { test, describe, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const WebSocket = require('ws');
const { Webhook: StandardWebhook } = require('standardwebhooks');
const { Webhook: SvixWebhook } = require('svix');
const h = require('./harness');

const TRANSCRIPT = [
  { role: 'assistant', content: 'Hello? Who is this?' },
  { role: 'user', content: 'Hi, this is Sam with Acme Benefits. This call may be recorded for quality. How are you today?' },
  { role: 'assistant', content: "I'm fine. What is this about?" },
  { role: 'user', content: 'What matters most to you about your current Medicare coverage?' },
  { role: 'assistant', content: 'I like my doctor. I do not want to lose him.' },
  { role: 'user', content: 'Understood. Thank you for your time today, goodbye.' },
];

const servers = [];
const receivers = [];
after(async () => {
  for (const s of servers) {
    try { await s.stop(); } catch { /* already gone */ }
  }
  for (const r of receivers) await r.close();
});

/* ------------------------------------------------------------ helpers */

/* A webhook receiver: records every request (headers, raw body, time) and
 * answers with respond(req, index) -> {status, headers} | 'hang'. */
async function startReceiver(respond = () => ({ status: 204 })) {
  const r = {
    requests: [],
    connections: 0,
    waiters: [],
    hanging: [],
    respond,
  };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const entry = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      const idx = r.requests.length;
      r.requests.push(entry);
      const answer = r.respond(entry, idx);
      if (answer === 'hang') {
        r.hanging.push(res);
      } else {
        res.writeHead(answer.status, answer.headers || {});
        res.end(answer.body || '');
      }
      for (const w of r.waiters.splice(0)) w();
    });
  });
  server.on('connection', (sock) => {
    r.connections++;
    sock.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.port = server.address().port;
  r.url = `http://127.0.0.1:${r.port}/hooks/athos`;
  /* Resolves when at least n requests have arrived. */
  r.waitFor = (n, ms = 5000) => new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const check = () => {
      if (r.requests.length >= n) return resolve(r.requests.slice());
      if (Date.now() > deadline) return reject(new Error(`receiver: ${r.requests.length} of ${n} request(s) after ${ms} ms`));
      r.waiters.push(check);
      setTimeout(check, Math.min(100, Math.max(1, deadline - Date.now())));
    };
    check();
  });
  r.close = () => new Promise((resolve) => {
    for (const res of r.hanging) { try { res.destroy(); } catch { /* gone */ } }
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
  receivers.push(r);
  return r;
}

async function serve(env = {}) {
  const s = await h.startServer({ env: { ATHOS_ALLOW_PRIVATE_WEBHOOKS: '1', ...env } });
  servers.push(s);
  return s;
}

/* Rows of a query on the server's database, via the sqlite3 CLI. */
function rows(server, sql) {
  const out = h.sqlite(server.dbPath, `.mode json\n${sql}`).trim();
  return out ? JSON.parse(out) : [];
}

/* TEST ONLY: an `ended` call with its turns, written into the SQLite file
 * as the live loop would leave it. */
function seedEndedCall(server, tenantId, opts = {}) {
  return h.seedScoredCall(server.dbPath, tenantId, {
    status: 'ended',
    scoredAt: null,
    score: null,
    transcript: TRANSCRIPT,
    endedAt: Date.now(),
    durationSec: 42,
    ...opts,
  });
}

function verifyBoth(secret, req) {
  const headers = {
    'webhook-id': req.headers['webhook-id'],
    'webhook-timestamp': req.headers['webhook-timestamp'],
    'webhook-signature': req.headers['webhook-signature'],
  };
  const a = new StandardWebhook(secret).verify(req.body, headers);
  const b = new SvixWebhook(secret).verify(req.body, headers);
  assert.deepEqual(a, JSON.parse(req.body));
  assert.deepEqual(b, JSON.parse(req.body));
  return a;
}

function assertStandardHeaders(req) {
  assert.equal(req.method, 'POST');
  assert.match(req.headers['content-type'], /^application\/json/);
  assert.match(req.headers['webhook-id'], /^msg_[A-Za-z0-9_-]+$/);
  assert.match(req.headers['webhook-timestamp'], /^\d+$/);
  const ts = Number(req.headers['webhook-timestamp']);
  assert.ok(Math.abs(ts - Date.now() / 1000) < 30, `timestamp ${ts} is not now`);
  for (const sig of req.headers['webhook-signature'].split(' ')) assert.match(sig, /^v1,[A-Za-z0-9+/]{43}=$/);
}

function assertPayload(body, call) {
  assert.deepEqual(Object.keys(body).sort(), ['data', 'timestamp', 'type']);
  assert.equal(body.type, 'call.scored');
  assert.ok(!Number.isNaN(Date.parse(body.timestamp)));
  assert.deepEqual(Object.keys(body.data).sort(),
    ['callId', 'drillKey', 'externalAgencyId', 'externalUserId', 'scoredAt', 'source']);
  assert.equal(body.data.callId, call.id);
  assert.equal(body.data.source, 'roleplay');
  assert.equal(body.data.externalUserId, call.externalUserId);
  assert.equal(body.data.externalAgencyId, call.externalAgencyId ?? null);
  assert.equal(body.data.drillKey, 'ma-full-sale');
  assert.match(body.data.scoredAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
}

/* ------------------------------------------------------------- tests */

describe('call.scored delivery', () => {
  test('a scored call is announced, verifies with standardwebhooks and svix, and is readable over REST', async () => {
    const rx = await startReceiver();
    const server = await serve();
    const T = h.createTenant(server, { webhookUrl: rx.url });
    const call = seedEndedCall(server, T.tenantId, { externalUserId: 'rep_8842', externalAgencyId: null });
    const t0 = Date.now();
    const [req] = await rx.waitFor(1, 5000);
    assertStandardHeaders(req);
    assert.equal(req.headers['webhook-signature'].split(' ').length, 1);
    const body = verifyBoth(T.webhookSecret, req);
    assertPayload(body, call);
    assert.ok(Buffer.byteLength(req.body) < 20 * 1024);
    // A wrong secret does not verify.
    assert.throws(() => new StandardWebhook('whsec_' + Buffer.alloc(32, 7).toString('base64')).verify(req.body, req.headers));

    const r = await h.api(server, 'GET', `/calls/${call.id}`, { apiKey: T.apiKey });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.id, call.id);
    assert.equal(r.body.status, 'scored');
    assert.equal(r.body.scoredAt, body.data.scoredAt);
    assert.equal(typeof r.body.score.overallScore, 'number');

    // Exactly one delivery, recorded as one successful attempt.
    await h.sleep(300);
    assert.equal(rx.requests.length, 1);
    const ev = rows(server, "SELECT e.status, e.attempts, a.http_status, a.error FROM webhook_events e JOIN webhook_attempts a ON a.event_id = e.id");
    assert.deepEqual(ev, [{ status: 'delivered', attempts: 1, http_status: 204, error: null }]);
    assert.ok(Date.now() - t0 < 5000);
  });

  test('a receiver answering 500 twice gets the event on the 3rd attempt with the same webhook-id', async () => {
    const rx = await startReceiver((req, i) => (i < 2 ? { status: 500 } : { status: 200 }));
    const server = await serve({ ATHOS_WEBHOOK_RETRY_SCHEDULE: '0,1,1' });
    const T = h.createTenant(server, { webhookUrl: rx.url });
    const call = seedEndedCall(server, T.tenantId);
    const reqs = await rx.waitFor(3, 10000);
    const ids = new Set(reqs.map((q) => q.headers['webhook-id']));
    assert.equal(ids.size, 1, 'webhook-id changed between retries');
    for (const q of reqs) {
      assertStandardHeaders(q);
      assertPayload(verifyBoth(T.webhookSecret, q), call); // each attempt is re-signed and verifies
      assert.equal(q.body, reqs[0].body, 'the body changed between retries');
    }
    // The schedule (seconds before each attempt: 0, 1, 1) with ±10 % jitter.
    const gap1 = reqs[1].at - reqs[0].at;
    const gap2 = reqs[2].at - reqs[1].at;
    assert.ok(gap1 >= 850 && gap1 < 2500, `gap 1: ${gap1} ms`);
    assert.ok(gap2 >= 850 && gap2 < 2500, `gap 2: ${gap2} ms`);
    await h.eventually(() => {
      const a = rows(server, 'SELECT http_status, error, latency_ms FROM webhook_attempts ORDER BY id');
      assert.deepEqual(a.map((x) => x.http_status), [500, 500, 200]);
      assert.deepEqual(a.map((x) => x.error), ['HTTP 500', 'HTTP 500', null]);
      for (const x of a) assert.ok(x.latency_ms >= 0);
      assert.deepEqual(rows(server, 'SELECT status, attempts FROM webhook_events'), [{ status: 'delivered', attempts: 3 }]);
    });
  });

  test('retries run out: the event is marked failed after the last attempt', async () => {
    const rx = await startReceiver(() => ({ status: 503 }));
    const server = await serve({ ATHOS_WEBHOOK_RETRY_SCHEDULE: '0,1' });
    const T = h.createTenant(server, { webhookUrl: rx.url });
    seedEndedCall(server, T.tenantId);
    await rx.waitFor(2, 8000);
    await h.eventually(() => {
      assert.deepEqual(rows(server, 'SELECT status, attempts FROM webhook_events'), [{ status: 'failed', attempts: 2 }]);
    });
    await h.sleep(1500);
    assert.equal(rx.requests.length, 2, 'sent again after being marked failed');

    // `athos webhook replay` re-sends it, same id.
    rx.respond = () => ({ status: 204 });
    const out = h.cli(['webhook', 'replay', T.tenantId, '--since', new Date(Date.now() - 3600e3).toISOString()], { dbPath: server.dbPath });
    assert.deepEqual(out, { replayed: 1 });
    const reqs = await rx.waitFor(3, 5000);
    assert.equal(reqs[2].headers['webhook-id'], reqs[0].headers['webhook-id']);
    verifyBoth(T.webhookSecret, reqs[2]);
    await h.eventually(() => {
      assert.deepEqual(rows(server, 'SELECT status FROM webhook_events'), [{ status: 'delivered' }]);
    });
    // --since after the event: nothing to replay.
    assert.deepEqual(h.cli(['webhook', 'replay', T.tenantId, '--since', new Date(Date.now() + 60e3).toISOString()], { dbPath: server.dbPath }), { replayed: 0 });
  });

  test('Retry-After on 429 is honoured instead of the schedule', async () => {
    const rx = await startReceiver((req, i) => (i === 0 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 200 }));
    const server = await serve({ ATHOS_WEBHOOK_RETRY_SCHEDULE: '0,300' });
    const T = h.createTenant(server, { webhookUrl: rx.url });
    seedEndedCall(server, T.tenantId);
    const reqs = await rx.waitFor(2, 6000); // the schedule alone would wait 300 s
    const gap = reqs[1].at - reqs[0].at;
    assert.ok(gap >= 950 && gap < 3000, `gap ${gap} ms`);
  });

  test('a redirect is not followed (a failure), and a 410 disables the endpoint', async () => {
    const rx = await startReceiver((req) => (req.url.startsWith('/elsewhere')
      ? { status: 200 }
      : { status: 302, headers: { Location: `http://127.0.0.1:${rx.port}/elsewhere` } }));
    const server = await serve({ ATHOS_WEBHOOK_RETRY_SCHEDULE: '0' });
    const T = h.createTenant(server, { webhookUrl: rx.url });
    seedEndedCall(server, T.tenantId);
    await rx.waitFor(1, 5000);
    await h.eventually(() => {
      assert.deepEqual(rows(server, 'SELECT e.status, a.http_status FROM webhook_events e JOIN webhook_attempts a ON a.event_id = e.id'),
        [{ status: 'failed', http_status: 302 }]);
    });
    assert.equal(rx.requests.filter((q) => q.url.startsWith('/elsewhere')).length, 0, 'the redirect was followed');

    rx.respond = () => ({ status: 410 });
    const s2 = await serve({ ATHOS_WEBHOOK_RETRY_SCHEDULE: '0,1,1' });
    const T2 = h.createTenant(s2, { webhookUrl: rx.url });
    seedEndedCall(s2, T2.tenantId);
    seedEndedCall(s2, T2.tenantId);
    await rx.waitFor(2, 5000);
    await h.eventually(() => {
      const t = rows(s2, 'SELECT webhook_enabled FROM tenants');
      assert.deepEqual(t, [{ webhook_enabled: 0 }]);
    });
    await h.sleep(2500);
    // One 410 stops the endpoint: at most the one other event already in flight went out.
    assert.ok(rx.requests.length <= 3, `${rx.requests.length} requests after a 410`);
  });
});

describe('crash safety', () => {
  test('kill -9 between end and delivery: the event is delivered after restart, same webhook-id', async () => {
    let hang = true;
    const rx = await startReceiver(() => (hang ? 'hang' : { status: 200 }));
    const env = { ATHOS_WEBHOOK_TIMEOUT_MS: '1000', ATHOS_WEBHOOK_RETRY_SCHEDULE: '0,1,1' };
    const server = await serve(env);
    const T = h.createTenant(server, { webhookUrl: rx.url });
    const call = seedEndedCall(server, T.tenantId);
    // The score and its event are committed; the delivery is in flight.
    const [first] = await rx.waitFor(1, 5000);
    await server.kill9();
    assert.deepEqual(rows(server, 'SELECT status FROM calls'), [{ status: 'scored' }]);
    assert.deepEqual(rows(server, 'SELECT status, attempts FROM webhook_events'), [{ status: 'pending', attempts: 0 }]);

    // Another ended call arrives while the server is down (ended, never scored).
    const call2 = seedEndedCall(server, T.tenantId);
    hang = false;
    await server.restart({ env: { ...env, ATHOS_ALLOW_PRIVATE_WEBHOOKS: '1' } });
    // The second call is scored and sent at once; the first after its lease
    // (timeout + margin) runs out.
    const reqs = await rx.waitFor(3, 20000);
    const byCall = new Map();
    for (const q of reqs.slice(1)) byCall.set(verifyBoth(T.webhookSecret, q).data.callId, q);
    assert.ok(byCall.has(call.id), 'the in-flight event was not redelivered');
    assert.ok(byCall.has(call2.id), 'the call ended while down was not scored and announced');
    assert.equal(byCall.get(call.id).headers['webhook-id'], first.headers['webhook-id']);
    await h.eventually(() => {
      assert.deepEqual(rows(server, "SELECT count(*) AS n FROM webhook_events WHERE status = 'delivered'"), [{ n: 2 }]);
    });
    // Scored once each: two calls, two events, never more.
    assert.deepEqual(rows(server, 'SELECT count(*) AS n FROM webhook_events'), [{ n: 2 }]);
  });
});

describe('secret rotation', () => {
  test('after rotate-secret both secrets verify during the overlap', async () => {
    const rx = await startReceiver();
    const server = await serve();
    const T = h.createTenant(server, { webhookUrl: rx.url });
    const out = h.cli(['webhook', 'rotate-secret', T.tenantId], { dbPath: server.dbPath });
    assert.deepEqual(Object.keys(out), ['webhookSecret']);
    assert.match(out.webhookSecret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.notEqual(out.webhookSecret, T.webhookSecret);
    assert.equal(Buffer.from(out.webhookSecret.slice(6), 'base64').length, 32);

    const call = seedEndedCall(server, T.tenantId);
    const [req] = await rx.waitFor(1, 5000);
    assert.equal(req.headers['webhook-signature'].split(' ').length, 2, req.headers['webhook-signature']);
    assertPayload(verifyBoth(out.webhookSecret, req), call); // the new secret
    assertPayload(verifyBoth(T.webhookSecret, req), call); // the old one, still in its 24 h
    const exp = rows(server, 'SELECT expires_at FROM webhook_secrets ORDER BY id');
    assert.equal(exp.length, 2);
    assert.ok(Math.abs(exp[0].expires_at - (Date.now() + 24 * 3600e3)) < 60e3, 'old secret does not expire in 24 h');
    assert.equal(exp[1].expires_at, null);

    // The CLI's errors: one JSON object on stdout, a non-zero status.
    assert.throws(() => h.cli(['webhook', 'rotate-secret', 'ten_nope'], { dbPath: server.dbPath }), /status 1/);
    assert.throws(() => h.cli(['webhook', 'replay', T.tenantId], { dbPath: server.dbPath }), /status 2/);
    assert.throws(() => h.cli(['webhook', 'replay', T.tenantId, '--since', 'yesterday'], { dbPath: server.dbPath }), /status 2/);
  });
});

describe('SSRF guard', () => {
  test('a private-address target is refused without ATHOS_ALLOW_PRIVATE_WEBHOOKS', async () => {
    // A listener on loopback that must never see a connection.
    let connections = 0;
    const trap = net.createServer((s) => { connections++; s.destroy(); });
    await new Promise((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const port = trap.address().port;
    try {
      const server = await serve({ ATHOS_ALLOW_PRIVATE_WEBHOOKS: '0', ATHOS_WEBHOOK_RETRY_SCHEDULE: '0' });
      const cases = [
        [`https://127.0.0.1:${port}/hook`, /loopback/],
        [`https://localhost:${port}/hook`, /loopback/],
        [`https://[::ffff:127.0.0.1]:${port}/hook`, /loopback/],
        [`https://169.254.169.254:${port}/latest/meta-data`, /link-local/],
        [`http://127.0.0.1:${port}/hook`, /https/],
      ];
      const tenants = [];
      for (const [url, why] of cases) {
        const T = h.createTenant(server, { webhookUrl: url });
        const call = seedEndedCall(server, T.tenantId);
        tenants.push({ T, call, why });
      }
      await h.eventually(() => {
        const failed = rows(server, "SELECT count(*) AS n FROM webhook_events WHERE status = 'failed'");
        assert.deepEqual(failed, [{ n: cases.length }]);
      }, 10000);
      for (const { T, call, why } of tenants) {
        const a = rows(server, `SELECT a.http_status, a.error FROM webhook_attempts a JOIN webhook_events e ON e.id = a.event_id JOIN tenants t ON t.id = e.tenant_id WHERE t.public_id = '${T.tenantId}'`);
        assert.equal(a.length, 1);
        assert.equal(a[0].http_status, null);
        assert.match(a[0].error, why);
        // The call itself is scored and readable: only the webhook is refused.
        const r = await h.api(server, 'GET', `/calls/${call.id}`, { apiKey: T.apiKey });
        assert.equal(r.status, 200);
      }
      assert.equal(connections, 0, 'the deliverer connected to a private address');
    } finally {
      await new Promise((resolve) => trap.close(resolve));
    }
  });
});

describe('end to end', () => {
  test('a live call over the WebSocket ends, is scored, and its webhook verifies', async () => {
    const rx = await startReceiver();
    const server = await serve();
    const T = h.createTenant(server, { webhookUrl: rx.url });
    const { token } = await h.mintToken(server, T.apiKey, { externalUserId: 'rep_e2e', externalAgencyId: 'agency_e2e' });
    const redeemed = await h.redeem(server, token);
    const ws = new WebSocket(redeemed.connectionUrl, { perMessageDeflate: false });
    const inbox = [];
    let wake = null;
    ws.on('message', (d) => { inbox.push(JSON.parse(d.toString())); if (wake) wake(); });
    const next = async (type, ms = 5000) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const i = inbox.findIndex((m) => m.type === type || m.type === 'error');
        if (i >= 0) {
          const [m] = inbox.splice(i, 1);
          assert.notEqual(m.type, 'error', JSON.stringify(m));
          return m;
        }
        if (Date.now() > deadline) throw new Error(`no ${type} message`);
        await new Promise((r) => { wake = r; setTimeout(r, 50); });
      }
    };
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    ws.send(JSON.stringify({ type: 'start', ticket: redeemed.connectionTicket }));
    const ready = await next('ready');
    assert.equal(ready.callId, redeemed.callId);
    await next('say');
    for (const line of TRANSCRIPT.filter((t) => t.role === 'user')) {
      ws.send(JSON.stringify({ type: 'say', text: line.content }));
      await next('say');
    }
    const closed = new Promise((resolve) => ws.once('close', resolve));
    const tEnd = Date.now();
    ws.send(JSON.stringify({ type: 'end' }));
    await closed; // (the live protocol's `ended` frame is the live tests' business)
    const ended = inbox.find((m) => m.type === 'ended');
    if (ended) assert.equal(ended.callId, redeemed.callId);
    const [req] = await rx.waitFor(1, 5000);
    const latency = req.at - tEnd;
    assert.ok(latency < 1000, `webhook ${latency} ms after end`);
    const body = verifyBoth(T.webhookSecret, req);
    assertPayload(body, { id: redeemed.callId, externalUserId: 'rep_e2e', externalAgencyId: 'agency_e2e' });
    const r = await h.api(server, 'GET', `/calls/${redeemed.callId}`, { apiKey: T.apiKey });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, 'scored');
  });
});
