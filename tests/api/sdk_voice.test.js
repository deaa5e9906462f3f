'use strict';
// Server voice through the browser SDK, in real Chromium: the Quickstart page
// holds a spoken call whose microphone is a WAV synthesised at test time
// (`athos-voice say`, else espeak-ng), fed by Chromium's fake capture device
// (--use-fake-device-for-media-stream --use-file-for-fake-audio-capture). The
// SDK's AudioWorklet sends it as 16 kHz pcm_s16le binary frames; the server's
// `heard`, the persona's `say`, its audio frames and `spoken` are watched on
// the page's WebSocket; after hang-up the page plays the recording through the
// example backend's proxy (Range passed through, so the <audio> element seeks).
//
// The spoken call is skipped, with the reason, when the server does not take
// audio: `start` with the audio field answered by an error frame, or binary
// frames refused after `ready` (a build without the voice half of the live
// protocol). Browser detection, VOICE_UNAVAILABLE, and the playback queue with
// barge-in need no server audio and always run.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const h = require('./harness');
const { connect } = require('./abuse_live_kit');
const { CHROMIUM, CHROMIUM_ARGS, skip, startStack } = require('./sdk_kit');

const AUDIO = { encoding: 'pcm_s16le', sampleRate: 16000 };
const REP_LINE = 'Hi, this is Sam with Acme Benefits. This call may be recorded for quality purposes. Who is your doctor?';
const NO_TTS = 'no speech synthesiser (build athos-voice, or apt-get install -y espeak-ng)';
const KEY_WORDS = /\b(recorded|quality|doctor|benefits|call)\b/i;

/* ------------------------------------------------------------ helpers */

/* The data chunk of a mono s16 WAV, and its rate. */
function readWav(file) {
  const b = fs.readFileSync(file);
  assert.equal(b.toString('latin1', 0, 4), 'RIFF');
  let off = 12;
  let rate = 0;
  let channels = 0;
  while (off + 8 <= b.length) {
    const id = b.toString('latin1', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      channels = b.readUInt16LE(off + 10);
      rate = b.readUInt32LE(off + 12);
    }
    if (id === 'data') return { rate, channels, pcm: b.subarray(off + 8, off + 8 + size) };
    off += 8 + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

function writeWav(file, pcm, rate) {
  const hdr = Buffer.alloc(44);
  hdr.write('RIFF', 0, 'latin1');
  hdr.writeUInt32LE(36 + pcm.length, 4);
  hdr.write('WAVEfmt ', 8, 'latin1');
  hdr.writeUInt32LE(16, 16);
  hdr.writeUInt16LE(1, 20); // PCM
  hdr.writeUInt16LE(1, 22); // mono
  hdr.writeUInt32LE(rate, 24);
  hdr.writeUInt32LE(rate * 2, 28);
  hdr.writeUInt16LE(2, 32);
  hdr.writeUInt16LE(16, 34);
  hdr.write('data', 36, 'latin1');
  hdr.writeUInt32LE(pcm.length, 40);
  fs.writeFileSync(file, Buffer.concat([hdr, pcm]));
}

/* The rep's line as a 16 kHz mono WAV: leadSec of silence, the speech, 4 s of silence
 * (so the server's end-pointer closes the utterance). null when no synthesiser. */
async function synthesiseRepWav(dir, leadSec = 1) {
  const raw = path.join(dir, 'raw.wav');
  const voiceBin = path.join(path.dirname(h.ATHOS_BIN), 'athos-voice');
  if (fs.existsSync(voiceBin)) execFileSync(voiceBin, ['say', REP_LINE, raw], { timeout: 60_000 });
  else if (fs.existsSync('/usr/bin/espeak-ng')) execFileSync('espeak-ng', ['-w', raw, REP_LINE], { timeout: 60_000 });
  else return null;
  const wav = readWav(raw);
  assert.equal(wav.channels, 1);
  let pcm = wav.pcm;
  if (wav.rate !== 16000) {
    // The SDK's own resampler (unit-tested in sdk_pcm.test.js).
    const { Resampler, floatToS16le, s16leToFloat } = await import(pathToFileURL(path.join(h.REPO, 'sdk', 'pcm.js')).href);
    pcm = Buffer.from(floatToS16le(new Resampler(wav.rate, 16000).push(s16leToFloat(pcm))));
  }
  const out = path.join(dir, `rep-${leadSec}.wav`);
  writeWav(out, Buffer.concat([Buffer.alloc(leadSec * 32000), pcm, Buffer.alloc(4 * 32000)]), 16000);
  return out;
}

/* Why this server cannot hold a voice call, or null: a `start` with the audio field
 * must get `ready`, and a binary frame of silence after it must not be refused. */
async function audioRefusal(server, tenant) {
  const { token } = await h.mintToken(server, tenant.apiKey, { externalUserId: 'rep_probe' });
  const call = await h.redeem(server, token);
  const c = connect(call.connectionUrl);
  await c.opened;
  try {
    c.send({ type: 'start', ticket: call.connectionTicket, audio: AUDIO });
    const first = await c.next();
    if (first.type === 'error') return `the server refused the audio field of start (${first.code}: ${first.message})`;
    assert.equal(first.type, 'ready', JSON.stringify(first));
    c.ws.send(Buffer.alloc(3200)); // 100 ms of silence
    await h.sleep(1000);
    const refused = c.all().find((m) => m.type === 'error');
    if (refused) return `the server ignores the audio field: a binary frame got ${refused.code} (${refused.message})`;
    const closed = await c.closed(1).catch(() => null);
    if (closed) return `the server closed the socket (${closed.code}) on a binary frame after an audio start`;
    return null;
  } finally {
    if (c.ws.readyState === 1) c.send({ type: 'end' });
    c.ws.close();
  }
}

/* ---------------------------------------------------------------- tests */

describe('server voice through the SDK and the Quickstart page (real Chromium, fake microphone)', { skip }, () => {
  let server;
  let tenant;
  let example;
  let chromium;
  let tmp;
  const browsers = [];

  before(async () => {
    ({ chromium } = require('playwright-core'));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'athos-sdk-voice-'));
    ({ server, tenant, example } = await startStack('sdkvoice'));
  });

  after(async () => {
    for (const b of browsers) await b.close();
    if (example) await example.stop();
    if (server) await server.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function launch(extraArgs = []) {
    const b = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required', ...extraArgs],
    });
    browsers.push(b);
    return b;
  }

  /* A page in a browser whose microphone is the rep's line after leadSec of silence
   * (permission granted), or null when nothing can synthesise speech. */
  async function fakeMicPage(leadSec) {
    const wav = await synthesiseRepWav(tmp, leadSec);
    if (!wav) return null;
    const browser = await launch([
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}%noloop`,
    ]);
    const context = await browser.newContext();
    await context.grantPermissions(['microphone'], { origin: example.url });
    return context.newPage();
  }

  const withLogs = (fn) => async (t) => {
    try {
      await fn(t);
    } catch (e) {
      e.message += `\n--- example output:\n${example.out.slice(-2000)}\n--- athos log:\n${server.logs().slice(-3000)}`;
      throw e;
    }
  };

  test('no microphone: supports() says why, and voice mode fails with VOICE_UNAVAILABLE before spending the token', withLogs(async () => {
    const browser = await launch(); // no fake device: this machine has no capture device
    const page = await (await browser.newContext()).newPage();
    await page.goto(example.url);
    const { token } = await h.mintToken(server, tenant.apiKey, { externalUserId: 'rep_nomic' });
    const out = await page.evaluate(async ({ token, baseUrl }) => {
      const { AthosRoleplay } = await import('/sdk/index.js');
      const support = await AthosRoleplay.supports();
      const s = AthosRoleplay.create({ token, baseUrl, voice: true });
      const errors = [];
      s.on('error', (e) => errors.push(e));
      let rejected = null;
      try { await s.connect(); } catch (e) { rejected = { code: e.code, reason: e.reason }; }
      return { support, errors, rejected, state: s.state };
    }, { token, baseUrl: server.baseUrl });
    assert.equal(out.support.secureContext, true, '127.0.0.1 is a secure context');
    assert.equal(out.support.audioWorklet, true);
    assert.equal(typeof out.support.microphone, 'string');
    assert.equal(out.support.webSpeech, false, 'an automated browser');
    assert.equal(out.errors.length, 1);
    assert.equal(out.errors[0].code, 'VOICE_UNAVAILABLE');
    assert.equal(out.errors[0].fatal, true);
    assert.match(out.errors[0].reason, /^(no-microphone|microphone-denied|audio-failed)$/);
    assert.match(out.errors[0].message, /Voice mode cannot start/);
    assert.deepEqual(out.rejected, { code: 'VOICE_UNAVAILABLE', reason: out.errors[0].reason });
    assert.equal(out.state, 'failed');
    // The token was not redeemed: a text session can still use it.
    const call = await h.redeem(server, token);
    assert.match(call.callId, h.CALL_ID_RE);
  }));

  test('persona audio queues in order and is flushed when the rep starts talking (barge-in), not on silence', withLogs(async (t) => {
    const page = await fakeMicPage(2);
    if (!page) return t.skip(NO_TTS);
    await page.goto(example.url);
    // No server needed: the SDK's audio graph (its private _prepareAudio and _playAudio,
    // what connect() and a binary frame call), fed persona frames by hand.
    const out = await page.evaluate(async () => {
      const { AthosRoleplay } = await import('/sdk/index.js');
      const s = AthosRoleplay.create({ token: 'unused', voice: true });
      const reason = await s._prepareAudio();
      const frame = () => new Int16Array(8000).fill(3000).buffer; // 0.5 s of persona audio
      for (let i = 0; i < 10; i++) s._playAudio(frame());
      const queued = s._audio.playing.size;
      const ctx = s._audio.ctx;
      const playAt = s._audio.playAt - ctx.currentTime;
      await new Promise((res) => setTimeout(res, 1200)); // the mic is still silent (2 s lead-in)
      const duringSilence = { playing: s._audio.playing.size, bargeIns: s.voiceStats.bargeIns };
      const t0 = performance.now();
      while (s.voiceStats.bargeIns === 0 && performance.now() - t0 < 4000) await new Promise((res) => setTimeout(res, 20));
      const flushedAfter = (performance.now() - t0 + 1200) / 1000;
      const afterSpeech = { playing: s._audio.playing.size, bargeIns: s.voiceStats.bargeIns };
      await s.end();
      await new Promise((res) => setTimeout(res, 200));
      const released = s._audio === null && ctx.state !== 'running';
      return { released, reason, queued, playAt, duringSilence, afterSpeech, flushedAfter, received: s.voiceStats.receivedBytes };
    });
    assert.equal(out.reason, null);
    assert.equal(out.released, true, 'end() before connecting releases the mic and the AudioContext');
    assert.equal(out.queued, 10);
    assert.equal(out.received, 10 * 16000);
    assert.ok(Math.abs(out.playAt - 5) < 0.2, `10 frames queued back to back: ${out.playAt} s ahead`);
    assert.deepEqual(out.duringSilence, { playing: out.duringSilence.playing, bargeIns: 0 }, 'silence is not barge-in');
    assert.ok(out.duringSilence.playing > 0, 'still playing during silence');
    assert.deepEqual(out.afterSpeech, { playing: 0, bargeIns: 1 }, 'the rep talking flushed the queue');
    assert.ok(out.flushedAfter < 4.5, `flushed ${out.flushedAfter} s in, before the 5 s of audio ran out`);
  }));

  test('a spoken call on the Quickstart page: heard, say, persona audio, spoken; then the recording plays and seeks', withLogs(async (t) => {
    const refusal = await audioRefusal(server, tenant);
    if (refusal) return t.skip(`${refusal}: this build has no server voice yet`);
    const page = await fakeMicPage(1);
    if (!page) return t.skip(NO_TTS);
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    // The wire, as the page's WebSocket sees it.
    const wire = { sentBinary: 0, sentBytes: 0, start: null, received: [] };
    page.on('websocket', (ws) => {
      ws.on('framesent', ({ payload }) => {
        if (typeof payload === 'string') {
          const m = JSON.parse(payload);
          if (m.type === 'start') wire.start = m;
        } else {
          wire.sentBinary++;
          wire.sentBytes += payload.length;
        }
      });
      ws.on('framereceived', ({ payload }) => {
        wire.received.push(typeof payload === 'string' ? JSON.parse(payload) : { binary: payload.length });
      });
    });

    await page.goto(example.url);
    const support = await page.evaluate(async () => (await import('/sdk/index.js')).AthosRoleplay.supports());
    assert.deepEqual({ ...support, microphone: undefined },
      { secureContext: true, audioWorklet: true, microphone: undefined, voice: true, reason: null, webSpeech: false });
    assert.equal(support.microphone, 'granted');
    await page.waitForFunction(() => !document.querySelector('#voice').disabled, null, { timeout: 5000 }); // voice offered
    await page.check('#voice');
    await page.click('#start');
    await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('On the call with'), null, { timeout: 15_000 });
    assert.deepEqual(wire.start.audio, AUDIO, 'start negotiates 16 kHz pcm_s16le');
    assert.equal(await page.getAttribute('#mic', 'aria-pressed'), 'true');

    // The rep's line comes back as `heard` and shows as the rep's turn; the persona answers.
    const rep = page.locator('#transcript li.user');
    await rep.first().waitFor({ timeout: 45_000 });
    await page.waitForFunction(() => document.querySelectorAll('#transcript li.assistant').length >= 2, null, { timeout: 20_000 });
    // the opener is spoken too: wait for the `spoken` of the reply to the rep's line
    await h.eventually(() => {
      const heardIdx = wire.received.findIndex((m) => m.type === 'heard');
      assert.ok(heardIdx >= 0 && wire.received.slice(heardIdx).some((m) => m.type === 'spoken'), 'spoken');
    }, 30_000);

    const types = wire.received.map((m) => m.type || 'binary');
    const heardAt = types.indexOf('heard');
    assert.ok(heardAt > 0, `heard received (${types.join(' ')})`);
    const heard = wire.received[heardAt];
    assert.match(heard.text, KEY_WORDS, `heard "${heard.text}"`);
    assert.match(await rep.first().textContent(), new RegExp(heard.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const sayAt = types.indexOf('say', heardAt);
    const audioAt = types.indexOf('binary', sayAt);
    const spokenAt = types.indexOf('spoken', audioAt);
    assert.ok(sayAt > heardAt && audioAt > sayAt && spokenAt > audioAt, `order heard, say, audio, spoken: ${types.join(' ')}`);
    assert.equal(wire.received[spokenAt].turn, wire.received[sayAt].turn);
    const personaBytes = wire.received.slice(sayAt, spokenAt).reduce((n, m) => n + (m.binary || 0), 0);
    assert.ok(personaBytes > 16000, `persona audio: ${personaBytes} bytes`);
    assert.ok(wire.sentBinary > 0 && wire.sentBytes % 2 === 0, 'the mic went out as binary pcm_s16le frames');

    // Mute and unmute through the page's microphone button.
    await page.click('#mic');
    assert.equal(await page.getAttribute('#mic', 'aria-pressed'), 'false');
    await page.click('#mic');
    assert.equal(await page.getAttribute('#mic', 'aria-pressed'), 'true');

    await page.click('#hangup');
    await page.locator('#score').waitFor({ state: 'visible', timeout: 60_000 });
    await page.locator('#recording-box').waitFor({ state: 'visible', timeout: 5000 });
    const callId = wire.received.find((m) => m.type === 'ready').callId;
    const detail = await h.api(server, 'GET', `/calls/${callId}`, { apiKey: tenant.apiKey });
    assert.equal(detail.status, 200);
    const call = detail.body;
    assert.match(call.audioUrl, new RegExp(`/calls/${callId}/recording$`));
    const said = detail.body.transcript.filter((x) => x.role === 'user').map((x) => x.content);
    assert.ok(said.includes(heard.text), `the transcript keeps what was heard: ${JSON.stringify(said)}`);

    // The page's <audio> loads the recording, plays, and seeks (Range through the proxy).
    const played = await page.evaluate(async () => {
      const a = document.querySelector('#recording');
      if (a.readyState < 1) await new Promise((res, rej) => { a.onloadedmetadata = res; a.onerror = () => rej(new Error(`audio error ${a.error && a.error.code}`)); });
      const duration = a.duration;
      await a.play();
      const t0 = performance.now();
      while (a.currentTime < 0.3 && performance.now() - t0 < 5000) await new Promise((res) => setTimeout(res, 50));
      const playedTo = a.currentTime;
      a.currentTime = duration / 2;
      await new Promise((res) => { a.onseeked = res; });
      const seekedTo = a.currentTime;
      a.pause();
      return { duration, playedTo, seekedTo, src: a.currentSrc };
    });
    assert.ok(played.duration > 2, `recording lasts ${played.duration} s`);
    assert.ok(played.playedTo >= 0.3, `played to ${played.playedTo} s`);
    assert.ok(Math.abs(played.seekedTo - played.duration / 2) < 0.5, `seeked to ${played.seekedTo} of ${played.duration}`);
    assert.match(played.src, new RegExp(`/calls/${call.id}/recording$`));

    // The proxy passes Range through, byte for byte what Athos serves.
    const part = await fetch(`${example.url}/calls/${call.id}/recording`, { headers: { Range: 'bytes=0-11' } });
    assert.equal(part.status, 206);
    assert.match(part.headers.get('content-range'), /^bytes 0-11\/\d+$/);
    assert.equal(Buffer.from(await part.arrayBuffer()).toString('latin1', 0, 4), 'RIFF');
    const full = await fetch(`${example.url}/calls/${call.id}/recording`);
    assert.equal(full.status, 200);
    assert.match(full.headers.get('content-type'), /^audio\//);
    const direct = await fetch(call.audioUrl, { headers: { Authorization: `Bearer ${tenant.apiKey}` } });
    assert.deepEqual(Buffer.from(await full.arrayBuffer()), Buffer.from(await direct.arrayBuffer()));
    assert.equal((await fetch(`${example.url}/calls/athos_call_unknown/recording`)).status, 404, 'only calls it saw scored');
    assert.deepEqual(pageErrors, [], 'no errors in the page console');
  }));
});
