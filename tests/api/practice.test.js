'use strict';
// `athos practice`: the terminal practice call, driven as a user would,
// with a scripted conversation piped into stdin. Against the real server:
// mint → redeem → live call, every persona reply printed before the
// hang-up, the call ends as rep_hangup and its transcript holds the rep's
// lines. Against a small fake server (node's http + the `ws` package,
// which rejects unmasked client frames): what the CLI sends, and how it
// reports an `error` frame before `ready`, a wss:// URL and HTTP errors.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const http = require('node:http');
const WebSocket = require('ws');
const h = require('./harness');

/* Runs `athos practice ARGS` with input piped to stdin. */
function practice(args, input, { env = {}, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const fullEnv = { ...process.env, ...env };
    delete fullEnv.ATHOS_URL;
    if (env.ATHOS_URL) fullEnv.ATHOS_URL = env.ATHOS_URL;
    const proc = spawn(h.ATHOS_BIN, ['practice', ...args], { env: fullEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => { stdout += c; });
    proc.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`athos practice did not exit within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    proc.once('error', reject);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    proc.stdin.on('error', () => { /* exited before reading it all */ });
    proc.stdin.end(input);
  });
}

const show = (r) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

describe('athos practice against the real server', () => {
  let server;
  let tenant;

  before(async () => {
    server = await h.startServer();
    tenant = h.createTenant(server, { name: 'Practice' });
  });
  after(async () => {
    if (server) await server.stop();
  });

  const LINES = [
    'Hi, this is Sam with Sunshine Benefits, how are you today?',
    'Before we go on, this call is recorded for quality and training purposes.',
    'Who is your primary care doctor?',
    'What prescriptions do you take?',
  ];

  test('a scripted conversation: every reply arrives, the call ends as rep_hangup', async () => {
    const r = await practice(
      ['--api-key', tenant.apiKey, '--url', server.url, '--difficulty', 'Beginner', '--user-id', 'rep_cli'],
      `${LINES.join('\n')}\n/end\n`,
    );
    assert.equal(r.code, 0, show(r));
    assert.ok(!r.stdout.includes(tenant.apiKey) && !r.stderr.includes(tenant.apiKey), 'the API key was printed');

    const m = r.stdout.match(/^Connected: call (athos_call_\S+) with (.+)\. Type your lines/m);
    assert.ok(m, `no "Connected" line\n${show(r)}`);
    const callId = m[1];
    const persona = m[2];
    assert.match(callId, h.CALL_ID_RE);

    // The transcript on stdout: opener, then each rep line followed by a reply.
    const out = r.stdout.split('\n');
    const said = (line) => line.startsWith(`${persona}: `) && line.length > persona.length + 2;
    const firstYou = out.findIndex((l) => l.startsWith('You: '));
    assert.ok(firstYou > 0 && out.slice(0, firstYou).some(said), `the persona did not speak first\n${show(r)}`);
    for (const line of LINES) {
      const i = out.indexOf(`You: ${line}`);
      assert.ok(i >= 0, `rep line not echoed: ${line}\n${show(r)}`);
      assert.ok(said(out[i + 1] || ''), `no reply right after "${line}"\n${show(r)}`);
    }
    // It answered the doctor question with a doctor.
    const doc = out[out.indexOf(`You: ${LINES[2]}`) + 1];
    assert.match(doc, /Dr\./, `no doctor named in: ${doc}`);

    const ended = r.stdout.match(/^Call ended: (\w+) .*after (\d+) s\. Call id: (\S+)$/m);
    assert.ok(ended, `no "Call ended" line\n${show(r)}`);
    assert.equal(ended[1], 'rep_hangup');
    assert.equal(ended[3], callId);
    assert.ok(r.stdout.indexOf('Call ended') > r.stdout.lastIndexOf(`${persona}: `), 'a reply came after the end');

    // The call as the reseller sees it once scored: our lines, in order.
    const detail = await h.eventually(async () => {
      const d = await h.api(server, 'GET', `/calls/${callId}`, { apiKey: tenant.apiKey });
      assert.equal(d.status, 200, d.text);
      return d.body;
    }, 15_000);
    assert.equal(detail.externalUserId, 'rep_cli');
    assert.equal(detail.drillKey, 'ma-full-sale');
    const userTurns = detail.transcript.filter((t) => t.role === 'user').map((t) => t.content);
    assert.deepEqual(userTurns, LINES);
    const personaTurns = detail.transcript.filter((t) => t.role === 'assistant');
    assert.equal(personaTurns.length, LINES.length + 1, 'opener plus one reply per line');
  });

  test('end of input hangs up too, and a last line without a newline is still said', async () => {
    const r = await practice(['--api-key', tenant.apiKey, '--url', server.url], 'Hello, this is Sam calling about your Medicare options.');
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^You: Hello, this is Sam calling about your Medicare options\.$/m);
    const after = r.stdout.split('You: Hello')[1];
    assert.match(after, /\n[^\n]+: \S/, `no reply to the last line\n${show(r)}`);
    assert.match(r.stdout, /^Call ended: rep_hangup /m);
  });

  test('ATHOS_URL is the default server; a line over 2,000 characters is refused, not sent', async () => {
    const long = 'a'.repeat(2001);
    const r = await practice(['--api-key', tenant.apiKey], `${long}\nShort and sweet.\n/end\n`, { env: { ATHOS_URL: server.url } });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /2001 characters; the limit is 2000/);
    assert.ok(!r.stdout.includes(long), 'the long line was echoed as said');
    assert.match(r.stdout, /^You: Short and sweet\.$/m);
    const callId = r.stdout.match(/Call id: (\S+)/)[1];
    const detail = await h.eventually(async () => {
      const d = await h.api(server, 'GET', `/calls/${callId}`, { apiKey: tenant.apiKey });
      assert.equal(d.status, 200, d.text);
      return d.body;
    }, 15_000);
    assert.deepEqual(detail.transcript.filter((t) => t.role === 'user').map((t) => t.content), ['Short and sweet.']);
  });

  test('a bad API key: the error envelope code and message, a non-zero exit, no key printed', async () => {
    const bad = 'ath_live_notarealkey0000000000000';
    const r = await practice(['--api-key', bad, '--url', server.url], '/end\n');
    assert.notEqual(r.code, 0, show(r));
    assert.match(r.stderr, /HTTP 401 INVALID_API_KEY: \S/);
    assert.match(r.stderr, /\(request req_/);
    assert.ok(!r.stdout.includes(bad) && !r.stderr.includes(bad), 'the API key was printed');
  });

  test('an unknown drill is reported from the redeem', async () => {
    const r = await practice(['--api-key', tenant.apiKey, '--url', server.url, '--drill', 'no-such-drill'], '/end\n');
    assert.notEqual(r.code, 0, show(r));
    assert.match(r.stderr, /DRILL_NOT_FOUND/);
  });

  test('usage errors exit 2', async () => {
    let r = await practice(['--url', server.url], '');
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /--api-key is required/);
    r = await practice(['--api-key', 'x', '--difficulty', 'Impossible'], '');
    assert.equal(r.code, 2, show(r));
    r = await practice(['ath_live_positional'], '');
    assert.equal(r.code, 2, show(r));
    assert.ok(!r.stderr.includes('ath_live_positional'), 'a stray argument (maybe a key) was echoed');
  });
});

describe('athos practice against a fake server', () => {
  let srv;
  let wss;
  let url;
  const seen = { mint: [], redeem: [], frames: [] };
  let mode = 'ok'; // 'ok' | 'bad-ticket' | 'wss'

  before(async () => {
    srv = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        const json = (status, obj) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(obj));
        };
        if (req.method === 'POST' && req.url === '/api/external/v1/session') {
          seen.mint.push({ auth: req.headers.authorization, body: JSON.parse(body) });
          return json(200, { token: 'tok_fake', expiresAt: new Date(Date.now() + 300_000).toISOString() });
        }
        if (req.method === 'POST' && req.url === '/api/external/v1/roleplay/session') {
          seen.redeem.push({ auth: req.headers.authorization, body: JSON.parse(body) });
          const scheme = mode === 'wss' ? 'wss' : 'ws';
          return json(200, {
            connectionTicket: mode === 'bad-ticket' ? 'bad' : 'tkt_good',
            connectionUrl: `${scheme}://127.0.0.1:${srv.address().port}/api/external/v1/roleplay/live`,
            sessionId: 'ext_fake',
            callId: 'athos_call_fakefakefakefakefake1',
            persona: { name: 'Fake Person' },
          });
        }
        return json(404, { error: { code: 'INVALID_REQUEST', message: 'nope', requestId: 'req_x' } });
      });
    });
    wss = new WebSocket.Server({ server: srv, path: '/api/external/v1/roleplay/live', maxPayload: 16384 });
    wss.on('connection', (ws) => {
      let turn = 0;
      const send = (o) => ws.send(JSON.stringify(o));
      ws.on('message', (data, isBinary) => {
        const msg = JSON.parse(String(data));
        seen.frames.push({ msg, isBinary });
        if (msg.type === 'start') {
          if (msg.ticket !== 'tkt_good') {
            send({ type: 'error', code: 'INVALID_TOKEN', message: 'The ticket is not valid.' });
            ws.close(1008);
            return;
          }
          send({ type: 'ready', callId: 'athos_call_fakefakefakefakefake1', sessionId: 'ext_fake', persona: { name: 'Fake Person' } });
          send({ type: 'say', text: 'Hello?', turn: turn++ });
        } else if (msg.type === 'say') {
          // Answer slowly: the CLI must wait for it before hanging up.
          setTimeout(() => send({ type: 'say', text: `You said ${msg.text.length} chars.`, turn: turn++ }), 300);
        } else if (msg.type === 'end') {
          send({ type: 'ended', callId: 'athos_call_fakefakefakefakefake1', durationSec: 3, reason: 'rep_hangup' });
          ws.close(1000);
        }
      });
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${srv.address().port}`;
  });
  after(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    await new Promise((r) => srv.close(r));
  });

  test('sends the documented requests and frames, masked, and waits for each reply', async () => {
    mode = 'ok';
    seen.mint.length = 0;
    seen.redeem.length = 0;
    seen.frames.length = 0;
    const r = await practice(
      ['--api-key', 'ath_live_fakekey', '--url', `${url}/`, '--difficulty', 'elite', '--state', 'FL'],
      'One.\nTwo two.\n/end\n',
    );
    assert.equal(r.code, 0, show(r));
    assert.equal(seen.mint.length, 1);
    assert.equal(seen.mint[0].auth, 'Bearer ath_live_fakekey');
    assert.match(seen.mint[0].body.externalUserId, /^cli-./, 'default externalUserId is cli-<login>');
    assert.deepEqual(seen.redeem[0], {
      auth: 'Bearer tok_fake',
      body: { drillKey: 'ma-full-sale', difficulty: 'Elite', filters: { state: 'FL' } },
    });
    // `ws` rejects unmasked client frames, so getting here proves masking.
    assert.deepEqual(seen.frames.map((f) => f.msg), [
      { type: 'start', ticket: 'tkt_good' },
      { type: 'say', text: 'One.' },
      { type: 'say', text: 'Two two.' },
      { type: 'end' },
    ]);
    assert.ok(seen.frames.every((f) => !f.isBinary), 'text frames only');
    assert.match(r.stdout, /^Fake Person: Hello\?$/m);
    assert.match(r.stdout, /^Fake Person: You said 4 chars\.$/m);
    assert.match(r.stdout, /^Fake Person: You said 8 chars\.$/m);
    assert.match(r.stdout, /^Call ended: rep_hangup \(you hung up\) after 3 s\. Call id: athos_call_fakefakefakefakefake1$/m);
  });

  test('an error frame before ready goes to stderr and the exit is non-zero', async () => {
    mode = 'bad-ticket';
    const r = await practice(['--api-key', 'ath_live_fakekey', '--url', url], 'Hello?\n/end\n');
    assert.notEqual(r.code, 0, show(r));
    assert.match(r.stderr, /server error INVALID_TOKEN: The ticket is not valid\./);
    assert.ok(!r.stdout.includes('Call ended'), show(r));
  });

  test('a wss:// connection URL is refused with a clear message', async () => {
    mode = 'wss';
    const r = await practice(['--api-key', 'ath_live_fakekey', '--url', url], '/end\n');
    assert.notEqual(r.code, 0, show(r));
    assert.match(r.stderr, /wss:\/\/ \(TLS\), which the CLI does not support/);
  });
});
