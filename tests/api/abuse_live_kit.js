'use strict';
/*
 * abuse_live_kit.js — the live WebSocket attacks of issue 9 (items 1 and 3)
 * as reusable pieces, for tests/api/abuse_live.test.js and
 * bench/abuse_live.js: a raw socket that does the handshake by hand and
 * writes whatever frames it is given (masked as a client must), a flood
 * loop that respects back-pressure, the server's RSS from /proc, and a
 * `ws` client with an awaitable message queue.
 *
 *   rssOf(server) -> bytes        frame(opcode, payload, fin) -> Buffer
 *   await rawSocket(server) -> r  {sock, closedAt, received}
 *   closeCodeIn(r) -> code|null   await flood(r, chunk, ms, stop)
 *   connect(url) -> c             await startCall(server, tenant) -> {call, c}
 *   await newCall(server, tenant) -> the redeem's body
 *   await healthyCall(server, tenant, running) -> [reply latency ms]
 *   await stopClean(server)       stops it; asserts no sanitizer report, exit 0
 *
 * tests/api/live.test.js takes connect() and stopClean() from here too.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const h = require('./harness');

const LIVE_PATH = '/api/external/v1/roleplay/live';
const MB = 1024 * 1024;
const PING = 0x9;
const TEXT = 0x1;
const CONTINUATION = 0x0;

/* The server process's resident set, in bytes. */
function rssOf(server) {
  const status = fs.readFileSync(`/proc/${server.proc.pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  assert.ok(m, 'no VmRSS in /proc/<pid>/status');
  return Number(m[1]) * 1024;
}

/* One masked client frame (RFC 6455 §5.2): fin set, opcode, payload. */
function frame(opcode, payload = Buffer.alloc(0), fin = true) {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len])
    : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  const mask = crypto.randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

/* A raw WebSocket: the handshake by hand, then whatever bytes the test
 * writes. Resolves once the 101 is in; `closedAt` is set when the server
 * ends the connection (FIN, reset or a write error). */
function rawSocket(server) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(new URL(server.url).port), '127.0.0.1');
    const r = { sock, closedAt: null, received: Buffer.alloc(0) };
    let head = '';
    const onHead = (d) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onHead);
      if (!/^HTTP\/1\.1 101/.test(head)) return reject(new Error(`no 101: ${head.slice(0, 200)}`));
      const rest = Buffer.from(head.slice(end + 4), 'latin1');
      r.received = rest;
      sock.on('data', (b) => { r.received = Buffer.concat([r.received, b]).subarray(-65536); });
      resolve(r);
    };
    sock.on('data', onHead);
    const done = () => { if (r.closedAt === null) r.closedAt = Date.now(); };
    sock.on('end', done);
    sock.on('close', done);
    sock.on('error', done);
    sock.on('connect', () => {
      sock.write(`GET ${LIVE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
        'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        'Sec-WebSocket-Version: 13\r\n\r\n');
    });
    sock.once('error', reject);
  });
}

/* The close code in the last close frame the server sent on r, or null. */
function closeCodeIn(r) {
  const b = r.received;
  for (let i = b.length - 4; i >= 0; i--) {
    if (b[i] === 0x88 && b[i + 1] >= 2 && b[i + 1] <= 125) return b.readUInt16BE(i + 2);
  }
  return null;
}

/* Writes chunk to r.sock as fast as the socket takes it until the server
 * ends the connection, ms pass, or stop() says so. Returns when done. */
async function flood(r, chunk, ms, stop = () => false) {
  const until = Date.now() + ms;
  while (r.closedAt === null && Date.now() < until && !stop()) {
    if (!r.sock.write(chunk)) {
      await new Promise((resolve) => {
        const t = setTimeout(resolve, 50);
        r.sock.once('drain', () => { clearTimeout(t); resolve(); });
      });
    } else {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

/* A ws connection with an awaitable message queue and close. */
function connect(url, opts = {}) {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...opts });
  const queue = [];
  const waiters = [];
  let closeInfo = null;
  const closeWaiters = [];
  const c = {
    ws,
    pings: 0,
    opened: new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    }),
    send(obj) {
      ws.send(typeof obj === 'string' || Buffer.isBuffer(obj) ? obj : JSON.stringify(obj));
    },
    /* The next message (parsed), failing on timeout or close. */
    next(ms = 5000) {
      if (queue.length) return Promise.resolve(queue.shift());
      if (closeInfo) return Promise.reject(new Error(`closed ${closeInfo.code} before a message`));
      return new Promise((resolve, reject) => {
        const w = {
          resolve: (m) => { clearTimeout(w.t); resolve(m); },
          reject: (e) => { clearTimeout(w.t); reject(e); },
        };
        w.t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no message within ${ms} ms`));
        }, ms);
        waiters.push(w);
      });
    },
    /* Resolves {code, reason} when the socket closes. */
    closed(ms = 5000) {
      if (closeInfo) return Promise.resolve(closeInfo);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`not closed within ${ms} ms`)), ms);
        closeWaiters.push((ci) => { clearTimeout(t); resolve(ci); });
      });
    },
    pending() { return queue.slice(); },
    /* Takes every message received and not yet taken. */
    all() { return queue.splice(0); },
  };
  ws.on('message', (data, isBinary) => {
    let m;
    try { m = JSON.parse(data.toString('utf8')); } catch { m = { unparsable: data.toString('utf8'), isBinary }; }
    if (waiters.length) waiters.shift().resolve(m);
    else queue.push(m);
  });
  ws.on('ping', () => { c.pings++; });
  ws.on('error', () => { /* reported through close */ });
  ws.on('close', (code, reason) => {
    closeInfo = { code, reason: reason.toString() };
    while (waiters.length) waiters.shift().reject(new Error(`closed ${code} before a message`));
    for (const f of closeWaiters) f(closeInfo);
  });
  return c;
}

async function newCall(server, tenant) {
  const { token } = await h.mintToken(server, tenant.apiKey, { externalUserId: 'rep_abuse' });
  return h.redeem(server, token, { drillKey: 'ma-full-sale' });
}

/* Redeems, connects, starts; returns after ready and the opener. */
async function startCall(server, tenant) {
  const call = await newCall(server, tenant);
  const c = connect(call.connectionUrl);
  await c.opened;
  c.send({ type: 'start', ticket: call.connectionTicket });
  assert.equal((await c.next()).type, 'ready');
  const opener = await c.next();
  assert.equal(opener.type, 'say');
  return { call, c, turn: 1 };
}

/* A healthy call saying a line every 200 ms while `running()`: returns
 * each reply's latency in ms (Infinity for one that never came, and the
 * call stops there). */
async function healthyCall(server, tenant, running) {
  const s = await startCall(server, tenant);
  const latencies = [];
  while (running()) {
    const t0 = Date.now();
    s.c.send({ type: 'say', text: 'Which doctors do you see these days?' });
    let m;
    try { m = await s.c.next(3000); } catch { latencies.push(Infinity); break; }
    assert.equal(m.type, 'say', JSON.stringify(m));
    latencies.push(Date.now() - t0);
    await h.sleep(200);
  }
  s.c.send({ type: 'end' });
  return latencies;
}

/* A clean exit: no sanitizer report, no leak (LeakSanitizer exits non-zero). */
async function stopClean(s) {
  const exit = await s.stop();
  assert.doesNotMatch(s.logs(), /AddressSanitizer|LeakSanitizer|runtime error:/);
  assert.equal(exit.code, 0, `athos serve exited ${JSON.stringify(exit)}:\n${s.logs().slice(-3000)}`);
}


module.exports = {
  LIVE_PATH, MB, PING, TEXT, CONTINUATION,
  rssOf, frame, rawSocket, closeCodeIn, flood, connect, newCall, startCall, healthyCall, stopClean,
};
