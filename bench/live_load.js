'use strict';
// live_load.js — holds N concurrent live roleplay calls on one server, each
// saying a line every few seconds (N / rate), and reports the calls held,
// the server's RSS per call and the persona's reply latency at the client.
// Run through bench/live.sh, which starts the server and a baseline.
//
//   node bench/live_load.js --url http://127.0.0.1:8080 --api-key ath_live_… --pid PID
//        [--calls 10000] [--rate 1000] [--seconds 30] [--label athos]
//   node bench/live_load.js --echo-server PORT   (the baseline: a plain ws server)
//   node bench/live_load.js --baseline ws://127.0.0.1:PORT --pid PID …
//
// Prints one JSON line of results on stdout (progress on stderr).
const fs = require('node:fs');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..');
const WebSocket = require(require.resolve('ws', { paths: [path.join(REPO, 'tests', 'api')] }));

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const LINES = [
  'Hi, this is Sam, a licensed insurance agent. This call is being recorded.',
  'Which doctors do you see at the moment?',
  'What prescriptions are you taking right now?',
  'Which pharmacy do you usually use?',
  'What coverage do you have today?',
  'What would be a comfortable monthly budget for you?',
  'How has your health been lately?',
  'Do you get any Extra Help with your drug costs?',
  'Let me make sure I have that right.',
  'That makes sense, thank you for explaining.',
];

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function rssKiB(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(s)[1]);
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/* ------------------------------------------------- the baseline server */

function echoServer(port) {
  // The same protocol shape with no persona and no database: what a bare
  // Node ws server costs at the same message rate.
  const wss = new WebSocket.Server({ port, host: '127.0.0.1', perMessageDeflate: false, backlog: 4096 });
  wss.on('connection', (ws) => {
    let turn = 0;
    ws.on('message', (data) => {
      let m;
      try { m = JSON.parse(data); } catch { ws.send('{"type":"error","code":"INVALID_REQUEST","message":"bad json"}'); return; }
      if (m.type === 'start') {
        ws.send(JSON.stringify({ type: 'ready', callId: 'athos_call_echo', sessionId: 'ext_echo', persona: { name: 'Echo' } }));
        ws.send(JSON.stringify({ type: 'say', text: 'Hello?', turn: turn++ }));
      } else if (m.type === 'say') {
        turn++;
        ws.send(JSON.stringify({ type: 'say', text: `You said: ${m.text}`, turn: turn++ }));
      } else if (m.type === 'end') {
        ws.send(JSON.stringify({ type: 'ended', callId: 'athos_call_echo', durationSec: 0, reason: 'rep_hangup' }));
        ws.close(1000);
      }
    });
  });
  wss.on('listening', () => process.stderr.write(`echo server on ${port}\n`));
}

/* ------------------------------------------------------------ the load */

async function mintAndRedeem(base, apiKey, i) {
  let r = await fetch(`${base}/api/external/v1/session`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ externalUserId: `rep_bench_${i}` }),
  });
  if (r.status !== 200) throw new Error(`mint ${r.status} ${await r.text()}`);
  const { token } = await r.json();
  r = await fetch(`${base}/api/external/v1/roleplay/session`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ drillKey: 'ma-full-sale', difficulty: 'Beginner' }),
  });
  if (r.status !== 200) throw new Error(`redeem ${r.status} ${await r.text()}`);
  return r.json();
}

/* One call: connect, start, and resolve once ready + opener arrived. */
function openCall(url, ticket, stats) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 30_000 });
    const call = { ws, live: false, waiting: false, sentAt: 0n, line: 0, ended: null, turn: 0 };
    let settled = false;
    const done = (ok) => { if (!settled) { settled = true; resolve(ok ? call : null); } };
    ws.on('open', () => ws.send(JSON.stringify({ type: 'start', ticket })));
    ws.on('message', (data) => {
      const m = JSON.parse(data);
      if (m.type === 'say') {
        if (!call.live) { call.live = true; done(true); return; }
        if (call.waiting) {
          call.waiting = false;
          stats.latencies.push(Number(process.hrtime.bigint() - call.sentAt) / 1e6);
        }
      } else if (m.type === 'ended') {
        call.ended = m.reason;
        call.live = false;
        stats.endedEarly[m.reason] = (stats.endedEarly[m.reason] || 0) + 1;
      } else if (m.type === 'error') {
        stats.errors[m.code] = (stats.errors[m.code] || 0) + 1;
        done(false);
      }
    });
    ws.on('error', (e) => { stats.connectErrors[e.code || e.message] = (stats.connectErrors[e.code || e.message] || 0) + 1; done(false); });
    ws.on('close', () => { if (call.live) { call.live = false; stats.closed++; } done(false); });
  });
}

async function pool(n, concurrency, fn) {
  const out = new Array(n);
  let next = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      try { out[i] = await fn(i); } catch (e) { out[i] = e; }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

async function run() {
  const calls = Number(arg('calls', '10000'));
  const rate = Number(arg('rate', '1000'));
  const seconds = Number(arg('seconds', '30'));
  const pid = Number(arg('pid'));
  const label = arg('label', 'athos');
  const base = arg('url');
  const apiKey = arg('api-key');
  const baseline = arg('baseline');
  const stats = { latencies: [], endedEarly: {}, errors: {}, connectErrors: {}, closed: 0 };

  const rssIdle = rssKiB(pid);
  const t0 = Date.now();
  // 1. tickets (not for the baseline)
  let tickets;
  if (baseline) {
    tickets = Array.from({ length: calls }, (_, i) => ({ connectionUrl: baseline, connectionTicket: `t${i}` }));
  } else {
    tickets = await pool(calls, 32, (i) => mintAndRedeem(base, apiKey, i));
    const bad = tickets.filter((t) => t instanceof Error);
    if (bad.length) process.stderr.write(`${bad.length} redeem failures, e.g. ${bad[0].message}\n`);
    tickets = tickets.filter((t) => !(t instanceof Error));
  }
  const tRedeemed = Date.now();
  const rssTickets = rssKiB(pid);
  process.stderr.write(`[${label}] ${tickets.length} tickets in ${tRedeemed - t0} ms\n`);
  // 2. open every call
  const opened = await pool(tickets.length, 200, (i) => openCall(tickets[i].connectionUrl, tickets[i].connectionTicket, stats));
  const live = opened.filter((c) => c && c.live);
  const tOpen = Date.now();
  process.stderr.write(`[${label}] ${live.length} calls live in ${tOpen - tRedeemed} ms\n`);
  await sleep(1000);
  const rssHeld = rssKiB(pid);
  // 3. steady state: `rate` utterances per second, round-robin over the calls
  const start = process.hrtime.bigint();
  let sent = 0;
  let skipped = 0;
  let rr = 0;
  const total = Math.floor(rate * seconds);
  while (sent + skipped < total) {
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    const due = Math.min(total, Math.floor(elapsed * rate));
    while (sent + skipped < due) {
      const c = live[rr++ % live.length];
      if (!c.live || c.waiting) { skipped++; continue; }
      c.waiting = true;
      c.sentAt = process.hrtime.bigint();
      c.ws.send(JSON.stringify({ type: 'say', text: LINES[c.line++ % LINES.length] }));
      sent++;
    }
    await sleep(2);
  }
  await sleep(2000); // the last replies
  const steadySec = Number(process.hrtime.bigint() - start) / 1e9 - 2;
  const rssSteady = rssKiB(pid);
  const stillLive = live.filter((c) => c.live).length;
  // 4. hang up
  for (const c of live) if (c.live) c.ws.send('{"type":"end"}');
  await sleep(Math.min(10_000, 1000 + live.length / 5));
  for (const c of live) c.ws.terminate();

  const lat = stats.latencies.slice().sort((a, b) => a - b);
  const result = {
    label,
    callsRequested: calls,
    callsHeld: stillLive,
    callsOpened: live.length,
    rssIdleKiB: rssIdle,
    rssAfterRedeemKiB: rssTickets,
    rssHeldKiB: rssHeld,
    rssSteadyKiB: rssSteady,
    rssPerCallKiB: live.length ? +((rssHeld - rssIdle) / live.length).toFixed(2) : null,
    // what the open calls alone cost (excludes the HTTP redeem phase and
    // the SQLite page cache it warmed)
    rssPerCallOpenKiB: live.length ? +((rssHeld - rssTickets) / live.length).toFixed(2) : null,
    rssPerCallSteadyKiB: live.length ? +((rssSteady - rssIdle) / live.length).toFixed(2) : null,
    utterancesSent: sent,
    utterancesSkippedBusy: skipped,
    repliesReceived: lat.length,
    ratePerSec: +(lat.length / steadySec).toFixed(1),
    latencyMs: {
      p50: +percentile(lat, 50).toFixed(3),
      p90: +percentile(lat, 90).toFixed(3),
      p99: +percentile(lat, 99).toFixed(3),
      max: +lat[lat.length - 1].toFixed(3),
    },
    endedEarly: stats.endedEarly,
    errors: stats.errors,
    connectErrors: stats.connectErrors,
    openSeconds: +((tOpen - tRedeemed) / 1000).toFixed(1),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

if (arg('echo-server')) echoServer(Number(arg('echo-server')));
else run().catch((e) => { console.error(e); process.exit(1); });
