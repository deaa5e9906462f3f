'use strict';
// Voice call recordings as Ogg Opus (ATHOS_RECORDING_FORMAT=ogg, issue 10;
// docs/internals/voice.md "Ogg Opus"): a spoken call's recording is
// <callId>.ogg, served as audio/ogg with Range on its raw bytes, for the
// owner only; opusinfo (opus-tools) finds nothing against RFC 7845 in it
// and opusdec decodes both sides of the call at the length stored with
// it. A server killed mid-call leaves a file that decodes up to its last
// page. `athos-voice ogg` converts a WAV recording. A bad format value is
// a startup error.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const h = require('./harness');
const { stopClean } = require('./abuse_live_kit');
const {
  RATE, VOICE_BIN, speech, silence, stream, startVoiceCall, checkRecordingAccess,
} = require('./voice_kit');

const OUT_RATE = 48000; // what Opus decodes to
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'athos-ogg-test-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/* Decodes an Ogg Opus file with opusdec: {frames, left, right} (48 kHz
 * stereo frames; each channel's largest |sample|). Throws if it does not
 * decode. */
function decode(file) {
  const out = `${file}.wav`;
  execFileSync('opusdec', ['--quiet', '--force-stereo', '--rate', String(OUT_RATE), file, out],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  const wav = fs.readFileSync(out);
  assert.equal(wav.toString('latin1', 0, 4), 'RIFF');
  assert.equal(wav.readUInt16LE(22), 2);
  assert.equal(wav.readUInt32LE(24), OUT_RATE);
  for (let off = 12; off + 8 <= wav.length;) {
    const id = wav.toString('latin1', off, off + 4);
    const size = wav.readUInt32LE(off + 4);
    if (id === 'data') {
      const end = Math.min(wav.length, off + 8 + size);
      let left = 0; let right = 0;
      for (let p = off + 8; p + 4 <= end; p += 4) {
        left = Math.max(left, Math.abs(wav.readInt16LE(p)));
        right = Math.max(right, Math.abs(wav.readInt16LE(p + 2)));
      }
      return { frames: (end - off - 8) / 4, left, right };
    }
    off += 8 + size + (size & 1);
  }
  throw new Error('opusdec wrote no data chunk');
}

/* opusinfo's report on a file: it must find one Opus stream and nothing
 * against the spec (granule positions, pages, headers). */
function checkOpusinfo(file) {
  const r = spawnSync('opusinfo', [file], { encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  assert.equal(r.status, 0, out);
  assert.match(out, /Channels: 2/);
  assert.match(out, /Original sample rate: 16000 Hz/);
  assert.doesNotMatch(out, /WARNING|ERROR/i);
  return out;
}

function recordingRow(server, callId) {
  const [file, ms] = h.sqlite(server.dbPath,
    `SELECT r.path || '|' || COALESCE(r.duration_ms, -1) FROM call_recordings r JOIN calls c ON c.id = r.call_id ` +
    `WHERE c.public_id = '${callId}';`).trim().split('|');
  return { file, durationMs: Number(ms) };
}

describe('Ogg Opus recordings', () => {
  let server;
  let tenant;
  let line;

  before(async () => {
    line = speech('Hi, my name is John. I am calling about your Medicare Advantage plan.');
    server = await h.startServer({ env: { ATHOS_RECORDING_FORMAT: 'ogg', ATHOS_VOICE_WORKERS: '2', ATHOS_IDLE_SEC: '60' } });
    tenant = await h.createTenant(server);
  });
  after(async () => {
    await stopClean(server);
  });

  test('a spoken call: audio/ogg, Range, tenant-scoped, decodes to both sides at its length', async (t) => {
    const s = await startVoiceCall(server, tenant);
    await s.c.until('spoken', 20000); // the opener, on the right
    await stream(s.c, Buffer.concat([line, silence(1500)])); // the rep, on the left
    const heard = (await s.c.until('heard', 15000)).m;
    assert.match(heard.text, /medicare/i);
    await s.c.until('spoken', 30000);
    s.c.send({ type: 'end' });
    await s.c.until('ended');
    const id = s.call.callId;
    let detail;
    await h.eventually(async () => {
      detail = await h.api(server, 'GET', `/calls/${id}`, { apiKey: tenant.apiKey });
      assert.equal(detail.status, 200, detail.text);
    }, 20000);
    const d = detail.body;
    assert.equal(d.audioUrl, `${server.url}/api/external/v1/calls/${id}/recording`);

    const row = recordingRow(server, id);
    assert.equal(path.basename(row.file), `${id}.ogg`);
    assert.ok(row.durationMs > 3000, JSON.stringify(row));

    const auth = { Authorization: `Bearer ${tenant.apiKey}` };
    const whole = await fetch(d.audioUrl, { headers: auth });
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'audio/ogg');
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    const ogg = Buffer.from(await whole.arrayBuffer());
    assert.equal(Number(whole.headers.get('content-length')), ogg.length);
    assert.deepEqual(ogg, fs.readFileSync(row.file), 'the raw file, byte for byte');
    assert.equal(ogg.toString('latin1', 0, 4), 'OggS');
    assert.equal(ogg.toString('latin1', 28, 36), 'OpusHead');
    assert.equal(ogg[37], 2, 'two channels: rep and persona');
    assert.equal(ogg.readUInt32LE(40), RATE, 'the input rate');

    const file = path.join(tmp, `${id}.ogg`);
    fs.writeFileSync(file, ogg);
    checkOpusinfo(file);
    const dec = decode(file);
    const seconds = dec.frames / OUT_RATE;
    // the length stored with the call is the decoded length (the last
    // page's granule trims the padding), and the waveform's
    assert.ok(Math.abs(seconds * 1000 - row.durationMs) <= 1, `${seconds} s vs ${row.durationMs} ms stored`);
    assert.ok(Math.abs(seconds * 10 - d.waveform.peaks.length) <= 2, `${seconds} s vs ${d.waveform.peaks.length} peaks`);
    assert.ok(dec.left > 1000 && dec.right > 1000, `peaks ${dec.left} ${dec.right}`);
    const wavBytes = 44 + (row.durationMs / 1000) * RATE * 4;
    t.diagnostic(`${seconds.toFixed(2)} s: ${ogg.length} bytes as Ogg Opus (${Math.round(ogg.length * 60 / seconds)} a minute), ` +
      `${Math.round(wavBytes)} as WAV (${(wavBytes / ogg.length).toFixed(1)}x)`);
    assert.ok(ogg.length * 8 < wavBytes, 'far smaller than the WAV');

    // the last page, as a player's seek to the end asks for it
    const tail = await fetch(d.audioUrl, { headers: { ...auth, Range: 'bytes=-500' } });
    assert.equal(tail.status, 206);
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), ogg.subarray(ogg.length - 500));
    await checkRecordingAccess(server, tenant, id, d.audioUrl, ogg, 'audio/ogg');
  });

  test('a server killed mid-call leaves a recording that decodes up to its last page', async () => {
    const s = await startVoiceCall(server, tenant);
    await s.c.until('spoken', 20000);
    await stream(s.c, Buffer.concat([line, silence(1500)]));
    await s.c.until('heard', 15000);
    await h.sleep(2500); // past the recorder's 1 s lag and a 1 s page
    const { file } = recordingRow(server, s.call.callId);
    await server.kill9();
    const copy = path.join(tmp, 'killed.ogg');
    fs.copyFileSync(file, copy);
    await server.restart();
    const dec = decode(copy);
    const seconds = dec.frames / OUT_RATE;
    assert.ok(seconds > 3, `${seconds} s decoded`);
    assert.ok(dec.left > 1000 && dec.right > 1000, `peaks ${dec.left} ${dec.right}`);
  });
});

describe('athos-voice ogg', () => {
  test('converts a WAV recording: the same length to the sample, each side on its channel', () => {
    const pcm = speech('Thank you for calling. How can I help you today?');
    const n = pcm.length / 2;
    const wav = Buffer.alloc(44 + n * 4);
    wav.write('RIFF', 0, 'latin1');
    wav.writeUInt32LE(36 + n * 4, 4);
    wav.write('WAVEfmt ', 8, 'latin1');
    wav.writeUInt32LE(16, 16);
    wav.writeUInt16LE(1, 20);
    wav.writeUInt16LE(2, 22);
    wav.writeUInt32LE(RATE, 24);
    wav.writeUInt32LE(RATE * 4, 28);
    wav.writeUInt16LE(4, 32);
    wav.writeUInt16LE(16, 34);
    wav.write('data', 36, 'latin1');
    wav.writeUInt32LE(n * 4, 40);
    for (let i = 0; i < n; i++) wav.writeInt16LE(pcm.readInt16LE(i * 2), 44 + i * 4); // left only
    const inFile = path.join(tmp, 'line.wav');
    const outFile = path.join(tmp, 'line.ogg');
    fs.writeFileSync(inFile, wav);
    const report = execFileSync(VOICE_BIN, ['ogg', inFile, outFile], { encoding: 'utf8' });
    assert.match(report, /smaller.*ms CPU per second of audio/);
    checkOpusinfo(outFile);
    const dec = decode(outFile);
    assert.equal(dec.frames, n * (OUT_RATE / RATE));
    assert.ok(dec.left > 1000 && dec.right < 500, `peaks ${dec.left} ${dec.right}`);
    assert.ok(fs.statSync(outFile).size * 10 < wav.length);
  });
});

describe('ATHOS_RECORDING_FORMAT', () => {
  test('a value other than wav or ogg is a startup error', () => {
    let err;
    try {
      execFileSync(h.ATHOS_BIN, ['serve'], {
        env: { ...process.env, ATHOS_RECORDING_FORMAT: 'mp3', ATHOS_DATABASE_URL: `sqlite:${path.join(tmp, 'x.db')}` },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 10000,
      });
    } catch (e) {
      err = e;
    }
    assert.ok(err, 'the server must not start');
    assert.notEqual(err.status, 0);
    assert.match(String(err.stderr), /ATHOS_RECORDING_FORMAT must be one of: wav ogg/);
  });
});
