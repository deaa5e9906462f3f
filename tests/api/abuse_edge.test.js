'use strict';
// abuse_edge.test.js — issue 9 items 2, 7 and 13 (/metrics) from the outside,
// with raw sockets: slowloris (per-IP cap, total header deadline, no log line
// per socket), the strict HTTP edge (smuggling probes, HEAD, Content-Type, the
// body ceiling enforced as bytes arrive) and who may read GET /metrics.
//
// The attacker connects from 127.0.0.1; the healthy client from 127.0.0.2
// (Linux routes all of 127/8 to loopback), so the per-IP cap tells them apart.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const h = require('./harness');
const kit = require('./abuse_live_kit');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function portOf(server) {
  return Number(new URL(server.url).port);
}

// Sends raw bytes; resolves with everything the server wrote until it closed
// the connection (closed: true) or `ms` passed (closed: false).
function raw(server, bytes, ms = 2000) {
  return new Promise((resolve) => {
    const sock = net.connect(portOf(server), '127.0.0.1');
    const chunks = [];
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), ms);
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', () => finish(true));
    sock.write(bytes);
  });
}

const statusOf = (text) => Number((/^HTTP\/1\.1 (\d{3})/.exec(text) || [])[1]);
const bodyOf = (text) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));

// GET path from source address 127.0.0.2 (not the attacker's); resolves with
// {status, ms, body}, or {status: 0} on error or after `ms`.
function healthyGet(server, path, ms = 5000) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const req = http.get(`${server.url}${path}`, { localAddress: '127.0.0.2', agent: false, timeout: ms }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, ms: Date.now() - t0, body }));
    });
    req.on('timeout', () => { req.destroy(); resolve({ status: 0, ms: Date.now() - t0 }); });
    req.on('error', () => resolve({ status: 0, ms: Date.now() - t0 }));
  });
}

describe('slowloris', () => {
  let server;
  before(async () => {
    server = await h.startServer({ env: { ATHOS_MAX_CONNECTIONS: '500', ATHOS_HEADER_TIMEOUT_SEC: '3' } });
  });
  after(async () => { if (server) await kit.stopClean(server); });

  test('2,000 slow sockets from one IP: /healthz from another answers in under 1 s, no log line per socket', async () => {
    const logLinesBefore = server.logs().split('\n').length;
    const socks = [];
    for (let i = 0; i < 2000; i++) {
      const s = net.connect(portOf(server), '127.0.0.1');
      s.on('error', () => {});
      s.on('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
      socks.push(s);
      if (i % 200 === 199) await sleep(50);
    }
    try {
      await sleep(1500); // let them all connect and start trickling
      const trickle = setInterval(() => { for (const s of socks) if (!s.destroyed) s.write('X-a: b\r\n'); }, 500);
      try {
        for (let i = 0; i < 5; i++) {
          const r = await healthyGet(server, '/healthz', 3000);
          assert.equal(r.status, 200, `healthz attempt ${i}: status ${r.status} after ${r.ms} ms`);
          assert.ok(r.ms < 1000, `healthz took ${r.ms} ms under attack`);
          await sleep(300);
        }
      } finally {
        clearInterval(trickle);
      }
      const lines = server.logs().split('\n').length - logLinesBefore;
      assert.ok(lines < 50, `${lines} log lines for 2,000 sockets`);
    } finally {
      for (const s of socks) s.destroy();
    }
  });

  test('a client trickling headers is cut off at the total header deadline, not only when idle', async () => {
    const sock = net.connect(portOf(server), '127.0.0.1');
    const t0 = Date.now();
    const closed = new Promise((resolve) => { sock.on('close', () => resolve(Date.now() - t0)); sock.on('error', () => {}); });
    sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => { if (!sock.destroyed) sock.write('X-a: b\r\n'); }, 300);
    const ms = await Promise.race([closed, sleep(10000).then(() => null)]);
    clearInterval(trickle);
    sock.destroy();
    assert.ok(ms !== null, 'still open after 10 s of trickling');
    assert.ok(ms >= 2500 && ms < 6000, `closed after ${ms} ms (deadline 3 s)`);
  });

  test('GET /metrics counts the refused and deadline-closed connections', async () => {
    const r = await h.api(server, 'GET', '//metrics');
    assert.equal(r.status, 200);
    const refused = Number(/^athos_http_connections_refused_total (\d+)$/m.exec(r.text)[1]);
    const deadline = Number(/^athos_http_connections_deadline_closed_total (\d+)$/m.exec(r.text)[1]);
    assert.ok(refused >= 1000, `refused ${refused}`);
    assert.ok(deadline >= 1, `deadline ${deadline}`);
  });
});

describe('descriptors', () => {
  test('ATHOS_MAX_CONNECTIONS is fitted to RLIMIT_NOFILE at start-up, with one warning', async () => {
    const first = await h.startServer();
    const port = portOf(first);
    await first.stop();
    // a hard limit of 300 descriptors: 16,384 connections cannot fit
    const proc = spawn('prlimit', ['--nofile=300:300', h.ATHOS_BIN, 'serve'], {
      env: { ...process.env, ATHOS_DATABASE_URL: /^postgres/.test(first.dbPath) ? first.dbPath : `sqlite:${first.dbPath}`,
        ATHOS_LISTEN: `127.0.0.1:${port}`, ATHOS_DRILLS_DIR: path.join(h.REPO, 'drills') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let logs = '';
    proc.stderr.on('data', (d) => { logs += d; });
    try {
      await h.eventually(() => assert.match(logs, /athos listening/), 10000);
      assert.match(logs, /ATHOS_MAX_CONNECTIONS=16384 needs 16512 descriptors but RLIMIT_NOFILE is 300.*serving at most 172 connections/);
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(r.status, 200);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  });
});

describe('the strict HTTP edge', () => {
  let server;
  const P = '/api/external/v1/session';
  before(async () => { server = await h.startServer({ env: { ATHOS_METRICS_TOKEN: 'metrics-secret-token' } }); });
  after(async () => { if (server) await kit.stopClean(server); });

  const refusedAndClosed = async (bytes, status, message) => {
    const r = await raw(server, bytes);
    assert.equal(statusOf(r.text), status, r.text);
    assert.equal((r.text.match(/^HTTP\/1\.1 /gm) || []).length, 1, `one response only: ${r.text}`);
    assert.ok(r.closed, 'connection left open');
    const body = bodyOf(r.text);
    assert.equal(body.error.code, 'INVALID_REQUEST');
    if (message) assert.match(body.error.message, message);
  };

  test('two different Content-Length values: 400 and close (no smuggled second request)', async () => {
    await refusedAndClosed(`POST ${P} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`, 400, /Content-Length/);
  });

  test('Transfer-Encoding with a space before the colon, or an unknown coding: 400, not a hang', async () => {
    await refusedAndClosed(`POST ${P} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`, 400);
    await refusedAndClosed(`POST ${P} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n2\r\n{}\r\n0\r\n\r\n`, 400, /Transfer-Encoding/);
  });

  test('Content-Length with Transfer-Encoding: answered, then closed', async () => {
    const r = await raw(server, `POST ${P} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`);
    assert.equal(statusOf(r.text), 401, r.text);
    assert.match(r.text, /\r\nConnection: close\r\n/i);
    assert.ok(r.closed, 'connection left open');
  });

  test('HTTP/1.1 without Host, and two Authorization headers: 400', async () => {
    await refusedAndClosed('GET /healthz HTTP/1.1\r\n\r\n', 400, /Host/);
    await refusedAndClosed('GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n', 400, /Authorization/);
  });

  test('a non-JSON Content-Type on a JSON endpoint: 400 INVALID_REQUEST saying so', async () => {
    const tenant = h.createTenant(server, { name: 'ct' });
    const r = await h.api(server, 'POST', '/session', { apiKey: tenant.apiKey, raw: '{}', headers: { 'content-type': 'text/plain' } });
    h.assertError(r, 400, 'INVALID_REQUEST');
    assert.match(r.body.error.message, /Content-Type/);
    const ok = await h.api(server, 'POST', '/session', { apiKey: tenant.apiKey, raw: '{"externalUserId":"u1"}', headers: { 'content-type': 'application/json; charset=utf-8' } });
    assert.notEqual(ok.status, 400, ok.text);
  });

  test('a declared body over 64 KiB is refused before it is read', async () => {
    await refusedAndClosed(`POST ${P} HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n{`, 413);
  });

  test('a 20 MB chunked upload is cut off as it arrives, not read to the end', async () => {
    const sock = net.connect(portOf(server), '127.0.0.1');
    await new Promise((r) => sock.on('connect', r));
    let closed = false;
    sock.on('close', () => { closed = true; });
    sock.on('error', () => { closed = true; });
    sock.on('data', () => {});
    sock.write(`POST ${P} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    while (!closed && sent < 20e6) {
      const ok = sock.write(`${chunk.length.toString(16)}\r\n`) && sock.write(chunk) && sock.write('\r\n');
      sent += chunk.length;
      if (!ok) await Promise.race([new Promise((r) => sock.once('drain', r)), sleep(200)]);
      if (sent % (1 << 20) < chunk.length) await sleep(5);
    }
    await sleep(200);
    sock.destroy();
    assert.ok(sent < 4e6, `the server read ${sent} bytes before cutting the upload`);
  });

  test('HEAD is answered on every GET route, /healthz included, without a body', async () => {
    for (const path of ['/healthz', '/readyz', '/api/external/v1/openapi.json']) {
      const r = await raw(server, `HEAD ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(r.text), 200, `${path}: ${r.text}`);
      assert.equal(r.text.slice(r.text.indexOf('\r\n\r\n') + 4), '', `${path}: HEAD carried a body`);
    }
    const r = await h.api(server, 'DELETE', '//healthz');
    assert.deepEqual(r.headers.get('allow').split(/,\s*/).sort(), ['GET', 'HEAD']);
  });

  test('GET /metrics: Prometheus text from loopback; hidden behind a proxy unless the token is given', async () => {
    await h.api(server, 'GET', '//healthz');
    const r = await h.api(server, 'GET', '//metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const m = /^athos_http_requests_total\{route="healthz",status="200"\} (\d+)$/m.exec(r.text);
    assert.ok(m && Number(m[1]) >= 1, r.text);
    assert.match(r.text, /^athos_http_request_duration_seconds_bucket\{route="healthz",status="200",le="\+Inf"\} \d+$/m);
    assert.match(r.text, /^athos_http_requests_refused_strict_total \d+$/m);
    assert.match(r.text, /^athos_scoring_queue_depth \d+$/m); // read from the store per scrape
    for (const family of ['athos_live_calls', 'athos_scoring_queue_depth', 'athos_store_errors_total', 'athos_rate_limited_total', 'athos_webhook_deliveries_total']) {
      assert.match(r.text, new RegExp(`^# TYPE ${family} `, 'm'), family);
    }
    const proxied = await h.api(server, 'GET', '//metrics', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(proxied.status, 404);
    const wrong = await h.api(server, 'GET', '//metrics', { headers: { 'x-forwarded-for': '203.0.113.9', authorization: 'Bearer metrics-secret-tokeX' } });
    assert.equal(wrong.status, 404);
    const right = await h.api(server, 'GET', '//metrics', { headers: { 'x-forwarded-for': '203.0.113.9', authorization: 'Bearer metrics-secret-token' } });
    assert.equal(right.status, 200);
  });

  test('GET /metrics: athos_live_calls follows the WebSocket calls open', async () => {
    const liveCalls = async () => Number(/^athos_live_calls (-?\d+)$/m.exec((await h.api(server, 'GET', '//metrics')).text)[1]);
    const before = await liveCalls();
    const tenant = h.createTenant(server, { name: 'gauge' });
    const s = await kit.startCall(server, tenant);
    assert.equal(await liveCalls(), before + 1);
    s.c.ws.close();
    await h.eventually(async () => assert.equal(await liveCalls(), before), 5000);
  });
});
