'use strict';
/*
 * abuse_kit.js — pieces shared by the abuse suite (abuse.test.js) and its
 * benchmark (bench/abuse.js): a webhook receiver that answers or hangs, a
 * TEST-ONLY seeder of queued webhook events, and one short live call.
 *
 *   pct(sortedNumbers, p)                  the p-th percentile
 *   await startReceiver({hang})            -> rx: rx.url, rx.requests (count),
 *       rx.open (sockets), await rx.waitArrival(callId, ms) -> arrival time
 *       (ms), await rx.close(). hang: accept and never answer; otherwise 204.
 *   seedPendingEvents(server, tenantId, n, tag)   n due call.scored events
 *       written straight into the database (sqlite3 CLI or psql)
 *   await liveCall(server, apiKey, mintBody) -> {callId, tEnd}: mint, redeem,
 *       start, one `say`, `end` over the WebSocket; tEnd is when `end` was sent
 *   now()   wall-clock ms, sub-ms resolution (tEnd and arrivals use it)
 */
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const WebSocket = require('ws');
const h = require('./harness');

/* Wall-clock ms with sub-ms resolution, comparable across processes. */
const now = () => performance.timeOrigin + performance.now();

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/* A webhook receiver. hang: accept every request and never answer.
 * Otherwise answer 204 and note when each call's webhook arrived. */
async function startReceiver({ hang = false } = {}) {
  const rx = { requests: 0, arrivals: new Map(), waiters: [], open: new Set() };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      rx.requests++;
      if (hang) return; // never answer
      let callId = null;
      try { callId = JSON.parse(Buffer.concat(chunks).toString('utf8')).data.callId; } catch { /* not ours */ }
      if (callId && !rx.arrivals.has(callId)) rx.arrivals.set(callId, now());
      res.writeHead(204);
      res.end();
      for (const w of rx.waiters.splice(0)) w();
    });
  });
  server.on('connection', (sock) => {
    rx.open.add(sock);
    sock.on('close', () => rx.open.delete(sock));
    sock.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  rx.url = `http://127.0.0.1:${server.address().port}/hooks/athos`;
  rx.waitArrival = (callId, ms) => new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const check = () => {
      if (rx.arrivals.has(callId)) return resolve(rx.arrivals.get(callId));
      if (Date.now() > deadline) return reject(new Error(`no webhook for ${callId} within ${ms} ms`));
      rx.waiters.push(check);
      setTimeout(check, 50);
    };
    check();
  });
  rx.close = () => new Promise((resolve) => {
    for (const s of rx.open) s.destroy();
    server.close(() => resolve());
  });
  return rx;
}

/* TEST ONLY: n pending call.scored events for a tenant, due now. */
function seedPendingEvents(server, tenantId, n, tag) {
  const body = JSON.stringify({
    type: 'call.scored',
    timestamp: new Date().toISOString(),
    data: { callId: 'athos_call_SEEDEDSEEDEDSEEDED0000', source: 'roleplay', externalUserId: 'rep_seed', externalAgencyId: null, drillKey: 'ma-full-sale', scoredAt: new Date().toISOString() },
  }).replace(/'/g, "''");
  h.sqlite(server.dbPath, `BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${n})
INSERT INTO webhook_events(msg_id, tenant_id, payload, status, attempts, next_attempt_at, created_at)
SELECT 'msg_${tag}' || i, (SELECT id FROM tenants WHERE public_id = '${tenantId}'), '${body}', 'pending', 0, 0, 0 FROM seq;
COMMIT;`);
}

/* One short live call over the WebSocket; returns {callId, tEnd}, tEnd
 * being when {"type":"end"} was sent. */
async function liveCall(server, apiKey, mintBody = { externalUserId: 'rep_abuse' }) {
  const { token } = await h.mintToken(server, apiKey, mintBody);
  const red = await h.redeem(server, token);
  const ws = new WebSocket(red.connectionUrl, { perMessageDeflate: false });
  const inbox = [];
  let wake = () => {};
  ws.on('message', (d) => { inbox.push(JSON.parse(d.toString())); wake(); });
  const next = async (type) => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return inbox.splice(i, 1)[0];
      const e = inbox.find((m) => m.type === 'error');
      if (e) throw new Error(`live error: ${JSON.stringify(e)}`);
      if (Date.now() > deadline) throw new Error(`no ${type} frame`);
      await new Promise((r) => { wake = r; setTimeout(r, 100); });
    }
  };
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.send(JSON.stringify({ type: 'start', ticket: red.connectionTicket }));
  await next('ready');
  await next('say');
  ws.send(JSON.stringify({ type: 'say', text: 'Hi, this is Sam from Acme Benefits, this call may be recorded. How are you today?' }));
  await next('say');
  const closed = new Promise((r) => ws.once('close', r));
  const tEnd = now();
  ws.send(JSON.stringify({ type: 'end' }));
  await closed;
  return { callId: red.callId, tEnd };
}

module.exports = { now, pct, startReceiver, seedPendingEvents, liveCall };
