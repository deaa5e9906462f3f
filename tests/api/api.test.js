'use strict';
// The HTTP surface as a whole: health, request ids, unknown routes, 405,
// 413, CORS, logging, shutdown, and every curl of the contract's Quickstart
// and "Reading calls" pages translated to fetch against the local base URL.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const h = require('./harness');

let server;
let T; // {tenantId, apiKey, webhookSecret}
const schemas = h.loadSchemas();

before(async () => {
  server = await h.startServer();
  T = h.createTenant(server, { name: 'Acme Insurance' });
});
after(async () => {
  if (server) await server.stop();
});

const ORIGIN = 'https://reseller.example';

function corsHeaders(r) {
  return [...r.headers.keys()].filter((k) => k.toLowerCase().startsWith('access-control-'));
}

// Sends a body with chunked transfer encoding (no Content-Length).
function postChunked(url, headers, chunks) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { ...headers, 'Transfer-Encoding': 'chunked' }, timeout: 15_000 }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: data }));
      res.on('error', reject);
    });
    req.on('error', (e) => {
      // the server may answer 413 and close before reading everything
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') resolve({ status: 'reset', headers: {}, text: '' });
      else reject(e);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    (async () => {
      for (const c of chunks) {
        if (!req.write(c)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(() => {});
  });
}

describe('operability', () => {
  test('GET /healthz and /readyz answer 200 with a request id', async () => {
    for (const p of ['//healthz', '//readyz']) {
      const r = await h.api(server, 'GET', p);
      assert.equal(r.status, 200, `${p}: ${r.status} ${r.text.slice(0, 300)}`);
      h.assertRequestId(r);
    }
  });

  test('request ids are uuid v4, unique per response, on success and error alike', async () => {
    const seen = new Set();
    const reqs = [
      ['POST', '/session', { apiKey: T.apiKey, body: { externalUserId: 'rep_1' } }],
      ['POST', '/session', { body: { externalUserId: 'rep_1' } }],
      ['GET', `/calls?from=2020-01-01T00:00:00Z`, { apiKey: T.apiKey }],
      ['GET', '/calls/athos_call_nope', { apiKey: T.apiKey }],
      ['GET', '/nope', {}],
      ['GET', '/session', {}],
      ['GET', '//healthz', {}],
    ];
    for (let i = 0; i < 3; i++) {
      for (const [m, p, o] of reqs) {
        const r = await h.api(server, m, p, o);
        const id = h.assertRequestId(r);
        assert.ok(!seen.has(id), `request id ${id} repeated`);
        seen.add(id);
        if (r.status >= 400 && r.body && r.body.error) assert.equal(r.body.error.requestId, id);
      }
    }
  });

  test('one JSON log line per request on stderr, with its request id and no secret', async () => {
    const { token } = await h.mintToken(server, T.apiKey, { externalUserId: 'rep_log' });
    const r = await h.api(server, 'GET', '/calls?from=2020-01-01T00:00:00Z', { apiKey: T.apiKey });
    assert.equal(r.status, 200);
    const id = h.assertRequestId(r);
    const line = await h.eventually(async () => {
      const l = server.logs().split('\n').find((x) => x.includes(id));
      assert.ok(l, `no log line with ${id}`);
      return l;
    });
    const entry = JSON.parse(line);
    assert.equal(typeof entry, 'object');
    assert.ok(JSON.stringify(entry).includes('200'), `log line lacks the status: ${line}`);
    assert.ok(!server.logs().includes(T.apiKey), 'the API key appears in the log');
    assert.ok(!server.logs().includes(token), 'a session token appears in the log');
    assert.ok(!server.logs().includes(token.split('.')[2]), 'a token signature appears in the log');
  });
});

describe('routing', () => {
  test('unknown routes are 404 INVALID_REQUEST with the envelope', async () => {
    for (const p of ['/nope', '/calls/athos_call_x/extra', '/sessions', '//', '//api/external/v2/calls', '//favicon.ico']) {
      const r = await h.api(server, 'GET', p, { apiKey: T.apiKey });
      h.assertError(r, 404, 'INVALID_REQUEST');
    }
    const r = await h.api(server, 'POST', '/nope', { apiKey: T.apiKey, body: {} });
    h.assertError(r, 404, 'INVALID_REQUEST');
  });

  test('a wrong method is 405 with an Allow header', async () => {
    const cases = [
      ['GET', '/session', 'POST'],
      ['PUT', '/session', 'POST'],
      ['DELETE', '/calls', 'GET'],
      ['POST', '/calls', 'GET'],
      ['PUT', '/calls/athos_call_GZ1DjOkZv_VEPoE-CJ8mp', 'GET'],
      ['DELETE', '/calls/athos_call_GZ1DjOkZv_VEPoE-CJ8mp', 'GET'],
      ['GET', '/roleplay/session', 'POST'],
    ];
    for (const [m, p, allowed] of cases) {
      const r = await h.api(server, m, p, { apiKey: T.apiKey });
      assert.equal(r.status, 405, `${m} ${p}: ${r.status} ${r.text.slice(0, 300)}`);
      const allow = r.headers.get('allow');
      assert.ok(allow, `${m} ${p}: no Allow header`);
      const methods = allow.split(',').map((x) => x.trim().toUpperCase());
      assert.ok(methods.includes(allowed), `${m} ${p}: Allow ${allow} lacks ${allowed}`);
      assert.ok(!methods.includes(m), `${m} ${p}: Allow ${allow} lists the refused method`);
      const id = h.assertRequestId(r);
      if (r.body) {
        schemas.assertSchema('Error', r.body);
        assert.equal(r.body.error.requestId, id);
      }
    }
  });

  test('a body over 64 KiB is 413 (Content-Length), at most 64 KiB is accepted', async () => {
    const base = JSON.stringify({ externalUserId: 'rep_big' });
    const exact = base + ' '.repeat(65536 - base.length);
    assert.equal(Buffer.byteLength(exact), 65536);
    let r = await h.api(server, 'POST', '/session', { apiKey: T.apiKey, raw: exact, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 200, `a 65536-byte body: ${r.status} ${r.text.slice(0, 300)}`);
    r = await h.api(server, 'POST', '/session', { apiKey: T.apiKey, raw: exact + ' ', headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 413, `a 65537-byte body: ${r.status} ${r.text.slice(0, 300)}`);
    const id = h.assertRequestId(r);
    if (r.body) {
      schemas.assertSchema('Error', r.body);
      assert.equal(r.body.error.requestId, id);
    }
    const big = JSON.stringify({ externalUserId: 'x'.repeat(200_000) });
    r = await h.api(server, 'POST', '/session', { apiKey: T.apiKey, raw: big, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 413);
    h.assertRequestId(r);
    r = await h.api(server, 'POST', '/roleplay/session', { token: 'x.y.z', raw: big, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 413);
    h.assertRequestId(r);
  });

  test('a chunked body over 64 KiB is 413 too', async () => {
    const chunk = ' '.repeat(8192);
    const chunks = ['{"externalUserId":"rep_chunk"', ...Array(10).fill(chunk), '}'];
    const r = await postChunked(`${server.baseUrl}/session`, { Authorization: `Bearer ${T.apiKey}`, 'Content-Type': 'application/json' }, chunks);
    if (r.status !== 'reset') {
      assert.equal(r.status, 413, `chunked 80 KiB: ${r.status} ${r.text.slice(0, 300)}`);
      assert.match(r.headers['x-athos-request-id'] || '', h.REQUEST_ID_RE);
    }
    // and a small chunked body works
    const ok = await postChunked(`${server.baseUrl}/session`, { Authorization: `Bearer ${T.apiKey}`, 'Content-Type': 'application/json' }, ['{"externalUserId":', '"rep_chunk"}']);
    assert.equal(ok.status, 200, `small chunked body: ${ok.status} ${ok.text}`);
    schemas.assertSchema('MintSessionResponse', JSON.parse(ok.text));
  });

  test('the server stays up and keeps answering after all of the above', async () => {
    const r = await h.api(server, 'GET', '//healthz');
    assert.equal(r.status, 200);
  });
});

describe('CORS', () => {
  test('OPTIONS preflight on /roleplay/session is answered with the CORS headers', async () => {
    const r = await h.api(server, 'OPTIONS', '/roleplay/session', {
      headers: {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    });
    assert.ok(r.status === 200 || r.status === 204, `preflight status ${r.status} ${r.text.slice(0, 300)}`);
    const acao = r.headers.get('access-control-allow-origin');
    assert.ok(acao === ORIGIN || acao === '*', `Access-Control-Allow-Origin: ${acao}`);
    const methods = (r.headers.get('access-control-allow-methods') || '').toUpperCase();
    assert.match(methods, /\bPOST\b/);
    const hdrs = (r.headers.get('access-control-allow-headers') || '').toLowerCase();
    assert.ok(hdrs === '*' || (hdrs.includes('authorization') && hdrs.includes('content-type')), `Access-Control-Allow-Headers: ${hdrs}`);
    h.assertRequestId(r);
  });

  test('POST /roleplay/session carries Access-Control-Allow-Origin on success and on error', async () => {
    // error (a browser must be able to read the error code)
    let r = await h.api(server, 'POST', '/roleplay/session', { token: 'garbage', body: { drillKey: 'ma-full-sale' }, headers: { Origin: ORIGIN } });
    h.assertError(r, 401, 'INVALID_TOKEN');
    let acao = r.headers.get('access-control-allow-origin');
    assert.ok(acao === ORIGIN || acao === '*', `error response Access-Control-Allow-Origin: ${acao}`);
    // success
    const { token } = await h.mintToken(server, T.apiKey, { externalUserId: 'rep_cors' });
    r = await h.api(server, 'POST', '/roleplay/session', { token, body: { drillKey: 'ma-full-sale' }, headers: { Origin: ORIGIN } });
    assert.equal(r.status, 200, r.text);
    acao = r.headers.get('access-control-allow-origin');
    assert.ok(acao === ORIGIN || acao === '*', `success Access-Control-Allow-Origin: ${acao}`);
    schemas.assertSchema('RedeemSessionResponse', r.body);
  });

  test('no other endpoint sends any Access-Control-* header', async () => {
    const hdr = { Origin: ORIGIN };
    const pre = { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' };
    const cases = [
      ['POST', '/session', { apiKey: T.apiKey, body: { externalUserId: 'rep_1' }, headers: hdr }, 200],
      ['POST', '/session', { body: { externalUserId: 'rep_1' }, headers: hdr }, 401],
      ['GET', '/calls?from=2020-01-01T00:00:00Z', { apiKey: T.apiKey, headers: hdr }, 200],
      ['GET', '/calls', { apiKey: T.apiKey, headers: hdr }, 400],
      ['GET', '/calls/athos_call_nope', { apiKey: T.apiKey, headers: hdr }, 404],
      ['GET', '/nope', { headers: hdr }, 404],
      ['GET', '//healthz', { headers: hdr }, 200],
      ['OPTIONS', '/session', { headers: pre }, null],
      ['OPTIONS', '/calls', { headers: { ...pre, 'Access-Control-Request-Method': 'GET' } }, null],
      ['OPTIONS', '/calls/athos_call_nope', { headers: { ...pre, 'Access-Control-Request-Method': 'GET' } }, null],
    ];
    for (const [m, p, o, status] of cases) {
      const r = await h.api(server, m, p, o);
      if (status === null) assert.ok(r.status === 404 || r.status === 405, `${m} ${p}: preflight answered ${r.status}`);
      else assert.equal(r.status, status, `${m} ${p}: ${r.status} ${r.text.slice(0, 300)}`);
      assert.deepEqual(corsHeaders(r), [], `${m} ${p} sent CORS headers`);
      h.assertRequestId(r);
    }
  });
});

describe('the contract pages, curl by curl', () => {
  // The exact call the docs use, seeded with the docs' values.
  const DOC_CALL = {
    id: 'athos_call_GZ1DjOkZv_VEPoE-CJ8mp',
    source: 'roleplay',
    status: 'scored',
    externalUserId: 'rep_8842',
    externalAgencyId: 'agency_chicago',
    drillKey: 'ma-full-sale',
    startedAt: '2026-06-05T14:39:40.295Z',
    endedAt: '2026-06-05T14:40:17.536Z',
    durationSec: 37,
    scoredAt: '2026-06-05T14:40:54.005Z',
    transcript: [
      { role: 'assistant', content: 'Hey.' },
      { role: 'user', content: 'Hi James, how are you?' },
    ],
    score: {
      overallScore: 82,
      summary: 'Prospect asked about Medicare options; the agent built rapport but rushed the close.',
      feedback: 'Lead with a clear greeting and one discovery question; slow down before presenting the plan.',
    },
    audioUrl: null,
    audioUrlExpiresAt: null,
    waveform: null,
    createdAt: '2026-06-05T14:39:45.000Z',
    updatedAt: '2026-06-05T14:40:54.100Z',
  };
  let D; // a tenant of its own, holding the docs' call

  before(() => {
    D = h.createTenant(server, { name: 'Docs tenant', webhookUrl: 'https://hooks.reseller.example/athos' });
    assert.match(D.tenantId, /^ten_/);
    assert.match(D.apiKey, /^ath_live_/);
    assert.match(D.webhookSecret, /^whsec_/);
    h.seedScoredCall(server.dbPath, D.tenantId, DOC_CALL);
  });

  test('Quickstart: mint a session token', async () => {
    // curl -X POST $BASE/session -H "Authorization: Bearer $ATHOS_API_KEY"
    //   -H "Content-Type: application/json"
    //   -d '{"externalUserId":"rep_8842","externalAgencyId":"agency_chicago"}'
    const before_ = Date.now();
    const r = await fetch(`${server.baseUrl}/session`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${D.apiKey}`, 'Content-Type': 'application/json' },
      body: '{"externalUserId":"rep_8842","externalAgencyId":"agency_chicago"}',
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    h.assertRequestId({ headers: r.headers, status: r.status });
    const body = await r.json();
    schemas.assertSchema('MintSessionResponse', body);
    assert.deepEqual(Object.keys(body).sort(), ['expiresAt', 'token']);
    assert.match(body.token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    const exp = Date.parse(body.expiresAt);
    assert.ok(exp >= before_ + 290_000 && exp <= Date.now() + 310_000, `expiresAt ${body.expiresAt} is not ~5 minutes away`);
  });

  test('Quickstart and Reading calls: read the score (GET /calls/{id})', async () => {
    // curl $BASE/calls/athos_call_GZ1DjOkZv_VEPoE-CJ8mp -H "Authorization: Bearer $ATHOS_API_KEY"
    const r = await fetch(`${server.baseUrl}/calls/athos_call_GZ1DjOkZv_VEPoE-CJ8mp`, {
      headers: { Authorization: `Bearer ${D.apiKey}` },
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    const body = await r.json();
    schemas.assertSchema('CallDetail', body);
    for (const [k, v] of Object.entries(DOC_CALL)) {
      if (/At$/.test(k) && v !== null) assert.equal(Date.parse(body[k]), Date.parse(v), `${k}: ${body[k]} != ${v}`);
      else if (k === 'transcript') assert.deepEqual(body[k].map(({ role, content }) => ({ role, content })), v);
      else assert.deepEqual(body[k], v, k);
    }
  });

  test('timestamps are printed like the contract examples (ISO 8601, milliseconds, Z)', async () => {
    const r = await h.api(server, 'GET', `/calls/${DOC_CALL.id}`, { apiKey: D.apiKey });
    for (const k of ['startedAt', 'endedAt', 'scoredAt', 'createdAt', 'updatedAt']) {
      assert.equal(r.body[k], DOC_CALL[k], k);
    }
  });

  test('Reading calls: curl -G /calls --data-urlencode from=… --data-urlencode limit=50', async () => {
    const url = `${server.baseUrl}/calls?${new URLSearchParams({ from: '2026-06-01T00:00:00Z', limit: '50' })}`;
    const r = await fetch(url, { headers: { Authorization: `Bearer ${D.apiKey}` } });
    assert.equal(r.status, 200);
    const page = await r.json();
    schemas.assertSchema('ListCallsResponse', page);
    assert.equal(page.nextCursor, null);
    assert.equal(page.data.length, 1);
    const row = page.data[0];
    const slim = ['id', 'source', 'externalUserId', 'externalAgencyId', 'drillKey', 'startedAt', 'endedAt', 'durationSec', 'scoredAt'];
    for (const k of slim) {
      if (/At$/.test(k)) assert.equal(Date.parse(row[k]), Date.parse(DOC_CALL[k]), k);
      else assert.deepEqual(row[k], DOC_CALL[k], k);
    }
    assert.ok(!('score' in row) && !('transcript' in row), 'a list row carries score or transcript');
  });

  test('Reading calls: the allCalls() generator pages through everything', async () => {
    // 120 more calls so that the default page size (50) needs three pages
    const base = Date.parse('2026-06-10T00:00:00Z');
    const rows = h.seedScoredCalls(server.dbPath, D.tenantId, Array.from({ length: 120 }, (_, i) => ({ endedAt: base + i * 60_000 })));
    async function* allCalls(from) {
      let cursor = null;
      let pages = 0;
      do {
        const url = new URL(`${server.baseUrl}/calls`);
        url.searchParams.set('from', from);
        if (cursor) url.searchParams.set('cursor', cursor);
        const r = await fetch(url, { headers: { Authorization: `Bearer ${D.apiKey}` } });
        assert.equal(r.status, 200);
        const page = await r.json();
        schemas.assertSchema('ListCallsResponse', page);
        assert.ok(page.data.length <= 50);
        yield* page.data;
        cursor = page.nextCursor;
        assert.ok(++pages < 10, 'pagination does not end');
      } while (cursor);
    }
    const ids = [];
    for await (const call of allCalls('2026-06-01T00:00:00Z')) ids.push(call.id);
    const expected = [...rows].sort((a, b) => b.endedAt - a.endedAt).map((x) => x.id).concat([DOC_CALL.id]);
    assert.deepEqual(ids, expected);
  });
});

describe('database unavailable', () => {
  test('a database locked by another process gives 503 SERVICE_UNAVAILABLE, and the server recovers', { timeout: 60_000, skip: h.isPostgres && 'SQLite-file specific (see the PostgreSQL variant)' }, async () => {
    const { spawn } = require('node:child_process');
    const s = await h.startServer();
    try {
      const X = h.createTenant(s, { name: 'Locked tenant' });
      const { token } = await h.mintToken(s, X.apiKey);
      // another process takes the write lock and keeps it (WAL: readers go on)
      const locker = spawn('sqlite3', ['-batch', s.dbPath], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      locker.stdout.on('data', (d) => { out += d; });
      locker.stdin.write("BEGIN EXCLUSIVE;\nINSERT INTO tenants(public_id, name, created_at) VALUES ('ten_locker', 'l', 0);\nSELECT 'locked';\n");
      await h.eventually(async () => assert.match(out, /locked/), 5000);
      try {
        const t0 = Date.now();
        const r = await h.api(s, 'POST', '/roleplay/session', { token, body: { drillKey: 'ma-full-sale' }, timeout: 30_000 });
        h.assertError(r, 503, 'SERVICE_UNAVAILABLE');
        assert.ok(!/sqlite|locked|\.c:|errno/i.test(r.body.error.message), `internals in the message: ${r.body.error.message}`);
        assert.ok(Date.now() - t0 < 15_000, 'the 503 took too long');
        const live = await h.api(s, 'GET', '//healthz', { timeout: 30_000 });
        assert.equal(live.status, 200, 'healthz must not depend on the database');
      } finally {
        locker.stdin.end('ROLLBACK;\n');
        await new Promise((r) => (locker.exitCode !== null ? r() : locker.once('exit', r)));
      }
      // the failed redeem did not spend the token
      const ok = await h.api(s, 'POST', '/roleplay/session', { token, body: { drillKey: 'ma-full-sale' } });
      assert.equal(ok.status, 200, `redeem after the lock: ${ok.status} ${ok.text.slice(0, 300)}`);
      assert.equal((await h.api(s, 'GET', '//readyz')).status, 200);
    } finally {
      await s.stop();
    }
  });
});

describe('database unavailable (PostgreSQL)', () => {
  // The PostgreSQL counterpart of the lock above: the server's database
  // stops accepting connections and its sessions are terminated (what a
  // stopped or restarting PostgreSQL looks like to the server), then comes back.
  test('a database that drops and refuses connections gives 503 SERVICE_UNAVAILABLE, and the server recovers', { timeout: 60_000, skip: !h.isPostgres && 'runs under scripts/pg-test.sh' }, async () => {
    const s = await h.startServer();
    const db = new URL(s.dbPath).pathname.slice(1);
    try {
      const X = h.createTenant(s, { name: 'Stopped tenant' });
      const { token } = await h.mintToken(s, X.apiKey);
      h.pgAdmin(`ALTER DATABASE ${db} ALLOW_CONNECTIONS false;`);
      h.pgAdmin(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '${db}';`);
      try {
        const t0 = Date.now();
        for (let i = 0; i < 3; i++) { // the first use of each dropped connection, then reconnects
          const r = await h.api(s, 'POST', '/roleplay/session', { token, body: { drillKey: 'ma-full-sale' }, timeout: 30_000 });
          h.assertError(r, 503, 'SERVICE_UNAVAILABLE');
          assert.ok(!/postgres|sqlite|connect|\.c:|errno|password/i.test(r.body.error.message), `internals in the message: ${r.body.error.message}`);
        }
        assert.ok(Date.now() - t0 < 15_000, 'the 503s took too long');
        assert.notEqual((await h.api(s, 'GET', '//readyz', { timeout: 30_000 })).status, 200, 'readyz while the database is away');
        const live = await h.api(s, 'GET', '//healthz', { timeout: 30_000 });
        assert.equal(live.status, 200, 'healthz must not depend on the database');
      } finally {
        h.pgAdmin(`ALTER DATABASE ${db} ALLOW_CONNECTIONS true;`);
      }
      // the failed redeems did not spend the token; the pool reconnected
      const ok = await h.api(s, 'POST', '/roleplay/session', { token, body: { drillKey: 'ma-full-sale' } });
      assert.equal(ok.status, 200, `redeem after the outage: ${ok.status} ${ok.text.slice(0, 300)}`);
      assert.equal((await h.api(s, 'GET', '//readyz')).status, 200);
    } finally {
      await s.stop();
    }
  });
});

describe('shutdown', () => {
  test('SIGTERM drains and exits 0; SIGINT too', async () => {
    for (const sig of ['SIGTERM', 'SIGINT']) {
      const s = await h.startServer();
      const r = await h.api(s, 'GET', '//healthz');
      assert.equal(r.status, 200);
      s.proc.kill(sig);
      const done = await new Promise((resolve) => {
        const t = setTimeout(() => resolve({ timeout: true }), 10_000);
        if (s.proc.exitCode !== null) resolve({ code: s.proc.exitCode, signal: s.proc.signalCode });
        s.proc.once('exit', (code, signal) => { clearTimeout(t); resolve({ code, signal }); });
      });
      assert.deepEqual(done, { code: 0, signal: null }, `${sig}: ${s.logs().slice(-2000)}`);
      await s.stop();
    }
  });
});
