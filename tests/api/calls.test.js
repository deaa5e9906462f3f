'use strict';
// GET /calls and GET /calls/{callId}: the exact shapes, the window and
// filters, limits, keyset pagination, cursor validation, tenant isolation
// and the indistinguishable 404s. Scored calls are seeded straight into
// the SQLite file (test-only helper in harness.js).
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

const schemas = h.loadSchemas();
let server;
let A; // the main tenant
let B; // another tenant
let rowsA = [];
let rowsB = [];

// Newest first: endedAt desc, then id desc (the documented keyset order).
const order = (a, b) => (b.endedAt - a.endedAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
const iso = (ms) => new Date(ms).toISOString();

const list = (apiKey, params) => h.api(server, 'GET', `/calls?${new URLSearchParams(params)}`, { apiKey });

async function walk(apiKey, params, maxPages = 200) {
  const ids = [];
  let cursor = null;
  let pages = 0;
  do {
    const r = await list(apiKey, cursor ? { ...params, cursor } : params);
    assert.equal(r.status, 200, `page ${pages}: ${r.status} ${r.text.slice(0, 300)}`);
    schemas.assertSchema('ListCallsResponse', r.body);
    ids.push(...r.body.data.map((x) => x.id));
    cursor = r.body.nextCursor;
    if (cursor !== null) {
      assert.equal(typeof cursor, 'string');
      assert.ok(cursor.length > 0);
    }
    assert.ok(++pages <= maxPages, 'pagination does not end');
  } while (cursor);
  return { ids, pages };
}

// Window for this file's seeded data: June 2026.
const T0 = Date.parse('2026-06-01T00:00:00.000Z');
const FROM = '2026-06-01T00:00:00Z';

before(async () => {
  server = await h.startServer();
  A = h.createTenant(server, { name: 'Tenant A' });
  B = h.createTenant(server, { name: 'Tenant B' });
  const specs = [];
  // 60 calls an hour apart, three reps, two agencies (one null)
  for (let i = 0; i < 60; i++) {
    specs.push({
      endedAt: T0 + 3600_000 * (i + 1) + 123,
      externalUserId: `rep_${i % 3}`,
      externalAgencyId: i % 4 === 0 ? null : `agency_${i % 2}`,
      durationSec: 10 + i,
    });
  }
  // 9 calls sharing one endedAt (pagination must not lose or repeat them)
  const tie = T0 + 3600_000 * 100;
  for (let i = 0; i < 9; i++) specs.push({ endedAt: tie, externalUserId: 'rep_tie', externalAgencyId: 'agency_tie' });
  // 61 more spread over a week, so there are 130 in total
  for (let i = 0; i < 61; i++) specs.push({ endedAt: T0 + 3600_000 * 200 + i * 7919_000, externalUserId: 'rep_bulk' });
  rowsA = h.seedScoredCalls(server.dbPath, A.tenantId, specs);
  rowsB = h.seedScoredCalls(server.dbPath, B.tenantId, Array.from({ length: 12 }, (_, i) => ({
    endedAt: T0 + 3600_000 * (i + 1) + 123, // the same endedAt values as A's first rows
    externalUserId: 'rep_0',
    externalAgencyId: 'agency_0',
  })));
});
after(async () => {
  if (server) await server.stop();
});

describe('GET /calls/{callId}', () => {
  let detailRow;
  before(() => {
    detailRow = h.seedScoredCall(server.dbPath, A.tenantId, {
      externalUserId: 'rep_detail',
      externalAgencyId: null,
      startedAt: '2026-05-02T10:00:00.250Z',
      endedAt: '2026-05-02T10:07:03.750Z',
      durationSec: 423,
      scoredAt: '2026-05-02T10:07:20.000Z',
      createdAt: '2026-05-02T09:59:58.000Z',
      updatedAt: '2026-05-02T10:07:20.010Z',
      score: {
        overallScore: 67.5,
        summary: 'Built rapport; skipped the scope of appointment.',
        feedback: 'Confirm the SOA before discussing plans.',
        dimensions: [{ key: 'rapport', score: 80, evidence: [1] }],
        rubricVersion: 'ma-full-sale@1',
      },
      transcript: [
        { role: 'assistant', content: 'Hello? Who is this?' },
        { role: 'user', content: 'Hi, it\'s Sam from "Acme" — calling about your Medicare plan.' },
        { role: 'assistant', content: 'Line one\nline two, ünïcødé 😀' },
      ],
    });
  });

  test('the exact CallDetail shape and values', async () => {
    const r = await h.api(server, 'GET', `/calls/${detailRow.id}`, { apiKey: A.apiKey });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    h.assertRequestId(r);
    schemas.assertSchema('CallDetail', r.body);
    const b = r.body;
    const contractKeys = ['id', 'source', 'status', 'externalUserId', 'externalAgencyId', 'drillKey', 'startedAt', 'endedAt',
      'durationSec', 'scoredAt', 'transcript', 'score', 'audioUrl', 'audioUrlExpiresAt', 'waveform', 'createdAt', 'updatedAt'];
    for (const k of contractKeys) assert.ok(k in b, `missing ${k}`);
    for (const k of Object.keys(b)) {
      if (!contractKeys.includes(k)) assert.ok(!/(^_?id$|Id$|_id$)/.test(k), `an extra id-like key ${k} leaks`);
    }
    assert.equal(b.id, detailRow.id);
    assert.equal(b.source, 'roleplay');
    assert.equal(b.status, 'scored');
    assert.equal(b.externalUserId, 'rep_detail');
    assert.equal(b.externalAgencyId, null);
    assert.equal(b.drillKey, 'ma-full-sale');
    assert.equal(b.durationSec, 423);
    assert.equal(b.startedAt, '2026-05-02T10:00:00.250Z');
    assert.equal(b.endedAt, '2026-05-02T10:07:03.750Z');
    assert.equal(b.scoredAt, '2026-05-02T10:07:20.000Z');
    assert.equal(b.createdAt, '2026-05-02T09:59:58.000Z');
    assert.equal(b.updatedAt, '2026-05-02T10:07:20.010Z');
    assert.equal(b.audioUrl, null);
    assert.equal(b.audioUrlExpiresAt, null);
    assert.equal(b.waveform, null);
    // the score blob is passed through whole, extra keys included
    assert.deepEqual(b.score, detailRow.score);
    // transcript: role + content, in order, text intact
    assert.deepEqual(b.transcript.map(({ role, content }) => ({ role, content })), detailRow.transcript);
    for (const t of b.transcript) assert.ok(['assistant', 'user'].includes(t.role));
  });

  test('no internal id anywhere in the body', async () => {
    const r = await h.api(server, 'GET', `/calls/${detailRow.id}`, { apiKey: A.apiKey });
    const internal = h.sqlite(server.dbPath, `SELECT id, tenant_id FROM calls WHERE public_id = '${detailRow.id}';`).trim().split('|');
    const walkValues = (v, p = '') => {
      if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          assert.ok(!/tenant/i.test(k), `key ${p}.${k} mentions the tenant`);
          walkValues(x, `${p}.${k}`);
        }
      }
    };
    walkValues(r.body);
    assert.ok(!r.text.includes(A.tenantId), 'the tenant id leaks into the body');
    assert.ok(!/"(call_?[iI]d|internalId|rowId|pk)"\s*:/.test(r.text), `an internal id key leaks: ${r.text.slice(0, 300)}`);
    assert.ok(internal.length === 2, 'could not read internal ids');
  });

  test('CALL_NOT_FOUND: unknown, malformed, another tenant\'s, not yet scored — indistinguishable', async () => {
    // a redeemed call (status created)
    const { token } = await h.mintToken(server, A.apiKey);
    const red = await h.redeem(server, token);
    // seeded calls that are ended or scoring, not scored; their drill has no
    // rubric, so the server's scorer claims them but never scores them (else
    // they would turn up, scored, in the listings the later tests compare)
    const unscorable = { score: null, scoredAt: null, drillKey: 'no-such-drill' };
    const ended = h.seedScoredCall(server.dbPath, A.tenantId, { status: 'ended', ...unscorable });
    const scoring = h.seedScoredCall(server.dbPath, A.tenantId, { status: 'scoring', ...unscorable });
    const ids = [
      'athos_call_AAAAAAAAAAAAAAAAAAAAA', // well-formed, unknown
      rowsB[0].id, // another tenant's
      red.callId, // redeemed, not scored
      ended.id,
      scoring.id,
      'nope',
      'athos_call_',
      detailRow.id.toLowerCase() === detailRow.id ? `${detailRow.id}x` : detailRow.id.toLowerCase(),
      encodeURIComponent("athos_call_' OR '1'='1"),
      encodeURIComponent('athos_call_%'),
      'athos_call_' + 'x'.repeat(300),
    ];
    let reference = null;
    for (const id of ids) {
      const r = await h.api(server, 'GET', `/calls/${id}`, { apiKey: A.apiKey });
      h.assertError(r, 404, 'CALL_NOT_FOUND');
      const shape = {
        status: r.status,
        contentType: r.headers.get('content-type'),
        body: { error: { ...r.body.error, requestId: undefined } },
        headers: [...r.headers.keys()].filter((k) => !['date', 'x-athos-request-id', 'content-length'].includes(k)).sort(),
        length: r.text.length - r.body.error.requestId.length,
      };
      if (reference === null) reference = shape;
      else assert.deepEqual(shape, reference, `the 404 for ${id} differs from the first`);
    }
    // and B reads its own call fine
    const own = await h.api(server, 'GET', `/calls/${rowsB[0].id}`, { apiKey: B.apiKey });
    assert.equal(own.status, 200);
    schemas.assertSchema('CallDetail', own.body);
    // the redeemed call also stays out of the list
    const { ids: all } = await walk(A.apiKey, { from: '2000-01-01T00:00:00Z', limit: '100' });
    assert.ok(!all.includes(red.callId) && !all.includes(ended.id) && !all.includes(scoring.id), 'an unscored call is listed');
  });
});

describe('GET /calls/{callId}: our own failures', () => {
  test('a corrupt stored score is 500 INTERNAL_ERROR with no internals in the message', async () => {
    const bad = h.seedScoredCall(server.dbPath, A.tenantId, { endedAt: '2025-01-01T00:00:00Z' });
    h.sqlite(server.dbPath, `UPDATE calls SET score_json = '{not json' WHERE public_id = '${bad.id}';`);
    const r = await h.api(server, 'GET', `/calls/${bad.id}`, { apiKey: A.apiKey });
    h.assertError(r, 500, 'INTERNAL_ERROR');
    assert.ok(!/json|sqlite|score_json|\.c\b|line \d|errno/i.test(r.body.error.message), `internals in the message: ${r.body.error.message}`);
    // the server is fine afterwards
    assert.equal((await h.api(server, 'GET', '//healthz')).status, 200);
  });
});

describe('GET /calls', () => {
  test('rows are SlimCall, newest first, scored and own only', async () => {
    const r = await list(A.apiKey, { from: FROM, limit: '100' });
    assert.equal(r.status, 200, r.text);
    h.assertRequestId(r);
    schemas.assertSchema('ListCallsResponse', r.body);
    const expected = [...rowsA].sort(order).slice(0, 100);
    assert.deepEqual(r.body.data.map((x) => x.id), expected.map((x) => x.id));
    const byId = new Map(rowsA.map((x) => [x.id, x]));
    for (const row of r.body.data) {
      const s = byId.get(row.id);
      assert.match(row.id, h.CALL_ID_RE);
      assert.equal(row.source, 'roleplay');
      assert.equal(row.externalUserId, s.externalUserId);
      assert.equal(row.externalAgencyId, s.externalAgencyId);
      assert.equal(row.drillKey, 'ma-full-sale');
      assert.equal(row.durationSec, s.durationSec);
      assert.equal(Date.parse(row.endedAt), s.endedAt);
      assert.equal(Date.parse(row.startedAt), s.startedAt);
      assert.equal(Date.parse(row.scoredAt), s.scoredAt);
      assert.ok(!('score' in row) && !('transcript' in row), 'list rows must be slim');
      assert.ok(!JSON.stringify(row).includes(A.tenantId));
    }
  });

  test('limit: default 50, 1..100 honoured, above 100 capped at 100', async () => {
    let r = await list(A.apiKey, { from: FROM });
    assert.equal(r.status, 200);
    assert.equal(r.body.data.length, 50);
    assert.notEqual(r.body.nextCursor, null);
    for (const [limit, n] of [['1', 1], ['7', 7], ['100', 100], ['101', 100], ['1000', 100], ['100000000000', 100]]) {
      r = await list(A.apiKey, { from: FROM, limit });
      assert.equal(r.status, 200, `limit=${limit}: ${r.status} ${r.text.slice(0, 300)}`);
      assert.equal(r.body.data.length, n, `limit=${limit}`);
    }
    r = await list(B.apiKey, { from: FROM, limit: '100' });
    assert.equal(r.body.data.length, 12);
    assert.equal(r.body.nextCursor, null, 'a last page must have nextCursor null');
  });

  test('400 INVALID_REQUEST for bad limit, from, to', async () => {
    const bad = [
      {},
      { to: '2026-07-01T00:00:00Z' },
      { from: '' },
      { from: 'yesterday' },
      { from: '2026-13-01T00:00:00Z' },
      { from: '2026-06-31T00:00:00Z' },
      { from: '2026-06-01T25:00:00Z' },
      { from: '2026-06-01T00:00:00Zjunk' },
      { from: '1780000000' },
      { from: FROM, to: 'tomorrow' },
      { from: FROM, to: '2026-06-01T00:00:00+25:00' },
      { from: FROM, limit: '0' },
      { from: FROM, limit: '-1' },
      { from: FROM, limit: 'abc' },
      { from: FROM, limit: '1.5' },
      { from: FROM, limit: '10abc' },
      { from: FROM, limit: ' 5' },
    ];
    const wrong = [];
    for (const p of bad) {
      const r = await list(A.apiKey, p);
      if (r.status !== 400 || !r.body || !r.body.error || r.body.error.code !== 'INVALID_REQUEST') {
        wrong.push(`${JSON.stringify(p)} -> ${r.status} ${r.text.slice(0, 120)}`);
      } else h.assertError(r, 400, 'INVALID_REQUEST');
    }
    assert.deepEqual(wrong, [], 'these were not 400 INVALID_REQUEST');
    // empty optional parameters: either ignored or 400, never a crash or a wrong page
    for (const p of [{ from: FROM, to: '' }, { from: FROM, limit: '' }, { from: FROM, cursor: '' }]) {
      const r = await list(A.apiKey, p);
      if (r.status === 400) h.assertError(r, 400, 'INVALID_REQUEST');
      else {
        assert.equal(r.status, 200, `${JSON.stringify(p)}: ${r.status}`);
        assert.deepEqual(r.body.data.map((x) => x.id), [...rowsA].sort(order).slice(0, 50).map((x) => x.id), JSON.stringify(p));
      }
    }
  });

  test('from and to are inclusive on endedAt and accept ISO 8601 offsets and fractions', async () => {
    const sorted = [...rowsA].sort(order);
    const hi = sorted[10];
    const lo = sorted[20];
    const expect = sorted.filter((x) => x.endedAt >= lo.endedAt && x.endedAt <= hi.endedAt).map((x) => x.id);
    let r = await list(A.apiKey, { from: iso(lo.endedAt), to: iso(hi.endedAt), limit: '100' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.data.map((x) => x.id), expect);
    assert.ok(r.body.data[0].id === hi.id || Date.parse(r.body.data[0].endedAt) === hi.endedAt, 'to is not inclusive');
    assert.ok(r.body.data.some((x) => x.id === lo.id), 'from is not inclusive');
    // one millisecond inside on each side drops both ends
    r = await list(A.apiKey, { from: iso(lo.endedAt + 1), to: iso(hi.endedAt - 1), limit: '100' });
    assert.equal(r.status, 200, r.text);
    assert.ok(!r.body.data.some((x) => x.endedAt === iso(lo.endedAt) || x.endedAt === iso(hi.endedAt)));
    assert.ok(!r.body.data.some((x) => x.id === lo.id || x.id === hi.id));
    // the same window written with an offset
    const off = (ms) => new Date(ms + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    r = await list(A.apiKey, { from: off(lo.endedAt), to: off(hi.endedAt), limit: '100' });
    assert.equal(r.status, 200, `offset form: ${r.status} ${r.text.slice(0, 300)}`);
    assert.deepEqual(r.body.data.map((x) => x.id), expect);
    // +00:00 (what Python's isoformat() prints) and no fraction
    r = await list(A.apiKey, { from: '2026-06-01T00:00:00+00:00', limit: '100' });
    assert.equal(r.status, 200, `+00:00: ${r.status} ${r.text.slice(0, 300)}`);
    assert.equal(r.body.data.length, 100);
    // a window with nothing in it
    r = await list(A.apiKey, { from: '2020-01-01T00:00:00Z', to: '2020-12-31T23:59:59Z' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { data: [], nextCursor: null });
    // from after to: empty or 400, never rows
    r = await list(A.apiKey, { from: '2026-07-01T00:00:00Z', to: '2026-06-01T00:00:00Z' });
    assert.ok(r.status === 400 || (r.status === 200 && r.body.data.length === 0), `from > to: ${r.status} ${r.text.slice(0, 300)}`);
  });

  test('filters: source, externalUserId, externalAgencyId', async () => {
    const all = (await walk(A.apiKey, { from: FROM, limit: '100' })).ids;
    const sorted = [...rowsA].sort(order);
    assert.deepEqual(all, sorted.map((x) => x.id));
    let w = await walk(A.apiKey, { from: FROM, source: 'roleplay', limit: '100' });
    assert.deepEqual(w.ids, all);
    w = await walk(A.apiKey, { from: FROM, externalUserId: 'rep_1', limit: '9' });
    assert.deepEqual(w.ids, sorted.filter((x) => x.externalUserId === 'rep_1').map((x) => x.id));
    assert.ok(w.ids.length === 20);
    w = await walk(A.apiKey, { from: FROM, externalAgencyId: 'agency_1', limit: '100' });
    assert.deepEqual(w.ids, sorted.filter((x) => x.externalAgencyId === 'agency_1').map((x) => x.id));
    w = await walk(A.apiKey, { from: FROM, externalUserId: 'rep_0', externalAgencyId: 'agency_0', limit: '4' });
    assert.deepEqual(w.ids, sorted.filter((x) => x.externalUserId === 'rep_0' && x.externalAgencyId === 'agency_0').map((x) => x.id));
    w = await walk(A.apiKey, { from: FROM, externalUserId: 'nobody' });
    assert.deepEqual(w.ids, []);
    // filters are exact, not patterns
    w = await walk(A.apiKey, { from: FROM, externalUserId: 'rep_%' });
    assert.deepEqual(w.ids, []);
    // an unknown source: 400 or empty, never rows
    const r = await list(A.apiKey, { from: FROM, source: 'bogus' });
    assert.ok(r.status === 400 || (r.status === 200 && r.body.data.length === 0), `source=bogus: ${r.status} ${r.text.slice(0, 300)}`);
    if (r.status === 400) h.assertError(r, 400, 'INVALID_REQUEST');
  });

  test('cursor pagination visits every row exactly once, ties included, for several page sizes', async () => {
    const expected = [...rowsA].sort(order).map((x) => x.id);
    for (const limit of ['1', '4', '7', '9', '50', '100']) {
      const { ids, pages } = await walk(A.apiKey, { from: FROM, limit });
      assert.equal(new Set(ids).size, ids.length, `limit ${limit}: duplicates`);
      assert.deepEqual(ids, expected, `limit ${limit}: wrong rows or order`);
      const full = Math.ceil(expected.length / Number(limit));
      // an exact multiple may end with one empty page
      const okPages = expected.length % Number(limit) === 0 ? [full, full + 1] : [full];
      assert.ok(okPages.includes(pages), `limit ${limit}: ${pages} pages, expected ${okPages}`);
    }
  });

  test('garbage cursors are 400; well-formed forged ones never leave the tenant', async () => {
    const first = await list(A.apiKey, { from: FROM, limit: '5' });
    const c = first.body.nextCursor;
    assert.ok(c);
    const enc = (t) => Buffer.from(t).toString('base64url');
    const garbage = [
      'garbage',
      'abc',
      '!!!!',
      'null',
      '0',
      '%00',
      c.slice(0, Math.floor(c.length / 2)),
      `${c}!`,
      enc('{"t":1,"id":"athos_call_AAAAAAAAAAAAAAAAAAAAA"}'),
      enc('{}'),
      Buffer.from('hello').toString('base64'),
      'x'.repeat(10000),
    ];
    // structure-aware forgeries of the server's own cursor: malformed variants
    const plain = Buffer.from(c, 'base64url').toString('utf8');
    const parts = plain.split('.');
    if (parts.length >= 3) {
      const [v, t, ...rest] = parts;
      const id = rest.join('.');
      garbage.push(
        enc([`${v}x`, t, id].join('.')),
        enc([v, `${t}x`, id].join('.')),
        enc([v, `-${t}`, id].join('.')),
        enc([v, '', id].join('.')),
        enc([v, t, ''].join('.')),
        enc([v, t, 'call_123'].join('.')),
        enc([v, t, `${id}'; DROP TABLE calls; --`].join('.')),
        enc([v, '9'.repeat(40), id].join('.')),
        enc([v, t].join('.')),
        enc(`${plain}.extra`),
      );
    }
    const wrong = [];
    for (const cursor of garbage) {
      const r = await list(A.apiKey, { from: FROM, limit: '5', cursor });
      if (r.status !== 400) {
        wrong.push(`cursor ${cursor.slice(0, 60)} (${JSON.stringify(Buffer.from(cursor, 'base64url').toString('utf8').slice(0, 60))}) -> ${r.status} ${r.text.slice(0, 100)}`);
      } else h.assertError(r, 400, 'INVALID_REQUEST');
    }
    assert.deepEqual(wrong, [], 'these cursors were not 400');
    // well-formed forgeries (another position, B's call id, a flipped character): the cursor
    // is sealed with an HMAC bound to the tenant, so every one of them is 400
    const wellFormed = [];
    if (parts.length >= 3) {
      const [v, t] = parts;
      wellFormed.push(enc([v, String(Number(t) - 1), rowsB[0].id].join('.')), enc([v, String(T0 + 3600_000 * 500), rowsB[3].id].join('.')));
    }
    const flip = (s, i) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    wellFormed.push(flip(c, Math.floor(c.length / 2)), flip(c, c.length - 1));
    for (const cursor of wellFormed) {
      const r = await list(A.apiKey, { from: FROM, limit: '100', cursor });
      h.assertError(r, 400, 'INVALID_REQUEST');
    }
    // the genuine cursor still works
    const r = await list(A.apiKey, { from: FROM, limit: '5', cursor: c });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data.map((x) => x.id), [...rowsA].sort(order).slice(5, 10).map((x) => x.id));
  });

  test('tenant isolation: never another tenant\'s rows, not even with its cursor', async () => {
    const idsA = new Set(rowsA.map((x) => x.id));
    const idsB = new Set(rowsB.map((x) => x.id));
    const wb = await walk(B.apiKey, { from: '2000-01-01T00:00:00Z', limit: '5' });
    assert.deepEqual(new Set(wb.ids), idsB);
    const wa = await walk(A.apiKey, { from: '2000-01-01T00:00:00Z', limit: '100' });
    assert.ok(wa.ids.every((id) => !idsB.has(id)), 'A sees B\'s rows');
    // filters that match B's rows exactly still give A only A's rows
    const wf = await walk(A.apiKey, { from: FROM, externalUserId: 'rep_0', externalAgencyId: 'agency_0', limit: '100' });
    assert.ok(wf.ids.every((id) => idsA.has(id)));
    // B's cursor used by A, and A's by B
    const cb = (await list(B.apiKey, { from: FROM, limit: '3' })).body.nextCursor;
    const ca = (await list(A.apiKey, { from: FROM, limit: '3' })).body.nextCursor;
    assert.ok(cb && ca);
    for (const [key, cursor, foreign] of [[A.apiKey, cb, idsB], [B.apiKey, ca, idsA]]) {
      const r = await list(key, { from: FROM, limit: '100', cursor });
      h.assertError(r, 400, 'INVALID_REQUEST'); // sealed to the tenant that was issued it
      assert.ok(foreign.size > 0);
    }
  });

  test('Key rotation does not change what a tenant sees', async () => {
    const k = h.cli(['key', 'create', B.tenantId], { dbPath: server.dbPath });
    const w = await walk(k.apiKey, { from: FROM, limit: '100' });
    assert.deepEqual(new Set(w.ids), new Set(rowsB.map((x) => x.id)));
  });
});
