'use strict';
// The browser SDK (sdk/) and the Quickstart example (examples/quickstart/), end
// to end in a real browser: playwright-core drives Debian's /usr/bin/chromium
// against the example's backend (node server.js), which mints tokens from a
// real `athos serve`, verifies the call.scored webhook with npm
// `standardwebhooks` and reads the score over REST. Headless Chromium has no
// speech service, so the page runs in text mode (DESIGN.md "Known traps");
// `voice: 'browser'` is checked with the Web Speech API faked inside the page
// (server voice: sdk_voice.test.js).
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const { CHROMIUM, CHROMIUM_ARGS, skip, startExample, startStack } = require('./sdk_kit');

const SCREENSHOT = process.env.ATHOS_SDK_SCREENSHOT || '/tmp/athos-sdk-quickstart.png';

/* ---------------------------------------------------------------- tests */

describe('browser SDK + Quickstart example (real Chromium)', { skip }, () => {
  let server;
  let tenant;
  let example;
  let browser;
  const examples = [];
  const pageErrors = [];

  before(async () => {
    const { chromium } = require('playwright-core');
    ({ server, tenant, example } = await startStack('sdk'));
    examples.push(example);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  after(async () => {
    if (browser) await browser.close();
    for (const e of examples) await e.stop();
    if (server) await server.stop();
  });

  /* On failure, append the example's and the server's output to the error. */
  const withLogs = (fn) => async () => {
    try {
      await fn();
    } catch (e) {
      e.message += `\n--- example output:\n${example.out.slice(-2000)}\n--- athos log:\n${server.logs().slice(-3000)}`;
      throw e;
    }
  };

  async function newPage() {
    const context = await browser.newContext({ viewport: { width: 900, height: 1000 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    return page;
  }

  test('the practice page: start, talk in text mode, hang up, see the webhook-delivered score', withLogs(async () => {
    const page = await newPage();
    await page.goto(example.url);
    // No fake media device in this browser: server voice is possible (127.0.0.1 is a secure
    // context, AudioWorklet exists) but this test talks in text.
    assert.equal(await page.locator('#mic').isDisabled(), true, 'no mic button before a voice call');

    await page.click('#start');
    const persona = page.locator('#transcript li.assistant');
    const rep = page.locator('#transcript li.user');
    await persona.first().waitFor({ timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('On the call with'));
    assert.ok((await persona.first().textContent()).length > 0, 'the persona spoke first');

    const lines = [
      'Hi, this is Sam with Acme Benefits. This call may be recorded for quality purposes.',
      'Who is your doctor?',
    ];
    for (const [i, line] of lines.entries()) {
      await page.fill('#say-input', line);
      await page.press('#say-input', 'Enter');
      await page.waitForFunction((n) => document.querySelectorAll('#transcript li.assistant').length >= n, i + 2, { timeout: 10_000 });
      assert.equal(await rep.count(), i + 1);
      assert.match(await rep.nth(i).textContent(), new RegExp(line.replace(/[?.]/g, '\\$&')));
    }

    await page.click('#hangup');
    await page.locator('#score').waitFor({ state: 'visible', timeout: 30_000 });
    const overall = await page.textContent('#score-overall');
    assert.match(overall, /^\d+(\.\d+)? \/ 100$/);
    assert.ok((await page.textContent('#score-summary')).length > 0, 'summary shown');
    assert.ok((await page.textContent('#score-feedback')).length > 0, 'feedback shown');
    assert.equal(await page.locator('#recording-box').isHidden(), true, 'a text call has no recording');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // What the page shows is what the backend fetched over REST after verifying the webhook.
    const latest = await (await fetch(`${example.url}/calls/latest`)).json();
    assert.match(latest.id, h.CALL_ID_RE);
    assert.equal(overall, `${latest.score.overallScore} / 100`);
    const r = await h.api(server, 'GET', `/calls/${latest.id}`, { apiKey: tenant.apiKey });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.score, latest.score);
    assert.equal(r.body.externalUserId, 'rep_8842');
    const said = r.body.transcript.filter((t) => t.role === 'user').map((t) => t.content);
    assert.deepEqual(said, lines);
    await h.eventually(() => assert.match(example.out, new RegExp(`scored ${latest.id}`)), 5000); // its stdout is a pipe
    assert.deepEqual(pageErrors, [], 'no errors in the page console');
  }));

  test('the SDK API: events, payloads, state, transcript, end()', withLogs(async () => {
    const page = await newPage();
    await page.goto(example.url);
    const { token } = await h.mintToken(server, tenant.apiKey, { externalUserId: 'rep_sdk' });
    const out = await page.evaluate(async ({ token, baseUrl }) => {
      const { AthosRoleplay, DEFAULT_BASE_URL } = await import('/sdk/index.js');
      const events = [];
      const states = [];
      const s = AthosRoleplay.create({ token, baseUrl, difficulty: 'Beginner' });
      states.push(s.state);
      for (const e of ['ready', 'say', 'heard', 'spoken', 'ended', 'error', 'transcript']) {
        s.on(e, (p) => events.push([e, p]));
      }
      const ignored = () => events.push(['removed handler ran']);
      s.on('say', ignored).off('say', ignored);
      const firstSay = new Promise((res) => s.on('say', res));
      const connecting = s.connect();
      states.push(s.state);
      const ready = await connecting;
      states.push(s.state);
      await firstSay;
      const reply = new Promise((res) => s.on('say', res));
      s.say('Hi, this call is recorded for quality. How are you today?');
      await reply;
      const ended = await s.end();
      states.push(s.state);
      let lateSay = null;
      try { s.say('too late'); } catch (e) { lateSay = e.code; }
      return {
        ready, ended, events, states, lateSay, defaultBase: DEFAULT_BASE_URL,
        transcript: s.transcript, voice: AthosRoleplay.isVoiceSupported(),
      };
    }, { token, baseUrl: server.baseUrl });

    assert.equal(out.defaultBase, 'https://app.useathos.ai/api/external/v1');
    assert.equal(out.voice, false);
    assert.deepEqual(out.states, ['idle', 'connecting', 'live', 'ended']);
    assert.match(out.ready.callId, h.CALL_ID_RE);
    assert.match(out.ready.sessionId, /^ext_/);
    assert.equal(typeof out.ready.persona.name, 'string');
    const names = out.events.map(([e]) => e);
    assert.deepEqual(names, ['ready', 'say', 'transcript', 'transcript', 'say', 'transcript', 'ended']);
    assert.deepEqual(out.events[0][1], out.ready);
    const say = out.events[1][1];
    assert.deepEqual(Object.keys(say).sort(), ['role', 'text', 'turn']);
    assert.equal(say.role, 'assistant');
    assert.equal(typeof say.turn, 'number');
    assert.deepEqual(out.ended, out.events[6][1]);
    assert.equal(out.ended.callId, out.ready.callId);
    assert.equal(out.ended.reason, 'rep_hangup');
    assert.equal(typeof out.ended.durationSec, 'number');
    assert.deepEqual(out.transcript.map((l) => l.role), ['assistant', 'user', 'assistant']);
    assert.equal(out.lateSay, 'INVALID_REQUEST');
  }));

  test("voice: 'browser' (Web Speech API faked in the page): persona lines spoken, mic results sent as say", withLogs(async () => {
    const page = await newPage();
    // Headless Chromium has no voices and no recognition service: stand in for both.
    await page.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false });
      window.__spoken = [];
      window.__rec = null;
      const synth = {
        speaking: false,
        speak(u) { window.__spoken.push(u.text); setTimeout(() => u.onend && u.onend(), 0); },
        cancel() {},
      };
      Object.defineProperty(window, 'speechSynthesis', { value: synth, configurable: true });
      window.SpeechSynthesisUtterance = function (text) { this.text = text; };
      window.SpeechRecognition = window.webkitSpeechRecognition = function () {
        window.__rec = this;
        this.start = () => { this.started = true; };
        this.abort = () => { this.started = false; };
      };
      // What the fake microphone "hears": one final result.
      window.__hear = (text) => {
        const result = Object.assign([{ transcript: text }], { isFinal: true });
        window.__rec.onresult({ resultIndex: 0, results: [result] });
      };
    });
    await page.goto(example.url);
    const { token } = await h.mintToken(server, tenant.apiKey, { externalUserId: 'rep_voice' });
    const out = await page.evaluate(async ({ token, baseUrl }) => {
      const { AthosRoleplay } = await import('/sdk/index.js');
      const supported = AthosRoleplay.isVoiceSupported();
      const s = AthosRoleplay.create({ token, baseUrl, voice: 'browser' });
      const says = [];
      let wait = null;
      s.on('say', (p) => { says.push(p.text); if (wait) wait(); });
      const nextSay = () => new Promise((res, rej) => {
        wait = res;
        setTimeout(() => rej(new Error(`no persona line within 5 s (said: ${JSON.stringify(says)})`)), 5000);
      });
      const settle = () => new Promise((res) => setTimeout(res, 50)); // the fake voice finishes speaking
      const first = nextSay();
      await s.connect();
      await first;
      const active = s.voiceActive && window.__rec.started;
      await settle(); // the mic is ignored while the persona speaks
      const reply = nextSay();
      window.__hear('Hi, this call may be recorded for quality. How are you?');
      await reply;
      s.mute();
      window.__hear('this is muted');
      s.unmute();
      await s.end();
      return { supported, active, says, spoken: window.__spoken, transcript: s.transcript, recStopped: !window.__rec.started };
    }, { token, baseUrl: server.baseUrl });
    assert.equal(out.supported, true);
    assert.equal(out.active, true);
    assert.deepEqual(out.spoken, out.says, 'every persona line was spoken');
    assert.equal(out.says.length, 2);
    assert.deepEqual(out.transcript.filter((l) => l.role === 'user').map((l) => l.text),
      ['Hi, this call may be recorded for quality. How are you?']);
    assert.equal(out.recStopped, true, 'the mic stops when the call ends');
  }));

  test('a bad or reused token surfaces as an error event with the contract code, and connect() rejects', withLogs(async () => {
    const page = await newPage();
    await page.goto(example.url);
    const { token } = await h.mintToken(server, tenant.apiKey, { externalUserId: 'rep_sdk' });
    await h.redeem(server, token); // spent
    const run = (tok, opts = {}) => page.evaluate(async ({ tok, baseUrl, opts }) => {
      const { AthosRoleplay } = await import('/sdk/index.js');
      const s = AthosRoleplay.create({ token: tok, baseUrl, ...opts });
      const errors = [];
      s.on('error', (e) => errors.push(e));
      let rejected = null;
      try { await s.connect(); } catch (e) { rejected = { name: e.name, code: e.code }; }
      return { errors, rejected, state: s.state };
    }, { tok, baseUrl: server.baseUrl, opts });

    const used = await run(token);
    assert.equal(used.errors.length, 1);
    assert.equal(used.errors[0].code, 'TOKEN_ALREADY_USED');
    assert.equal(used.errors[0].fatal, true);
    assert.equal(used.errors[0].status, 401);
    assert.match(used.errors[0].requestId, h.REQUEST_ID_RE);
    assert.deepEqual(used.rejected, { name: 'AthosError', code: 'TOKEN_ALREADY_USED' });
    assert.equal(used.state, 'failed');

    const bogus = await run('not-a-jwt');
    assert.equal(bogus.errors[0].code, 'INVALID_TOKEN');
    assert.equal(bogus.rejected.code, 'INVALID_TOKEN');

    const fresh = (await h.mintToken(server, tenant.apiKey, { externalUserId: 'rep_sdk' })).token;
    const drill = await run(fresh, { drillKey: 'no-such-drill' });
    assert.equal(drill.errors[0].code, 'DRILL_NOT_FOUND');

    const offline = await run(fresh, { baseUrl: 'http://127.0.0.1:9/api/external/v1' });
    assert.equal(offline.errors[0].code, 'NETWORK_ERROR');
    assert.equal(offline.rejected.code, 'NETWORK_ERROR');
  }));

  test('the example backend: 502 with the Athos error body on a failed mint; forged webhooks refused', withLogs(async () => {
    const bad = await startExample({
      ATHOS_API_KEY: 'ath_live_not_a_real_key',
      ATHOS_WHSEC: tenant.webhookSecret,
      ATHOS_BASE_URL: server.baseUrl,
    });
    examples.push(bad);
    const r = await fetch(`${bad.url}/athos/token`, { method: 'POST' });
    assert.equal(r.status, 502);
    const body = await r.json();
    assert.equal(body.error.code, 'INVALID_API_KEY');
    assert.match(body.error.requestId, h.REQUEST_ID_RE);

    const ok = await fetch(`${example.url}/athos/token`, { method: 'POST' });
    assert.equal(ok.status, 200);
    assert.deepEqual(Object.keys(await ok.json()).sort(), ['expiresAt', 'token']);

    const forged = await fetch(`${example.url}/webhooks/athos`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'msg_forged',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      },
      body: JSON.stringify({ type: 'call.scored', data: { callId: 'athos_call_xxxxxxxxxxxxxxxxxxxxx' } }),
    });
    assert.equal(forged.status, 400);
  }));
});
