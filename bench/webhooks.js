'use strict';
/*
 * webhooks.js — the webhook benchmark's driver (run by bench/webhooks.sh).
 *
 *  1. end → webhook latency: live calls over the WebSocket, one after
 *     another; the clock starts when {"type":"end"} is sent and stops when
 *     the receiver has the signed call.scored request. p50/p99/max.
 *  2. deliveries/s: BENCH_EVENTS pending outbox events are written into
 *     the database while the server is stopped (test-only seeding with the
 *     sqlite3 CLI), then the server starts and the receiver times first to
 *     last arrival. This is the deliverer alone.
 *  3. pipeline/s: the same with BENCH_PIPELINE ended calls (40 turns each):
 *     scoring, the outbox commit and delivery together.
 *  4. baseline: node itself POSTs the same number of identically signed
 *     bodies to the same receiver with a keep-alive agent (32 sockets, as
 *     many as the deliverer opens per host). The ratio athos / baseline
 *     says how close the deliverer gets to what the receiver can take.
 *
 * Environment: ATHOS_BIN (required), REPO, BENCH_CALLS (200),
 * BENCH_EVENTS (20000), BENCH_PIPELINE (3000), BENCH_OUT (results file).
 */
const { spawn, fork, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const kit = require('../tests/api/abuse_kit');
const { Webhook } = require('standardwebhooks');

const REPO = process.env.REPO || path.resolve(__dirname, '..');
const BIN = process.env.ATHOS_BIN;
const CALLS = Number(process.env.BENCH_CALLS || 200);
const EVENTS = Number(process.env.BENCH_EVENTS || 20000);
const PIPELINE = Number(process.env.BENCH_PIPELINE || 3000);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const lines = [];
function report(s) {
  lines.push(s);
  console.log(s);
}

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/* ------------------------------------------------------------ receiver */

function startReceiver() {
  const child = fork(path.join(__dirname, 'webhook_receiver.js'), [], {
    env: { ...process.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const rx = { child, arrivals: new Map(), times: [], bad: 0, waiters: [] };
  child.on('message', (m) => {
    if (m.ready) rx.port = m.port;
    if (m.arrivals) {
      for (const [id, callId, t] of m.arrivals) {
        rx.times.push(t);
        if (callId && !rx.arrivals.has(callId)) rx.arrivals.set(callId, t);
      }
      rx.bad = m.bad;
      for (const w of rx.waiters.splice(0)) w();
    }
  });
  rx.waitCount = async (n, ms) => {
    const deadline = Date.now() + ms;
    while (rx.times.length < n) {
      if (Date.now() > deadline) throw new Error(`receiver: ${rx.times.length}/${n} after ${ms} ms`);
      await new Promise((r) => { rx.waiters.push(r); setTimeout(r, 200); });
    }
  };
  rx.reset = () => { rx.times = []; };
  return new Promise((resolve) => {
    child.on('message', (m) => { if (m.ready) resolve(rx); });
  });
}

/* -------------------------------------------------------------- server */

function sqlite(db, sql) {
  return execFileSync('sqlite3', ['-batch', db], { input: `.timeout 20000\n${sql}\n`, encoding: 'utf8', maxBuffer: 1 << 26 });
}

function cli(db, args) {
  return JSON.parse(execFileSync(BIN, args, { env: { ...process.env, ATHOS_DATABASE_URL: `sqlite:${db}` }, encoding: 'utf8' }));
}

async function startServer(db, port) {
  const proc = spawn(BIN, ['serve'], {
    env: {
      ...process.env,
      ATHOS_DATABASE_URL: `sqlite:${db}`,
      ATHOS_LISTEN: `127.0.0.1:${port}`,
      ATHOS_DRILLS_DIR: path.join(REPO, 'drills'),
      ATHOS_ALLOW_PRIVATE_WEBHOOKS: '1',
      ATHOS_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (c) => { err = (err + c).slice(-4000); });
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      await r.arrayBuffer();
      if (r.ok) return proc;
    } catch { /* not yet */ }
    if (proc.exitCode !== null) break;
    await sleep(50);
  }
  throw new Error(`athos serve did not start: ${err}`);
}

function stopServer(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.once('exit', resolve);
    proc.kill('SIGTERM');
  });
}

async function api(port, p, auth, body) {
  const r = await fetch(`http://127.0.0.1:${port}/api/external/v1${p}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${auth}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const j = await r.json();
  if (!r.ok) throw new Error(`${p}: ${r.status} ${JSON.stringify(j)}`);
  return j;
}

/* One live call (the abuse suite's); resolves with {callId, tEnd}, tEnd
 * being when {"type":"end"} was sent. */
function liveCall(port, apiKey) {
  return kit.liveCall({ baseUrl: `http://127.0.0.1:${port}/api/external/v1` }, apiKey, { externalUserId: 'rep_bench' });
}

/* ------------------------------------------------------------- seeding */

const PAYLOAD = (callId) => JSON.stringify({
  type: 'call.scored',
  timestamp: new Date().toISOString(),
  data: { callId, source: 'roleplay', externalUserId: 'rep_bench', externalAgencyId: 'agency_bench', drillKey: 'ma-full-sale', scoredAt: new Date().toISOString() },
});

function seedEvents(db, tenantId, n, tag) {
  const body = PAYLOAD('athos_call_BENCHMARKBENCHMARK0000').replace(/'/g, "''");
  sqlite(db, `BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${n})
INSERT INTO webhook_events(msg_id, tenant_id, payload, status, attempts, next_attempt_at, created_at)
SELECT 'msg_${tag}' || i, (SELECT id FROM tenants WHERE public_id = '${tenantId}'), '${body}', 'pending', 0, 0, 0 FROM seq;
COMMIT;`);
}

function seedEndedCalls(db, tenantId, n, turns) {
  const t = Date.now();
  const lines40 = [];
  for (let k = 0; k < turns; k++) {
    lines40.push(k % 2 === 0
      ? ['assistant', 'Well, I have had my plan for a few years and I like my doctor, but the drug costs are high.']
      : ['user', 'What matters most to you about your coverage, and which prescriptions do you take today?']);
  }
  const values = lines40.map(([r, c], k) => `(${k}, '${r}', '${c.replace(/'/g, "''")}', ${k * 4000})`).join(',');
  sqlite(db, `BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${n})
INSERT INTO calls(public_id, session_id, tenant_id, external_user_id, drill_key, difficulty, persona_index,
  persona_name, seed, status, end_reason, created_at, started_at, ended_at, updated_at, duration_sec)
SELECT 'athos_call_bench' || printf('%017d', i), 'ext_bench' || i, (SELECT id FROM tenants WHERE public_id = '${tenantId}'),
  'rep_bench', 'ma-full-sale', 'Advanced', 0, 'Gloria Washington', i, 'ended', 'rep_hangup', ${t}, ${t}, ${t}, ${t}, 160 FROM seq;
CREATE TEMP TABLE turns(idx, role, content, at_ms);
INSERT INTO turns VALUES ${values};
INSERT INTO call_turns(call_id, idx, role, content, at_ms)
SELECT c.id, t.idx, t.role, t.content, t.at_ms FROM calls c, turns t WHERE c.public_id LIKE 'athos_call_bench%';
COMMIT;`);
}

/* ------------------------------------------------------------ baseline */

async function baseline(port, secret, n) {
  const wh = new Webhook(secret);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const body = PAYLOAD('athos_call_BENCHMARKBENCHMARK0000');
  let sent = 0;
  const one = () => new Promise((resolve, reject) => {
    const id = `msg_base${sent++}`;
    const ts = new Date();
    const headers = {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(ts.getTime() / 1000)),
      'webhook-signature': wh.sign(id, ts, body),
      'content-length': Buffer.byteLength(body),
    };
    const req = http.request({ host: '127.0.0.1', port, path: '/hooks/athos', method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
  const workers = [];
  for (let w = 0; w < 32; w++) {
    workers.push((async () => {
      while (sent < n) await one();
    })());
  }
  await Promise.all(workers);
  agent.destroy();
}

function rate(times, n) {
  const s = times.slice(0, n).sort((a, b) => a - b);
  const span = (s[s.length - 1] - s[0]) / 1000;
  return { rate: span > 0 ? (s.length - 1) / span : Infinity, span };
}

/* ---------------------------------------------------------------- main */

async function main() {
  if (!BIN) throw new Error('ATHOS_BIN is required');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'athos-bench-hooks-'));
  const db = path.join(dir, 'athos.db');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const rx = await startReceiver();
  let server = null;
  try {
    cli(db, ['migrate']);
    const T = cli(db, ['tenant', 'create', '--name', 'bench', '--webhook-url', `http://127.0.0.1:${rx.port}/hooks/athos`]);
    rx.child.send({ secret: T.webhookSecret });
    report(`athos webhook benchmark — ${new Date().toISOString()} — ${os.cpus().length} cores, ${os.cpus()[0].model}`);
    report(`binary ${BIN}`);

    /* 1. end → webhook */
    server = await startServer(db, port);
    for (let i = 0; i < 5; i++) await liveCall(port, T.apiKey); // warm-up
    await rx.waitCount(5, 10000);
    rx.reset();
    const ends = [];
    for (let i = 0; i < CALLS; i++) ends.push(await liveCall(port, T.apiKey));
    await rx.waitCount(CALLS, 30000);
    const lat = ends.map((e) => rx.arrivals.get(e.callId) - e.tEnd).sort((a, b) => a - b);
    report(`end -> webhook received (${CALLS} live calls, sequential): p50 ${pct(lat, 50).toFixed(1)} ms, ` +
      `p99 ${pct(lat, 99).toFixed(1)} ms, max ${lat[lat.length - 1].toFixed(1)} ms (target p99 <= 200 ms)`);
    await stopServer(server);
    server = null;

    /* 2. deliverer alone */
    seedEvents(db, T.tenantId, EVENTS, 'ev');
    rx.reset();
    server = await startServer(db, port);
    await rx.waitCount(EVENTS, 120000);
    const d = rate(rx.times, EVENTS);
    report(`deliveries/s (${EVENTS} queued events, deliverer alone): ${d.rate.toFixed(0)}/s over ${d.span.toFixed(2)} s (target >= 2000/s)`);
    await stopServer(server);
    server = null;

    /* 3. scoring + outbox + delivery */
    seedEndedCalls(db, T.tenantId, PIPELINE, 40);
    rx.reset();
    server = await startServer(db, port);
    await rx.waitCount(PIPELINE, 300000);
    const p = rate(rx.times, PIPELINE);
    report(`pipeline/s (${PIPELINE} ended 40-turn calls: score + outbox commit + delivery): ${p.rate.toFixed(0)}/s over ${p.span.toFixed(2)} s`);
    await stopServer(server);
    server = null;

    /* 4. baseline */
    rx.reset();
    const t0 = now();
    await baseline(rx.port, T.webhookSecret, EVENTS);
    await rx.waitCount(EVENTS, 120000);
    const b = rate(rx.times, EVENTS);
    report(`baseline: node keep-alive POSTs of the same signed bodies (32 sockets): ${b.rate.toFixed(0)}/s over ${b.span.toFixed(2)} s (wall ${((now() - t0) / 1000).toFixed(2)} s)`);
    report(`ratio athos deliverer / baseline: ${(d.rate / b.rate).toFixed(2)}x`);
    report(`signature check failures at the receiver (sampled): ${rx.bad}`);
    if (process.env.BENCH_OUT) fs.writeFileSync(process.env.BENCH_OUT, lines.join('\n') + '\n');
  } finally {
    if (server) await stopServer(server);
    rx.child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`bench: ${e.stack || e}`);
  process.exit(1);
});
