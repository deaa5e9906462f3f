'use strict';
// Unit tests of the browser SDK's pure audio code (sdk/pcm.js): the resampler,
// pcm_s16le packing/unpacking, the framer, and the AudioWorklet module text run
// under a fake AudioWorkletGlobalScope, i.e. exactly what the browser loads.
// No server and no browser needed.
const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

let pcm;
before(async () => {
  pcm = await import(pathToFileURL(path.join(__dirname, '..', '..', 'sdk', 'pcm.js')).href);
});

const sine = (freq, rate, n, amp = 0.5, phase0 = 0) =>
  Float32Array.from({ length: n }, (_, i) => amp * Math.sin(2 * Math.PI * freq * (i + phase0) / rate));

/* Dominant frequency by counting rising zero crossings. */
function crossingsPerSecond(x, rate) {
  let n = 0;
  for (let i = 1; i < x.length; i++) if (x[i - 1] < 0 && x[i] >= 0) n++;
  return n * rate / x.length;
}

test('48 kHz -> 16 kHz: one third of the samples, the tone keeps its pitch, block boundaries do not matter', () => {
  const input = sine(440, 48000, 48000);
  const whole = new pcm.Resampler(48000, 16000).push(input);
  assert.ok(Math.abs(whole.length - 16000) <= 1, `got ${whole.length} samples`);
  assert.ok(Math.abs(crossingsPerSecond(whole, 16000) - 440) <= 2);

  // The same signal in 128-sample render quanta gives the same output.
  const r = new pcm.Resampler(48000, 16000);
  const parts = [];
  for (let i = 0; i < input.length; i += 128) parts.push(...r.push(input.subarray(i, i + 128)));
  assert.equal(parts.length, whole.length);
  for (let i = 0; i < parts.length; i++) assert.ok(Math.abs(parts[i] - whole[i]) < 1e-6, `sample ${i}`);
});

test('44.1 kHz (a non-integer ratio) and 8 kHz (upsampling) come out at 16 kHz', () => {
  const a = new pcm.Resampler(44100, 16000);
  let n = 0;
  const out = [];
  for (let i = 0; i < 44100; i += 128) {
    const o = a.push(sine(300, 44100, Math.min(128, 44100 - i), 0.5, i));
    n += o.length;
    out.push(...o);
  }
  assert.ok(Math.abs(n - 16000) <= 2, `44.1k gave ${n}`);
  assert.ok(Math.abs(crossingsPerSecond(Float32Array.from(out), 16000) - 300) <= 2);

  const up = new pcm.Resampler(8000, 16000).push(sine(200, 8000, 8000));
  assert.ok(Math.abs(up.length - 16000) <= 2, `8k gave ${up.length}`);
  assert.ok(Math.abs(crossingsPerSecond(up, 16000) - 200) <= 2);
  assert.throws(() => new pcm.Resampler(0, 16000), RangeError);
});

test('pcm_s16le packing: little-endian, clamped, and back again', () => {
  const buf = pcm.floatToS16le(Float32Array.from([0, 1, -1, 0.5, 2, -2]));
  assert.equal(buf.byteLength, 12);
  const v = new DataView(buf);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => v.getInt16(i * 2, true)), [0, 32767, -32768, 16384, 32767, -32768]);
  assert.deepEqual([...new Uint8Array(buf, 2, 2)], [0xff, 0x7f], 'low byte first');

  const back = pcm.s16leToFloat(buf);
  assert.equal(back.length, 6);
  assert.ok(Math.abs(back[3] - 0.5) < 1e-4);
  assert.equal(back[2], -1);
  // A Node Buffer (a view with an offset) and an odd trailing byte.
  const node = Buffer.concat([Buffer.from([9]), Buffer.from(buf), Buffer.from([7])]).subarray(1);
  assert.deepEqual([...pcm.s16leToFloat(node)], [...back]);
});

test('the framer hands out whole frames only, in order', () => {
  const f = new pcm.PcmFramer(4);
  assert.equal(f.push(Float32Array.from([0.1, 0.2, 0.3])).length, 0);
  const frames = f.push(Float32Array.from([0.4, 0.5, 0.6, 0.7, 0.8, 0.9]));
  assert.equal(frames.length, 2);
  const all = frames.flatMap((b) => [...pcm.s16leToFloat(b)]);
  assert.deepEqual(all.map((x) => Math.round(x * 10)), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(f.fill, 1, 'one sample waits for the next frame');
});

test('the AudioWorklet module: 48 kHz render quanta become 250 ms pcm_s16le frames; mute sends silence', () => {
  const posted = [];
  let Processor = null;
  class AudioWorkletProcessor {
    constructor() { this.port = { postMessage: (m, transfer) => posted.push({ m, transfer }), onmessage: null }; }
  }
  const registerProcessor = (name, cls) => { assert.equal(name, 'athos-mic'); Processor = cls; };
  new Function('AudioWorkletProcessor', 'registerProcessor', 'sampleRate', pcm.workletSource())(
    AudioWorkletProcessor, registerProcessor, 48000);
  const p = new Processor();

  const input = sine(440, 48000, 48000, 0.5);
  for (let i = 0; i < input.length; i += 128) assert.equal(p.process([[input.subarray(i, i + 128)]]), true);
  const frames = posted.filter((x) => x.m.pcm);
  const levels = posted.filter((x) => 'level' in x.m);
  assert.equal(frames.length, 4, 'one second = four 250 ms frames');
  for (const { m, transfer } of frames) {
    assert.equal(m.pcm.byteLength, pcm.FRAME_SAMPLES * 2);
    assert.deepEqual(transfer, [m.pcm], 'the buffer is transferred, not copied');
  }
  const wire = Float32Array.from(frames.flatMap((x) => [...pcm.s16leToFloat(x.m.pcm)]));
  assert.ok(Math.abs(crossingsPerSecond(wire, 16000) - 440) <= 2);
  assert.ok(Math.abs(levels.length - 50) <= 1, `${levels.length} level reports for 1 s`);
  assert.ok(levels.every((x) => Math.abs(x.m.level - 0.5 / Math.SQRT2) < 0.02), 'rms of a 0.5 sine');

  posted.length = 0;
  p.port.onmessage({ data: { muted: true } });
  for (let i = 0; i < input.length / 4; i += 128) p.process([[input.subarray(i, i + 128)]]);
  const muted = posted.filter((x) => x.m.pcm);
  assert.equal(muted.length, 1, 'time keeps flowing while muted');
  assert.ok(pcm.s16leToFloat(muted[0].m.pcm).slice(200).every((x) => x === 0), 'silence once muted');
  assert.ok(posted.filter((x) => 'level' in x.m).slice(1).every((x) => x.m.level === 0));
  assert.equal(p.process([[]]), true, 'an empty input keeps the processor alive');
  assert.equal(p.process([]), true, 'no input (mic gone) keeps it alive');
});
