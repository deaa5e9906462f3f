'use strict';
// voice_kit.js — the client side of a voice call (issue 10, DESIGN.md "Live
// protocol"), shared by tests/api/voice*.test.js and bench/voice_load.js:
// real speech synthesised by build/athos-voice (Flite) as 16 kHz PCM, a ws
// connection that keeps text messages and binary frames apart, streaming
// paced in real time, starting a voice call up to the opener's say, an
// `athos-voice serve` speech provider (with its test knobs: a slow or
// failing one), the recording endpoint's Range and access answers, and how far a line's audio ran ahead of the client's
// playback.
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');
const h = require('./harness');

const RATE = 16000;
const FRAME_MS = 20;
const FRAME_BYTES = (RATE / 1000) * FRAME_MS * 2;
const AUDIO = { encoding: 'pcm_s16le', sampleRate: RATE };
// beside athos, or ATHOS_VOICE_BIN (to run an older athos against today's tools)
const VOICE_BIN = process.env.ATHOS_VOICE_BIN || path.join(path.dirname(h.ATHOS_BIN), 'athos-voice');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'athos-voice-test-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/* 16 kHz mono PCM of text, spoken by Flite (the WAV's data chunk). */
function speech(text) {
  const file = path.join(tmp, `${Buffer.from(text).toString('hex').slice(0, 40)}.wav`);
  execFileSync(VOICE_BIN, ['say', text, file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const wav = fs.readFileSync(file);
  assert.equal(wav.toString('latin1', 0, 4), 'RIFF');
  assert.equal(wav.readUInt16LE(22), 1, 'mono');
  assert.equal(wav.readUInt32LE(24), RATE);
  for (let off = 12; off + 8 <= wav.length;) {
    const id = wav.toString('latin1', off, off + 4);
    const size = wav.readUInt32LE(off + 4);
    if (id === 'data') return wav.subarray(off + 8, Math.min(wav.length, off + 8 + size));
    off += 8 + size + (size & 1);
  }
  throw new Error('no data chunk');
}

function silence(ms) { return Buffer.alloc((RATE / 1000) * ms * 2); }

/* A ws connection that keeps text messages (parsed) and binary frames
 * apart, with awaitable text messages and close. */
function connect(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const c = { ws, queue: [], waiters: [], audio: [], audioBytes: 0, closeInfo: null, closeWaiters: [] };
  c.opened = new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  c.send = (obj) => ws.send(Buffer.isBuffer(obj) ? obj : JSON.stringify(obj));
  c.next = (ms = 5000) => {
    if (c.queue.length) return Promise.resolve(c.queue.shift());
    if (c.closeInfo) return Promise.reject(new Error(`closed ${c.closeInfo.code} before a message`));
    return new Promise((resolve, reject) => {
      const w = { resolve: (m) => { clearTimeout(w.t); resolve(m); }, reject: (e) => { clearTimeout(w.t); reject(e); } };
      w.t = setTimeout(() => { c.waiters.splice(c.waiters.indexOf(w), 1); reject(new Error(`no message within ${ms} ms`)); }, ms);
      c.waiters.push(w);
    });
  };
  /* The next message of that type, keeping the others in order. */
  c.until = async (type, ms = 10000) => {
    const seen = [];
    const end = Date.now() + ms;
    for (;;) {
      const m = await c.next(Math.max(1, end - Date.now()));
      if (m.type === type) return { m, seen };
      seen.push(m);
    }
  };
  c.closed = (ms = 5000) => {
    if (c.closeInfo) return Promise.resolve(c.closeInfo);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`not closed within ${ms} ms`)), ms);
      c.closeWaiters.push((ci) => { clearTimeout(t); resolve(ci); });
    });
  };
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      c.audio.push({ at: Date.now(), bytes: data.length });
      c.audioBytes += data.length;
      return;
    }
    const m = JSON.parse(data.toString('utf8'));
    m.audioBefore = c.audioBytes;
    m.framesBefore = c.audio.length;
    if (c.waiters.length) c.waiters.shift().resolve(m);
    else c.queue.push(m);
  });
  ws.on('error', () => {});
  ws.on('close', (code) => {
    c.closeInfo = { code };
    while (c.waiters.length) c.waiters.shift().reject(new Error(`closed ${code} before a message`));
    for (const f of c.closeWaiters) f(c.closeInfo);
  });
  return c;
}

/* Streams pcm in FRAME_MS frames at real time (speed 1) or faster. */
async function stream(c, pcm, speed = 1) {
  const t0 = Date.now();
  for (let off = 0, i = 0; off < pcm.length; off += FRAME_BYTES, i++) {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    c.send(pcm.subarray(off, Math.min(pcm.length, off + FRAME_BYTES)));
    const due = t0 + ((i + 1) * FRAME_MS) / speed;
    const wait = due - Date.now();
    if (wait > 0) await h.sleep(wait);
  }
}

async function newCall(server, tenant, redeem = { drillKey: 'ma-full-sale' }) {
  const { token } = await h.mintToken(server, tenant.apiKey, { externalUserId: 'rep_voice' });
  return h.redeem(server, token, redeem);
}

/* Redeems (with that body), connects, starts with audio: returns after
 * ready and the opener's say (turn 0). */
async function startVoiceCall(server, tenant, redeem) {
  const call = await newCall(server, tenant, redeem);
  const c = connect(call.connectionUrl);
  await c.opened;
  c.send({ type: 'start', ticket: call.connectionTicket, audio: AUDIO });
  const ready = await c.next(15000); // the first voice call loads the models
  assert.equal(ready.type, 'ready', JSON.stringify(ready));
  const opener = await c.next();
  assert.equal(opener.type, 'say');
  assert.equal(opener.turn, 0);
  return { call, c, opener };
}

/* The recording endpoint's answers around a 200 (shared by the WAV and
 * Ogg Opus tests): one Range is 206 with those bytes of `whole` (the file
 * as the 200 served it) and `type`, a range past the end 416, another
 * tenant's key 404 CALL_NOT_FOUND, no key 401. */
async function checkRecordingAccess(server, tenant, callId, audioUrl, whole, type) {
  const auth = { Authorization: `Bearer ${tenant.apiKey}` };
  const part = await fetch(audioUrl, { headers: { ...auth, Range: 'bytes=100-199' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-type'), type);
  assert.equal(part.headers.get('content-range'), `bytes 100-199/${whole.length}`);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), whole.subarray(100, 200));
  const past = await fetch(audioUrl, { headers: { ...auth, Range: `bytes=${whole.length}-` } });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get('content-range'), `bytes */${whole.length}`);
  const other = await h.createTenant(server);
  const r404 = await h.api(server, 'GET', `/calls/${callId}/recording`, { apiKey: other.apiKey });
  assert.equal(r404.status, 404);
  assert.equal(r404.body.error.code, 'CALL_NOT_FOUND');
  const r401 = await h.api(server, 'GET', `/calls/${callId}/recording`);
  assert.equal(r401.status, 401);
}

/* Starts `athos-voice serve` with args (e.g. ['--stall-ms', '1500']) on a
 * free port: {url, stop()} (stop resolves with its exit). Killed at exit. */
async function startVoiceServe(args = []) {
  const proc = spawn(VOICE_BIN, ['serve', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  process.on('exit', () => { try { proc.kill('SIGKILL'); } catch { /* gone */ } });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`athos-voice serve exited ${code}: ${stderr}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    logs: () => stderr,
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) { resolve({ code: proc.exitCode }); return; }
      proc.once('exit', (code, signal) => resolve({ code, signal }));
      proc.kill('SIGTERM');
    }),
  };
}

/* The most seconds of a line's audio (frames [{at, bytes}] in arrival
 * order) held unplayed at the client: audio plays as it arrives and
 * waits when it runs out (a gap, never a debt), measured as each frame
 * arrives, that frame included. */
function maxAhead(frames) {
  let playEnd = 0;
  let worst = 0;
  for (const f of frames) {
    playEnd = Math.max(playEnd, f.at) + (f.bytes / 2 / RATE) * 1000;
    worst = Math.max(worst, playEnd - f.at);
  }
  return worst / 1000;
}

module.exports = {
  RATE, FRAME_MS, FRAME_BYTES, AUDIO, VOICE_BIN, speech, silence, connect, stream, newCall, startVoiceCall,
  startVoiceServe, maxAhead, checkRecordingAccess,
};
