'use strict';
// The live roleplay transport (DESIGN.md "Live protocol") driven with the
// `ws` client, as the browser SDK would: the handshake, every message type,
// every end reason (timeouts shortened through the environment), bad and
// oversized frames, the utterance limit, ticket reuse, expiry and races,
// and kill -9 mid-call keeping every acknowledged turn.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const crypto = require('node:crypto');
const h = require('./harness');
const { connect, stopClean } = require('./abuse_live_kit');

const LIVE_PATH = '/api/external/v1/roleplay/live';
const PRESSURE =
  "I'm calling from Medicare and you must enroll today, it's totally free and you'll lose your benefits if you don't act now.";

/* ------------------------------------------------------------ helpers */

async function newCall(server, tenant, body = { drillKey: 'ma-full-sale' }) {
  const { token } = await h.mintToken(server, tenant.apiKey, { externalUserId: 'rep_live' });
  return h.redeem(server, token, body);
}

function assertReady(m, call) {
  assert.equal(m.type, 'ready', JSON.stringify(m));
  assert.equal(m.callId, call.callId);
  assert.equal(m.sessionId, call.sessionId);
  assert.equal(typeof m.persona, 'object');
  assert.equal(m.persona.name, call.persona.name);
}

function assertSay(m, turn) {
  assert.equal(m.type, 'say', JSON.stringify(m));
  assert.equal(typeof m.text, 'string');
  assert.ok(m.text.length > 0, 'empty say');
  assert.equal(m.turn, turn);
}

function assertError(m, code) {
  assert.equal(m.type, 'error', JSON.stringify(m));
  assert.equal(m.code, code, JSON.stringify(m));
  assert.equal(typeof m.message, 'string');
  assert.ok(m.message.length > 0);
}

/* Redeems, connects, starts: returns after ready and the opener (turn 0). */
async function startCall(server, tenant, body) {
  const call = await newCall(server, tenant, body);
  assert.equal(call.connectionUrl, server.url.replace(/^http/, 'ws') + LIVE_PATH);
  const c = connect(call.connectionUrl);
  await c.opened;
  c.send({ type: 'start', ticket: call.connectionTicket });
  const ready = await c.next();
  assertReady(ready, call);
  const opener = await c.next();
  assertSay(opener, 0);
  return { call, c, ready, opener, turn: 1 };
}

/* Says one line and returns the persona's reply (asserting its turn). */
async function say(s, text) {
  s.c.send({ type: 'say', text });
  const m = await s.c.next();
  assertSay(m, s.turn + 1);
  s.turn += 2;
  return m;
}

async function expectEnded(s, reason, ms = 5000) {
  const m = await s.c.next(ms);
  assert.equal(m.type, 'ended', JSON.stringify(m));
  assert.equal(m.callId, s.call.callId);
  assert.equal(m.reason, reason);
  assert.ok(Number.isInteger(m.durationSec) && m.durationSec >= 0, JSON.stringify(m));
  const ci = await s.c.closed(ms);
  assert.equal(ci.code, 1000);
  return m;
}

function sqlJson(server, sql) {
  const out = h.sqlite(server.dbPath, `.mode json\n${sql}`).trim();
  return out ? JSON.parse(out) : [];
}

function callRow(server, callId) {
  const rows = sqlJson(server, `SELECT status, end_reason, duration_sec, started_at, ended_at FROM calls WHERE public_id = '${callId}';`);
  assert.equal(rows.length, 1, `no call ${callId}`);
  return rows[0];
}

function turns(server, callId) {
  return sqlJson(server, `SELECT idx, role, content FROM call_turns WHERE call_id = (SELECT id FROM calls WHERE public_id = '${callId}') ORDER BY idx;`);
}

/* Waits until the call is ended (the scorer may already have moved it on)
 * with this reason. */
async function assertEndedInDb(server, callId, reason) {
  return h.eventually(() => {
    const row = callRow(server, callId);
    assert.ok(['ended', 'scoring', 'scored'].includes(row.status), JSON.stringify(row));
    assert.equal(row.end_reason, reason);
    assert.equal(row.duration_sec, Math.floor((row.ended_at - row.started_at) / 1000));
    return row;
  }, 5000);
}

/* A raw HTTP request to the live endpoint (fetch refuses Upgrade headers). */
function rawGet(server, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}${LIVE_PATH}`, { method: 'GET', headers });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text, body: text ? JSON.parse(text) : null }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, headers: res.headers, text: '', body: null });
    });
    req.on('error', reject);
    req.end();
  });
}

const WS_HEADERS = {
  Upgrade: 'websocket',
  Connection: 'Upgrade',
  'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Version': '13',
};

/* ------------------------------------------------------------- servers */

let server; // defaults, but a 1 s ping
let short;  // ticket 2 s, idle 2 s, max call 4 s
let T;
let S;

before(async () => {
  server = await h.startServer({ env: { ATHOS_WS_PING_SEC: '1' } });
  T = h.createTenant(server, { name: 'Live tenant' });
  short = await h.startServer({
    env: { ATHOS_TICKET_TTL_SEC: '2', ATHOS_IDLE_SEC: '2', ATHOS_MAX_CALL_SEC: '4' },
  });
  S = h.createTenant(short, { name: 'Live short tenant' });
});

after(async () => {
  if (server) await stopClean(server);
  if (short) await stopClean(short);
});

/* ----------------------------------------------------------- handshake */

describe('handshake', () => {
  test('101 with the RFC 6455 accept key', async () => {
    const r = await rawGet(server, WS_HEADERS);
    assert.equal(r.status, 101);
    assert.equal(r.headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    assert.match(r.headers.upgrade, /^websocket$/i);
    assert.match(r.headers.connection, /upgrade/i);
  });

  const bad = [
    ['no Upgrade header', { ...WS_HEADERS, Upgrade: undefined }],
    ['Upgrade is not websocket', { ...WS_HEADERS, Upgrade: 'h2c' }],
    ['no Sec-WebSocket-Key', { ...WS_HEADERS, 'Sec-WebSocket-Key': undefined }],
    ['a key that is not 16 bytes', { ...WS_HEADERS, 'Sec-WebSocket-Key': 'c2hvcnQ=' }],
    ['version 8', { ...WS_HEADERS, 'Sec-WebSocket-Version': '8' }],
  ];
  for (const [what, headers] of bad) {
    test(`400 INVALID_REQUEST: ${what}`, async () => {
      for (const k of Object.keys(headers)) if (headers[k] === undefined) delete headers[k];
      const r = await rawGet(server, headers);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error.code, 'INVALID_REQUEST');
      assert.equal(r.body.error.requestId, r.headers['x-athos-request-id']);
    });
  }
});

/* --------------------------------------------------------- the protocol */

describe('a call', () => {
  test('ready, the opener, say/reply turns, end → ended rep_hangup; turns committed in order', async () => {
    const s = await startCall(server, T);
    const r1 = await say(s, 'Hi, this is Dana, a licensed insurance agent. This call is being recorded.');
    const r2 = await say(s, 'Which doctors do you see right now?');
    assert.notEqual(r1.text, r2.text);
    s.c.send({ type: 'end' });
    const ended = await expectEnded(s, 'rep_hangup');
    const row = await assertEndedInDb(server, s.call.callId, 'rep_hangup');
    assert.equal(ended.durationSec, row.duration_sec);
    const t = turns(server, s.call.callId);
    assert.deepEqual(t.map((x) => x.role), ['assistant', 'user', 'assistant', 'user', 'assistant']);
    assert.deepEqual(t.map((x) => x.idx), [0, 1, 2, 3, 4]);
    assert.equal(t[0].content, s.opener.text);
    assert.equal(t[2].content, r1.text);
    assert.equal(t[3].content, 'Which doctors do you see right now?');
    assert.equal(t[4].content, r2.text);
  });

  test('bad messages get an error and the call goes on', async () => {
    const s = await startCall(server, T);
    const cases = [
      '{"type":"say","text":',           // malformed JSON
      '[1,2,3]',                          // not an object
      '{"text":"no type"}',               // no type
      '{"type":"dance"}',                 // unknown type
      '{"type":"say"}',                   // say without text
      '{"type":"say","text":42}',         // text not a string
      '{"type":"say","text":"   "}',      // blank
      '{"type":"say","text":"\\u0000hello"}', // an escaped NUL: would be stored as an empty turn
      JSON.stringify({ type: 'start', ticket: s.call.connectionTicket }), // start again
    ];
    for (const text of cases) {
      s.c.send(text);
      assertError(await s.c.next(), 'INVALID_REQUEST');
    }
    await say(s, 'Can you hear me okay?'); // still going, turn numbering intact
    s.c.send({ type: 'end' });
    await expectEnded(s, 'rep_hangup');
    assert.equal(turns(server, s.call.callId).length, 3);
  });

  test('a binary frame in a call without negotiated audio: error, close 1003 (issue 10)', async () => {
    const s = await startCall(server, T);
    s.c.send(Buffer.from([1, 2, 3, 4]));
    assertError(await s.c.next(), 'INVALID_REQUEST');
    assert.equal((await s.c.closed()).code, 1003);
  });

  test('an utterance over 2,000 characters is refused and the call goes on; 2,000 is fine', async () => {
    const s = await startCall(server, T);
    s.c.send({ type: 'say', text: 'a'.repeat(2001) });
    assertError(await s.c.next(), 'INVALID_REQUEST');
    // characters, not bytes: 2,000 two-byte characters are allowed
    await say(s, 'é'.repeat(2000));
    s.c.send({ type: 'say', text: 'é'.repeat(2001) });
    assertError(await s.c.next(), 'INVALID_REQUEST');
    await say(s, 'Sorry about that. How are you today?');
    s.c.send({ type: 'end' });
    await expectEnded(s, 'rep_hangup');
    const t = turns(server, s.call.callId);
    assert.equal(t.length, 5);
    assert.equal(t[1].content, 'é'.repeat(2000));
  });

  test('a frame over 16 KiB closes the connection with 1009', async () => {
    const s = await startCall(server, T);
    s.c.send({ type: 'say', text: 'x'.repeat(17 * 1024) });
    const ci = await s.c.closed();
    assert.equal(ci.code, 1009);
    await assertEndedInDb(server, s.call.callId, 'disconnect');
  });

  test('a frame of 16 KiB exactly is read (and refused as too long an utterance)', async () => {
    const s = await startCall(server, T);
    const pad = 16 * 1024 - JSON.stringify({ type: 'say', text: '' }).length;
    const msg = JSON.stringify({ type: 'say', text: 'y'.repeat(pad) });
    assert.equal(Buffer.byteLength(msg), 16 * 1024);
    s.c.send(msg);
    assertError(await s.c.next(), 'INVALID_REQUEST');
    await say(s, 'Hello there.');
    s.c.send({ type: 'end' });
    await expectEnded(s, 'rep_hangup');
  });

  test('a text frame that is not UTF-8 fails the connection (1007) and the call ends as disconnect', async () => {
    const s = await startCall(server, T);
    s.c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    assert.equal((await s.c.closed()).code, 1007);
    await assertEndedInDb(server, s.call.callId, 'disconnect');
  });

  test('fifty calls at once on the one loop, each with its own transcript', async () => {
    const calls = await Promise.all(Array.from({ length: 50 }, () => startCall(server, T)));
    for (let round = 0; round < 3; round++) {
      await Promise.all(calls.map((s, i) => say(s, `Call ${i}, line ${round}: which doctors do you see?`)));
    }
    for (const s of calls) s.c.send({ type: 'end' });
    await Promise.all(calls.map((s) => expectEnded(s, 'rep_hangup')));
    for (const [i, s] of calls.entries()) {
      const t = turns(server, s.call.callId);
      assert.equal(t.length, 7);
      assert.equal(t[5].content, `Call ${i}, line 2: which doctors do you see?`);
    }
  });

  test('the server pings (ATHOS_WS_PING_SEC=1)', async () => {
    const s = await startCall(server, T);
    await h.sleep(3200);
    assert.ok(s.c.pings >= 2, `only ${s.c.pings} pings`);
    s.c.send({ type: 'end' });
    await expectEnded(s, 'rep_hangup');
  });

  test('messages pipelined in one burst are answered in order', async () => {
    const s = await startCall(server, T);
    const lines = ['Hello!', 'How are you doing today?', 'Which pharmacy do you use?'];
    for (const text of lines) s.c.send({ type: 'say', text });
    for (let i = 0; i < lines.length; i++) assertSay(await s.c.next(), 2 + 2 * i);
    s.c.send({ type: 'end' });
    await expectEnded(s, 'rep_hangup');
    assert.equal(turns(server, s.call.callId).length, 7);
  });
});

describe('before start', () => {
  test('a say before start: error, then close 1008', async () => {
    const call = await newCall(server, T);
    const c = connect(call.connectionUrl);
    await c.opened;
    c.send({ type: 'say', text: 'hello?' });
    assertError(await c.next(), 'INVALID_REQUEST');
    assert.equal((await c.closed()).code, 1008);
    // the ticket was not spent
    const c2 = connect(call.connectionUrl);
    await c2.opened;
    c2.send({ type: 'start', ticket: call.connectionTicket });
    assertReady(await c2.next(), call);
    c2.send({ type: 'end' });
    await c2.closed();
  });

  test('malformed first frame, start without a ticket: error, close 1008; binary first frame: 1003', async () => {
    const call = await newCall(server, T);
    for (const [frame, code] of [['not json', 1008], ['{"type":"start"}', 1008],
      [Buffer.from('{"type":"start"}'), 1003]]) {
      const c = connect(call.connectionUrl);
      await c.opened;
      c.send(frame);
      assertError(await c.next(), 'INVALID_REQUEST');
      assert.equal((await c.closed()).code, code);
    }
  });

  test('an unknown ticket: INVALID_TOKEN, close 1008', async () => {
    const c = connect(server.url.replace(/^http/, 'ws') + LIVE_PATH);
    await c.opened;
    c.send({ type: 'start', ticket: crypto.randomBytes(24).toString('base64url') });
    assertError(await c.next(), 'INVALID_TOKEN');
    assert.equal((await c.closed()).code, 1008);
  });

  test('a reused ticket: TOKEN_ALREADY_USED, close 1008', async () => {
    const s = await startCall(server, T);
    s.c.send({ type: 'end' });
    await expectEnded(s, 'rep_hangup');
    const c = connect(s.call.connectionUrl);
    await c.opened;
    c.send({ type: 'start', ticket: s.call.connectionTicket });
    assertError(await c.next(), 'TOKEN_ALREADY_USED');
    assert.equal((await c.closed()).code, 1008);
  });

  test('two connections racing for one ticket: exactly one ready', async () => {
    for (let round = 0; round < 5; round++) {
      const call = await newCall(server, T);
      const cs = [connect(call.connectionUrl), connect(call.connectionUrl), connect(call.connectionUrl)];
      await Promise.all(cs.map((c) => c.opened));
      for (const c of cs) c.send({ type: 'start', ticket: call.connectionTicket });
      const firsts = await Promise.all(cs.map((c) => c.next()));
      const ready = firsts.filter((m) => m.type === 'ready');
      const used = firsts.filter((m) => m.type === 'error' && m.code === 'TOKEN_ALREADY_USED');
      assert.equal(ready.length, 1, JSON.stringify(firsts));
      assert.equal(used.length, cs.length - 1, JSON.stringify(firsts));
      for (const c of cs) c.ws.terminate();
    }
  });

  test('an expired ticket: TOKEN_EXPIRED (ATHOS_TICKET_TTL_SEC=2)', async () => {
    const call = await newCall(short, S);
    await h.sleep(2300);
    const c = connect(call.connectionUrl);
    await c.opened;
    c.send({ type: 'start', ticket: call.connectionTicket });
    assertError(await c.next(), 'TOKEN_EXPIRED');
    assert.equal((await c.closed()).code, 1008);
  });

  test('no start within 10 s: error, close 1008', { timeout: 20_000 }, async () => {
    const c = connect(server.url.replace(/^http/, 'ws') + LIVE_PATH);
    await c.opened;
    const t0 = Date.now();
    assertError(await c.next(13_000), 'INVALID_REQUEST');
    assert.equal((await c.closed()).code, 1008);
    assert.ok(Date.now() - t0 >= 9000, `closed after ${Date.now() - t0} ms`);
  });
});

/* --------------------------------------------------------- end reasons */

describe('end reasons', () => {
  test('idle: no rep utterance for ATHOS_IDLE_SEC=2', async () => {
    const s = await startCall(short, S);
    const t0 = Date.now();
    const ended = await expectEnded(s, 'idle', 6000);
    assert.ok(Date.now() - t0 >= 1900, `idle after ${Date.now() - t0} ms`);
    assert.ok(ended.durationSec >= 1 && ended.durationSec <= 3, JSON.stringify(ended));
    await assertEndedInDb(short, s.call.callId, 'idle');
  });

  test('max_duration: ATHOS_MAX_CALL_SEC=4 while the rep keeps talking', async () => {
    const s = await startCall(short, S);
    let ended = null;
    for (let i = 0; i < 12 && !ended; i++) {
      s.c.send({ type: 'say', text: `Line number ${i}: tell me about your doctors.` });
      const m = await s.c.next(6000);
      if (m.type === 'ended') { ended = m; break; }
      assertSay(m, s.turn + 1);
      s.turn += 2;
      await h.sleep(700);
    }
    if (!ended) ended = await s.c.next(6000);
    assert.equal(ended.type, 'ended', JSON.stringify(ended));
    assert.equal(ended.reason, 'max_duration');
    assert.ok(ended.durationSec >= 4 && ended.durationSec <= 5, JSON.stringify(ended));
    assert.equal((await s.c.closed()).code, 1000);
    await assertEndedInDb(short, s.call.callId, 'max_duration');
  });

  test('persona_hangup: an Elite prospect pressured hangs up', async () => {
    const s = await startCall(server, T, { drillKey: 'ma-full-sale', difficulty: 'Elite' });
    let last = null;
    for (let i = 0; i < 25; i++) {
      s.c.send({ type: 'say', text: PRESSURE });
      const m = await s.c.next();
      assertSay(m, s.turn + 1);
      s.turn += 2;
      const peek = await Promise.race([s.c.next(300).catch(() => null)]);
      if (peek) { last = peek; break; }
    }
    assert.ok(last, 'the persona never hung up');
    assert.equal(last.type, 'ended', JSON.stringify(last));
    assert.equal(last.reason, 'persona_hangup');
    assert.equal((await s.c.closed()).code, 1000);
    await assertEndedInDb(server, s.call.callId, 'persona_hangup');
    const t = turns(server, s.call.callId);
    assert.equal(t[t.length - 1].role, 'assistant', 'the hang-up line is the last turn');
  });

  test('disconnect: the client drops the socket without end', async () => {
    const s = await startCall(server, T);
    await say(s, 'Hello, can you hear me?');
    s.c.ws.terminate();
    await assertEndedInDb(server, s.call.callId, 'disconnect');
    assert.equal(turns(server, s.call.callId).length, 3);
  });

  test('disconnect: the client closes cleanly without end', async () => {
    const s = await startCall(server, T);
    s.c.ws.close(1000);
    await s.c.closed();
    await assertEndedInDb(server, s.call.callId, 'disconnect');
  });
});

/* ---------------------------------------------------------- durability */

describe('durability', () => {
  test('kill -9 mid-call keeps every acknowledged turn; restart ends the call as disconnect', { timeout: 60_000 }, async () => {
    const k = await h.startServer();
    try {
      const K = h.createTenant(k, { name: 'Kill tenant' });
      const s = await startCall(k, K);
      const acked = [{ role: 'assistant', content: s.opener.text }];
      for (let i = 0; i < 6; i++) {
        const line = `Question ${i}: what prescriptions are you taking?`;
        const reply = await say(s, line);
        acked.push({ role: 'user', content: line }, { role: 'assistant', content: reply.text });
      }
      // one more in flight while the process dies: it may or may not be kept
      s.c.send({ type: 'say', text: 'And which pharmacy?' });
      await k.kill9();
      await s.c.closed(5000).catch(() => null);
      const kept = turns(k, s.call.callId);
      assert.ok(kept.length >= acked.length, `kept ${kept.length} of ${acked.length} acknowledged turns`);
      assert.deepEqual(kept.slice(0, acked.length).map((x) => ({ role: x.role, content: x.content })), acked);
      assert.equal(callRow(k, s.call.callId).status, 'live');
      await k.restart();
      const row = await assertEndedInDb(k, s.call.callId, 'disconnect');
      assert.ok(row.ended_at >= row.started_at);
      assert.ok(turns(k, s.call.callId).length >= acked.length);
    } finally {
      if (k.proc.exitCode === null && k.proc.signalCode === null) await k.stop();
    }
  });

  test('SIGTERM with a call open: ended sent as disconnect, committed', async () => {
    const k = await h.startServer();
    try {
      const K = h.createTenant(k, { name: 'Stop tenant' });
      const s = await startCall(k, K);
      await say(s, 'Hi there.');
      const stopping = k.stop();
      const m = await s.c.next(5000);
      assert.equal(m.type, 'ended', JSON.stringify(m));
      assert.equal(m.reason, 'disconnect');
      const exit = await stopping;
      assert.equal(exit.code, 0, JSON.stringify(exit));
      assert.doesNotMatch(k.logs(), /AddressSanitizer|LeakSanitizer|runtime error:/);
      const row = callRow(k, s.call.callId);
      assert.equal(row.end_reason, 'disconnect');
    } finally {
      if (k.proc.exitCode === null && k.proc.signalCode === null) await k.stop();
    }
  });
});
