'use strict';
/*
 * abuse.js — the abuse benchmark's driver (run by bench/abuse.sh): a
 * healthy tenant's figures alone, then under each attack, in one run.
 *
 *   webhook: the healthy tenant's end -> webhook latency (live calls over
 *   the WebSocket, one after another) alone, then while another tenant's
 *   receiver hangs with BENCH_QUEUED events queued for it (the default
 *   15 s webhook timeout, so its transfers hang for the whole run).
 *
 * Environment: ATHOS_BIN (required), BENCH_CALLS (200 per phase),
 * BENCH_QUEUED (500), BENCH_OUT (results file).
 */
const fs = require('node:fs');
const path = require('node:path');
const h = require('../tests/api/harness');
const { pct, startReceiver, seedPendingEvents, liveCall } = require('../tests/api/abuse_kit');

const CALLS = Number(process.env.BENCH_CALLS || 200);
const QUEUED = Number(process.env.BENCH_QUEUED || 500);

const lines = [];
function report(s) {
  lines.push(s);
  console.log(s);
}

async function webhookLatency(server, apiKey, rx, n) {
  const lat = [];
  for (let i = 0; i < n; i++) {
    const { callId, tEnd } = await liveCall(server, apiKey);
    lat.push((await rx.waitArrival(callId, 60_000)) - tEnd);
  }
  lat.sort((a, b) => a - b);
  const f = (v) => v.toFixed(1);
  return `p50 ${f(pct(lat, 50))} ms, p99 ${f(pct(lat, 99))} ms, max ${f(lat[lat.length - 1])} ms (${n} calls)`;
}

async function webhookScenario() {
  const healthy = await startReceiver();
  const stuck = await startReceiver({ hang: true });
  const server = await h.startServer({ env: { ATHOS_LOG_LEVEL: 'warn' } });
  try {
    const B = h.createTenant(server, { name: 'healthy', webhookUrl: healthy.url });
    report(`webhook end->delivery, healthy tenant alone: ${await webhookLatency(server, B.apiKey, healthy, CALLS)}`);
    const A = h.createTenant(server, { name: 'hanging', webhookUrl: stuck.url });
    seedPendingEvents(server, A.tenantId, QUEUED, 'hang');
    await h.eventually(() => { if (stuck.requests < 1) throw new Error('the hanging receiver got nothing'); }, 10_000);
    report(`webhook end->delivery, while another tenant's receiver hangs (${QUEUED} queued): ${await webhookLatency(server, B.apiKey, healthy, CALLS)}`);
    report(`  hanging receiver: ${stuck.requests} request(s) received, ${stuck.open.size} connection(s) open at the end`);
  } finally {
    await server.stop();
    await healthy.close();
    await stuck.close();
  }
}

async function main() {
  if (!process.env.ATHOS_BIN) throw new Error('ATHOS_BIN is required');
  report(`athos abuse bench ${new Date().toISOString()} (${require('node:os').cpus().length} cores)`);
  await webhookScenario();
  if (process.env.BENCH_OUT) {
    fs.mkdirSync(path.dirname(process.env.BENCH_OUT), { recursive: true });
    fs.writeFileSync(process.env.BENCH_OUT, `${lines.join('\n')}\n`);
  }
}

main().catch((e) => {
  console.error(`bench: ${e.stack || e}`);
  process.exitCode = 1;
});
