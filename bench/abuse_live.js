'use strict';
/*
 * abuse_live.js — the live WebSocket attacks of issue 9 (items 1 and 3) as a
 * benchmark: a healthy live call's reply latency (p50, p99, max) alone and
 * while one attacker keeps each attack going, with the server's RSS growth
 * and how long the server took to close each attacking connection. The
 * attacker reconnects as soon as it is closed, so the attack lasts the whole
 * phase. Prints one table; exits non-zero only if something could not run.
 *
 *   ATHOS_BIN=build/athos node bench/abuse_live.js
 *   BENCH_PHASE_SEC=5 (each phase)   BENCH_OUT=file (also write the table there)
 *
 * Attacks: a ping flood that never reads its pongs; a ping flood that reads
 * them; a flood of frames before start; a say flood in a started call. Meant
 * to run from bench/abuse.sh next to the other attacks; use a release build.
 */
const fs = require('node:fs');
const path = require('node:path');
const h = require('../tests/api/harness');
const kit = require('../tests/api/abuse_live_kit');

const PHASE_MS = Number(process.env.BENCH_PHASE_SEC || 5) * 1000;

function pct(xs, p) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/* A latency for the table: "none" when the healthy call got no reply. */
const ms = (x) => (Number.isFinite(x) ? String(x) : 'none');

const pings = (n) => Buffer.concat(Array.from({ length: n }, () => kit.frame(kit.PING)));

/* One attacking connection each; resolves with the ms it lived. */
const ATTACKS = {
  'ping flood, pongs never read': async (server) => {
    const r = await kit.rawSocket(server);
    r.sock.pause();
    const t0 = Date.now();
    await kit.flood(r, pings(8192), PHASE_MS);
    r.sock.destroy();
    return Date.now() - t0;
  },
  'ping flood, pongs read': async (server) => {
    const r = await kit.rawSocket(server);
    const t0 = Date.now();
    await kit.flood(r, pings(1024), PHASE_MS, () => kit.closeCodeIn(r) !== null);
    r.sock.destroy();
    return Date.now() - t0;
  },
  'frame flood before start': async (server) => {
    const r = await kit.rawSocket(server);
    const junk = Buffer.concat(Array.from({ length: 512 },
      () => kit.frame(kit.PING, Buffer.from('are you there?'))));
    const t0 = Date.now();
    await kit.flood(r, junk, PHASE_MS, () => kit.closeCodeIn(r) !== null);
    r.sock.destroy();
    return Date.now() - t0;
  },
  'say flood in a call': async (server, tenant) => {
    const s = await kit.startCall(server, tenant);
    const t0 = Date.now();
    for (let i = 0; i < 2000; i++) s.c.send({ type: 'say', text: `Flood line ${i}: which doctors?` });
    await s.c.closed(PHASE_MS).catch(() => s.c.ws.terminate());
    return Date.now() - t0;
  },
};

/* The healthy call alone (attack null) or under one attack, for a phase. */
async function phase(server, tenant, name, attack) {
  const until = Date.now() + PHASE_MS;
  const running = () => Date.now() < until;
  const rss0 = kit.rssOf(server);
  let peak = rss0;
  const watch = setInterval(() => { peak = Math.max(peak, kit.rssOf(server)); }, 50);
  const lives = [];
  const attacker = (async () => {
    while (attack && running()) lives.push(await attack(server, tenant));
  })();
  const latencies = await kit.healthyCall(server, tenant, running);
  await attacker;
  clearInterval(watch);
  return {
    name,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    max: Math.max(...latencies),
    replies: latencies.length,
    rssMb: (peak - rss0) / kit.MB,
    closes: lives.length,
    lifeMs: lives.length ? Math.max(...lives) : null,
  };
}

async function main() {
  if (!process.env.ATHOS_BIN) throw new Error('ATHOS_BIN is required');
  const server = await h.startServer({ env: { ATHOS_LOG_LEVEL: 'error' } });
  const tenant = h.createTenant(server, { name: 'Abuse live bench' });
  const rows = [await phase(server, tenant, 'alone', null)];
  for (const [name, attack] of Object.entries(ATTACKS)) rows.push(await phase(server, tenant, name, attack));
  await server.stop();
  const lines = [
    `athos live abuse bench ${new Date().toISOString()}: a healthy call's reply latency, ${PHASE_MS / 1000} s a phase`,
    '| phase | replies | p50 ms | p99 ms | max ms | server RSS growth | attacking connections | longest one lived |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.name} | ${r.replies} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.rssMb.toFixed(1)} MB | ` +
      `${r.name === 'alone' ? '-' : r.closes} | ${r.lifeMs === null ? '-' : `${r.lifeMs} ms`} |`),
  ];
  const text = lines.join('\n') + '\n';
  process.stdout.write(text);
  if (process.env.BENCH_OUT) {
    fs.mkdirSync(path.dirname(process.env.BENCH_OUT), { recursive: true });
    fs.appendFileSync(process.env.BENCH_OUT, text);
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
