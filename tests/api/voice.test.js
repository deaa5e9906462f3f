'use strict';
// Voice calls over the live protocol (issue 10, DESIGN.md "Live protocol"):
// a `ws` client negotiates 16 kHz pcm_s16le in start and streams real
// speech (synthesised at test time by build/athos-voice, Flite) paced in
// real time; the server recognises it (heard), answers (say), speaks
// (binary frames) and says so (spoken). Also: barge-in, the limits
// (binary before start or without audio -> 1003, faster than x2 real time
// -> error frame, a bad audio object), kill -9 keeping every
// acknowledged turn, and a speech provider slower than real time
// (`athos-voice serve --stall-ms` / `--realtime`: the call stays up, its
// audio paced to the client's playback).
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const h = require('./harness');
const { stopClean } = require('./abuse_live_kit');

const {
  RATE, FRAME_BYTES, AUDIO, speech, silence, connect, stream, newCall, startVoiceCall,
  startVoiceServe, maxAhead, checkRecordingAccess,
} = require('./voice_kit');

/* GET /calls/{id} once the call is scored. */
async function scoredDetail(server, tenant, id) {
  let detail;
  await h.eventually(async () => {
    detail = await h.api(server, 'GET', `/calls/${id}`, { apiKey: tenant.apiKey });
    assert.equal(detail.status, 200, detail.text);
  }, 20000);
  return detail;
}

function turns(server, callPublicId) {
  const out = h.sqlite(server.dbPath,
    `SELECT t.idx || '|' || t.role || '|' || t.content FROM call_turns t JOIN calls c ON c.id = t.call_id ` +
    `WHERE c.public_id = '${callPublicId}' ORDER BY t.idx;`);
  return out.split('\n').filter(Boolean).map((l) => {
    const [idx, role, ...rest] = l.split('|');
    return { idx: Number(idx), role, content: rest.join('|') };
  });
}

describe('voice calls', () => {
  let server;
  let tenant;
  let line;
  let spokenCall;

  before(async () => {
    line = speech('Hi, my name is John. I am calling about your Medicare Advantage plan.');
    server = await h.startServer({ env: { ATHOS_VOICE_WORKERS: '2', ATHOS_IDLE_SEC: '60' } });
    tenant = await h.createTenant(server);
  });
  after(async () => {
    await stopClean(server);
  });

  test('a spoken turn: heard, say, persona audio, spoken', async () => {
    const s = await startVoiceCall(server, tenant);
    // the opener is spoken first
    const sp0 = (await s.c.until('spoken', 20000)).m;
    assert.equal(sp0.turn, 0);
    assert.ok(sp0.audioBefore > RATE, `opener audio ${sp0.audioBefore} bytes`);
    const before = s.c.audioBytes;
    await stream(s.c, Buffer.concat([line, silence(1500)]));
    const { m: heard, seen } = await s.c.until('heard', 15000);
    assert.deepEqual(seen, []);
    assert.equal(heard.turn, 1);
    assert.match(heard.text, /medicare/i);
    assert.match(heard.text, /advantage/i);
    const say = await s.c.next(5000);
    assert.equal(say.type, 'say', JSON.stringify(say));
    assert.equal(say.turn, 2);
    const spoken = await s.c.next(30000);
    assert.equal(spoken.type, 'spoken', JSON.stringify(spoken));
    assert.equal(spoken.turn, 2);
    const audio = s.c.audioBytes - before;
    assert.ok(audio > RATE / 2, `persona audio ${audio} bytes`);
    assert.equal(audio % 2, 0);
    // the committed transcript is the heard text
    const t = turns(server, s.call.callId);
    assert.equal(t[1].role, 'user');
    assert.equal(t[1].content, heard.text);
    assert.equal(t[2].content, say.text);
    s.c.send({ type: 'end' });
    assert.equal((await s.c.until('ended')).m.reason, 'rep_hangup');
    spokenCall = { call: s.call, heard, openerBytes: sp0.audioBefore, replyBytes: audio };
  });

  test('the scored call has its recording: audioUrl, waveform, startMs/endMs; Range; tenant-scoped', async () => {
    assert.ok(spokenCall, 'needs the spoken call above');
    const id = spokenCall.call.callId;
    const detail = await scoredDetail(server, tenant, id);
    const d = detail.body;
    assert.equal(d.audioUrl, `${server.url}/api/external/v1/calls/${id}/recording`);
    assert.equal(d.audioUrlExpiresAt, null);
    assert.equal(d.waveform.peaksPerSecond, 10);
    assert.ok(Array.isArray(d.waveform.peaks) && d.waveform.peaks.length > 30, JSON.stringify(d.waveform).slice(0, 200));
    assert.ok(d.waveform.peaks.every((p) => Number.isInteger(p) && p >= 0 && p <= 255));
    assert.ok(d.waveform.peaks.some((p) => p > 20), 'the waveform has speech in it');
    const rep = d.transcript[spokenCall.heard.turn];
    assert.equal(rep.content, spokenCall.heard.text);
    assert.ok(Number.isInteger(rep.startMs) && Number.isInteger(rep.endMs), JSON.stringify(rep));
    assert.ok(rep.endMs - rep.startMs > 2000 && rep.endMs - rep.startMs < 8000, JSON.stringify(rep));
    // persona turns: where their audio played, on the same clock
    const opener = d.transcript[0];
    const reply = d.transcript[spokenCall.heard.turn + 1];
    for (const [t, bytes] of [[opener, spokenCall.openerBytes], [reply, spokenCall.replyBytes]]) {
      assert.equal(t.role, 'assistant');
      assert.ok(Number.isInteger(t.startMs) && Number.isInteger(t.endMs), JSON.stringify(t));
      const ms = (bytes / 2 / RATE) * 1000;
      assert.ok(Math.abs(t.endMs - t.startMs - ms) < 50, `${JSON.stringify(t)} vs ${ms} ms of audio`);
    }
    assert.ok(opener.startMs >= 0 && opener.endMs <= rep.startMs, `${JSON.stringify(opener)} ${JSON.stringify(rep)}`);
    assert.ok(reply.startMs >= rep.endMs, `${JSON.stringify(reply)} ${JSON.stringify(rep)}`);

    const whole = await fetch(d.audioUrl, { headers: { Authorization: `Bearer ${tenant.apiKey}` } });
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'audio/wav');
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    const wav = Buffer.from(await whole.arrayBuffer());
    assert.equal(Number(whole.headers.get('content-length')), wav.length);
    assert.equal(wav.toString('latin1', 0, 4), 'RIFF');
    assert.equal(wav.readUInt16LE(22), 2, 'two channels: rep and persona');
    assert.equal(wav.readUInt32LE(24), RATE);
    const seconds = (wav.length - 44) / 4 / RATE;
    assert.ok(Math.abs(seconds * 10 - d.waveform.peaks.length) <= 2, `${seconds}s vs ${d.waveform.peaks.length} peaks`);
    // both sides are in it: rep (left) and persona (right) samples
    let left = 0; let right = 0;
    for (let off = 44; off + 4 <= wav.length; off += 4) {
      left = Math.max(left, Math.abs(wav.readInt16LE(off)));
      right = Math.max(right, Math.abs(wav.readInt16LE(off + 2)));
    }
    assert.ok(left > 1000 && right > 1000, `peaks ${left} ${right}`);

    await checkRecordingAccess(server, tenant, id, d.audioUrl, wav, 'audio/wav');
    spokenCall.audioUrl = d.audioUrl;
  });

  test('retention deletes old recordings: logged, audioUrl null, 404', async () => {
    assert.ok(spokenCall && spokenCall.audioUrl, 'needs the recording above');
    const id = spokenCall.call.callId;
    const file = h.sqlite(server.dbPath,
      `SELECT r.path FROM call_recordings r JOIN calls c ON c.id = r.call_id WHERE c.public_id = '${id}';`).trim();
    assert.ok(fs.existsSync(file), file);
    h.sqlite(server.dbPath, 'UPDATE call_recordings SET created_at = created_at - 3 * 86400000;');
    await server.restart({ env: { ...server.env, ATHOS_RECORDING_RETENTION_DAYS: '2' } });
    await h.eventually(async () => {
      const d = await h.api(server, 'GET', `/calls/${id}`, { apiKey: tenant.apiKey });
      assert.equal(d.status, 200);
      assert.equal(d.body.audioUrl, null);
      assert.equal(d.body.waveform, null);
    }, 5000);
    assert.equal(fs.existsSync(file), false);
    assert.match(server.logs(), /deleted the recording/);
    const r = await h.api(server, 'GET', `/calls/${id}/recording`, { apiKey: tenant.apiKey });
    assert.equal(r.status, 404);
  });

  test('a text call has no recording', async () => {
    const call = await newCall(server, tenant);
    const c = connect(call.connectionUrl);
    await c.opened;
    c.send({ type: 'start', ticket: call.connectionTicket });
    await c.until('say');
    c.send({ type: 'end' });
    await c.until('ended');
    const detail = await scoredDetail(server, tenant, call.callId);
    assert.equal(detail.body.audioUrl, null);
    assert.equal(detail.body.waveform, null);
    const r = await h.api(server, 'GET', `/calls/${call.callId}/recording`, { apiKey: tenant.apiKey });
    assert.equal(r.status, 404);
  });

  test('persona audio is paced to real time', async () => {
    const s = await startVoiceCall(server, tenant);
    const t0 = Date.now();
    const sp = (await s.c.until('spoken', 20000)).m;
    const seconds = sp.audioBefore / 2 / RATE;
    const took = (Date.now() - t0) / 1000;
    assert.ok(seconds > 1, `opener ${seconds}s`);
    // sent at most LIVE_VOICE_AHEAD_MS (1 s) ahead of real time, and
    // spoken only once it has played out
    const last = s.c.audio[s.c.audio.length - 1].at;
    assert.ok((last - t0) / 1000 >= seconds - 1.3, `${seconds}s of audio sent in ${(last - t0) / 1000}s`);
    assert.ok(took >= seconds - 0.3, `${seconds}s of audio, spoken after ${took}s`);
    s.c.send({ type: 'end' });
    await s.c.until('ended');
  });

  test('barge-in stops the persona audio and the transcript keeps what was played', async () => {
    const s = await startVoiceCall(server, tenant);
    const long = s.opener.text;
    await h.sleep(300);
    // the rep talks over the opener
    const streaming = stream(s.c, Buffer.concat([line, silence(1500)]));
    const { m: spoken } = await s.c.until('spoken', 10000);
    assert.equal(spoken.turn, 0);
    const full = s.c.audioBytes;
    await streaming;
    const heard = (await s.c.until('heard', 15000)).m;
    assert.equal(heard.turn, 1);
    const t = turns(server, s.call.callId);
    // the opener is 2+ s of speech; stopped within about 1.5 s, so cut
    assert.ok(full < 4 * RATE * 2, `sent ${full} bytes of opener`);
    assert.notEqual(t[0].content, long);
    assert.ok(long.startsWith(t[0].content.replace(/—$/, '')), `${t[0].content} / ${long}`);
    s.c.send({ type: 'end' });
    await s.c.until('ended');
  });

  test('a binary frame before start closes with 1003', async () => {
    const call = await newCall(server, tenant);
    const c = connect(call.connectionUrl);
    await c.opened;
    c.send(silence(20));
    const err = await c.next();
    assert.equal(err.type, 'error');
    assert.equal((await c.closed()).code, 1003);
  });

  test('a binary frame in a call without audio closes with 1003', async () => {
    const call = await newCall(server, tenant);
    const c = connect(call.connectionUrl);
    await c.opened;
    c.send({ type: 'start', ticket: call.connectionTicket });
    assert.equal((await c.next()).type, 'ready');
    assert.equal((await c.next()).type, 'say');
    c.send(silence(20));
    const err = await c.next();
    assert.equal(err.type, 'error');
    assert.equal(err.code, 'INVALID_REQUEST');
    assert.equal((await c.closed()).code, 1003);
    assert.equal(c.audioBytes, 0, 'a text call gets no audio');
  });

  test('an unsupported audio format is refused, the ticket stays unspent', async () => {
    const call = await newCall(server, tenant);
    for (const audio of [{ encoding: 'opus', sampleRate: RATE }, { encoding: 'pcm_s16le', sampleRate: 8000 }, 'pcm']) {
      const c = connect(call.connectionUrl);
      await c.opened;
      c.send({ type: 'start', ticket: call.connectionTicket, audio });
      const err = await c.next();
      assert.equal(err.type, 'error');
      assert.equal(err.code, 'INVALID_REQUEST');
      await c.closed();
    }
    const c = connect(call.connectionUrl);
    await c.opened;
    c.send({ type: 'start', ticket: call.connectionTicket, audio: AUDIO });
    assert.equal((await c.next(15000)).type, 'ready');
    c.send({ type: 'end' });
    await c.until('ended');
  });

  test('audio faster than twice real time gets an error frame', async () => {
    const s = await startVoiceCall(server, tenant);
    await stream(s.c, silence(6000), 8);
    const { m } = await s.c.until('error', 5000);
    assert.equal(m.code, 'RATE_LIMITED');
    // the call goes on
    s.c.send({ type: 'say', text: 'Hello, is this a good time?' });
    assert.equal((await s.c.until('say')).m.turn, 2);
    s.c.send({ type: 'end' });
    await s.c.until('ended');
  });

  test('a text say still works in a voice call', async () => {
    const s = await startVoiceCall(server, tenant);
    s.c.send({ type: 'say', text: 'Hi, this is John with a question about your plan.' });
    const say = (await s.c.until('say')).m;
    assert.equal(say.turn, 2);
    s.c.send({ type: 'end' });
    await s.c.until('ended');
  });

  test('kill -9 keeps every acknowledged turn', async () => {
    const s = await startVoiceCall(server, tenant);
    await stream(s.c, Buffer.concat([line, silence(1500)]));
    const heard = (await s.c.until('heard', 15000)).m;
    const say = (await s.c.until('say')).m;
    await server.kill9();
    await server.restart();
    const t = turns(server, s.call.callId);
    assert.equal(t[heard.turn].content, heard.text);
    assert.equal(t[say.turn].content, say.text);
  });
});

describe('a recording that cannot be written', () => {
  let server;
  let tenant;
  before(async () => {
    server = await h.startServer({ env: { ATHOS_MEDIA_DIR: '/dev/null/media', ATHOS_VOICE_WORKERS: '1' } });
    tenant = await h.createTenant(server);
  });
  after(async () => { await stopClean(server); });

  test('never costs the call or its transcript', async () => {
    const s = await startVoiceCall(server, tenant);
    s.c.send({ type: 'say', text: 'Hi, this is John calling about your Medicare plan.' });
    const say = (await s.c.until('say')).m;
    assert.equal(say.turn, 2);
    s.c.send({ type: 'end' });
    await s.c.until('ended');
    const detail = await scoredDetail(server, tenant, s.call.callId);
    assert.equal(detail.body.audioUrl, null);
    assert.equal(detail.body.transcript.length, 3);
    assert.equal(detail.body.transcript[2].content, say.text);
    assert.match(server.logs(), /cannot record into/);
  });
});

/* The persona's speech from an HTTP provider slower than real time
 * (ATHOS_TTS_URL at an `athos-voice serve` with its test knobs). The
 * server must pace what it sends to the client's playback (at most 1 s
 * ahead), never pay a stall back in one burst: before commit 5c776ac a
 * 1.5 s stall queued ~2.4 s (77 kB) of audio at once and the call was
 * closed ("client is not reading"). */
describe('a speech provider slower than real time', () => {
  let server;
  let tenant;
  let tts;

  /* Speaks the opener and one reply; checks each line's say, audio and
   * spoken, and how far its audio ran ahead of the client's playback.
   * The persona is Linda Tran (the only Beginner in NC): her answer about
   * her medications is ~6 s long, so a stall's burst would pass the 64 kB
   * cap (the opener may be a short one). */
  async function twoLines(t, question, minReply) {
    const s = await startVoiceCall(server, tenant, { drillKey: 'ma-full-sale', difficulty: 'Beginner', filters: { state: 'NC' } });
    t.diagnostic(`opener: ${s.opener.text}`);
    const lines = [];
    const sp0 = (await s.c.until('spoken', 30000)).m;
    assert.equal(sp0.turn, 0);
    lines.push(s.c.audio.slice(0, sp0.framesBefore));
    s.c.send({ type: 'say', text: question });
    const say = (await s.c.until('say', 10000)).m;
    t.diagnostic(`reply: ${say.text}`);
    assert.equal(say.turn, 2);
    const sp2 = (await s.c.until('spoken', 30000)).m;
    assert.equal(sp2.turn, 2);
    lines.push(s.c.audio.slice(say.framesBefore, sp2.framesBefore));
    for (const [i, frames] of lines.entries()) {
      const bytes = frames.reduce((n, f) => n + f.bytes, 0);
      const ahead = maxAhead(frames);
      const took = (frames[frames.length - 1].at - frames[0].at) / 1000;
      t.diagnostic(`line ${i}: ${bytes / 2 / RATE} s of audio in ${frames.length} frames over ${took} s, at most ${ahead} s ahead`);
      assert.ok(bytes > RATE, `line ${i}: ${bytes} bytes of audio`);
      assert.ok(ahead <= 1.3, `line ${i}: ${ahead} s of audio ahead of the client's playback`);
    }
    const reply = lines[1].reduce((n, f) => n + f.bytes, 0) / 2 / RATE;
    assert.ok(reply > minReply, `the reply is ${reply} s, expected over ${minReply} s`);
    assert.equal(s.c.closeInfo, null);
    s.c.send({ type: 'end' });
    assert.equal((await s.c.until('ended')).m.reason, 'rep_hangup');
    assert.doesNotMatch(server.logs(), /not reading|speech synthesis failed/);
    return lines;
  }

  before(async () => {
    tts = await startVoiceServe(['--stall-ms', '1500']);
    server = await h.startServer({ env: { ATHOS_VOICE_WORKERS: '2', ATHOS_TTS_URL: tts.url } });
    tenant = await h.createTenant(server);
  });
  after(async () => {
    await stopClean(server);
    assert.equal((await tts.stop()).code, 0);
  });

  test('a 1.5 s stall after the first chunk: the call stays up, gets say, audio and spoken, never over 1.3 s ahead', async (t) => {
    const lines = await twoLines(t, 'Which medications do you take?', 3);
    for (const frames of lines) {
      // the stall is a gap in what the client gets
      let gap = 0;
      for (let i = 1; i < frames.length; i++) gap = Math.max(gap, frames[i].at - frames[i - 1].at);
      assert.ok(gap >= 1000, `largest gap between frames ${gap} ms`);
    }
  });

  test('synthesis at half real time: paced, spoken once played', async (t) => {
    await stopClean(server);
    assert.equal((await tts.stop()).code, 0);
    tts = await startVoiceServe(['--realtime', '0.5']);
    await server.restart({ env: { ...server.env, ATHOS_TTS_URL: tts.url } });
    const lines = await twoLines(t, 'Hi, this is John with a question about your plan.', 0.3);
    for (const frames of lines) {
      const seconds = frames.reduce((n, f) => n + f.bytes, 0) / 2 / RATE;
      const took = (frames[frames.length - 1].at - frames[0].at) / 1000;
      // made at half speed: it arrives over about twice its length
      assert.ok(took >= 1.5 * seconds - 0.5, `${seconds} s of audio over ${took} s`);
    }
  });
});
