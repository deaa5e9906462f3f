// @useathos/sdk — the pure audio parts of server voice mode (no browser APIs).
//
// The microphone runs at whatever rate the AudioContext has (usually 48 kHz);
// the live protocol wants 16 kHz pcm_s16le mono. `Resampler` converts a stream
// of Float32 blocks (carrying its position across blocks), `floatToS16le` packs
// samples little-endian, `s16leToFloat` unpacks the persona's audio for Web
// Audio, and `PcmFramer` cuts the stream into fixed-size frames for the socket.
// `workletSource()` is the AudioWorklet module index.js loads from a Blob URL:
// it is built from these same functions, so node's test runner checks exactly
// the code the browser runs (sdk/pcm.test.js).

export const WIRE_RATE = 16000;
/** Samples per binary frame: 250 ms at 16 kHz (8000 bytes), i.e. 4 frames a second. */
export const FRAME_SAMPLES = 4000;
/** Samples per level report to the main thread (20 ms at the wire rate), for barge-in. */
export const LEVEL_SAMPLES = 320;

/** Streaming rate converter: box-average when going down, linear interpolation when going up. */
export class Resampler {
  constructor(inRate, outRate) {
    if (!(inRate > 0) || !(outRate > 0)) throw new RangeError('Resampler: rates must be positive');
    this.ratio = inRate / outRate; // input samples per output sample
    this.pending = new Float32Array(0);
    this.pos = 0; // where the next output sample starts, in `pending` coordinates
  }

  /** Converts one block; returns the output samples it completes (possibly none). */
  push(block) {
    const p = new Float32Array(this.pending.length + block.length);
    p.set(this.pending);
    p.set(block, this.pending.length);
    const out = [];
    const r = this.ratio;
    if (r >= 1) {
      while (Math.ceil(this.pos + r) <= p.length) {
        const a = Math.floor(this.pos);
        const b = Math.ceil(this.pos + r);
        let sum = 0;
        for (let i = a; i < b; i++) sum += p[i];
        out.push(sum / (b - a));
        this.pos += r;
      }
    } else {
      while (Math.floor(this.pos) + 1 < p.length) {
        const i = Math.floor(this.pos);
        const f = this.pos - i;
        out.push(p[i] * (1 - f) + p[i + 1] * f);
        this.pos += r;
      }
    }
    const used = Math.min(Math.floor(this.pos), p.length);
    this.pending = p.slice(used);
    this.pos -= used;
    return Float32Array.from(out);
  }
}

/** Float samples in [-1, 1] (clamped) to pcm_s16le bytes. */
export function floatToS16le(samples) {
  const buf = new ArrayBuffer(samples.length * 2);
  const view = new DataView(buf);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(i * 2, Math.round(s < 0 ? s * 0x8000 : s * 0x7fff), true);
  }
  return buf;
}

/** pcm_s16le bytes (an ArrayBuffer or a view; an odd trailing byte is ignored) to floats. */
export function s16leToFloat(bytes) {
  const view = ArrayBuffer.isView(bytes)
    ? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    : new DataView(bytes);
  const n = view.byteLength >> 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true) / 0x8000;
  return out;
}

/** Collects samples and hands back whole frames of `size` samples as pcm_s16le ArrayBuffers. */
export class PcmFramer {
  constructor(size) {
    this.size = size;
    this.buf = new Float32Array(size);
    this.fill = 0;
  }

  push(samples) {
    const frames = [];
    let i = 0;
    while (i < samples.length) {
      const n = Math.min(this.size - this.fill, samples.length - i);
      this.buf.set(samples.subarray(i, i + n), this.fill);
      this.fill += n;
      i += n;
      if (this.fill === this.size) {
        frames.push(floatToS16le(this.buf));
        this.fill = 0;
      }
    }
    return frames;
  }
}

/** Root-mean-square level of a block (0 for an empty one). */
export function rms(samples) {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  return samples.length ? Math.sqrt(sum / samples.length) : 0;
}

/* The processor: channel 0 of the mic -> Resampler -> PcmFramer -> postMessage
 * ({pcm: ArrayBuffer}, transferred), plus {level} every LEVEL_SAMPLES wire samples.
 * `muted` (a message from the main thread) turns the input into silence so the
 * server's end-pointer still sees time pass and the recording stays aligned. */
const PROCESSOR = `
class AthosMicProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.resampler = new Resampler(sampleRate, WIRE_RATE);
    this.framer = new PcmFramer(FRAME_SAMPLES);
    this.level = new Float32Array(0);
    this.muted = false;
    this.port.onmessage = (ev) => { if (ev.data && 'muted' in ev.data) this.muted = Boolean(ev.data.muted); };
  }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (!ch) return true;
    const block = this.muted ? new Float32Array(ch.length) : ch;
    const wire = this.resampler.push(block);
    for (const pcm of this.framer.push(wire)) this.port.postMessage({ pcm }, [pcm]);
    const l = new Float32Array(this.level.length + wire.length);
    l.set(this.level);
    l.set(wire, this.level.length);
    this.level = l;
    while (this.level.length >= LEVEL_SAMPLES) {
      this.port.postMessage({ level: rms(this.level.subarray(0, LEVEL_SAMPLES)) });
      this.level = this.level.slice(LEVEL_SAMPLES);
    }
    return true;
  }
}
registerProcessor('athos-mic', AthosMicProcessor);
`;

/** The AudioWorklet module's source text (self-contained: no imports). */
export function workletSource() {
  return [
    `const WIRE_RATE = ${WIRE_RATE};`,
    `const FRAME_SAMPLES = ${FRAME_SAMPLES};`,
    `const LEVEL_SAMPLES = ${LEVEL_SAMPLES};`,
    Resampler.toString(),
    floatToS16le.toString(),
    PcmFramer.toString(),
    rms.toString(),
    PROCESSOR,
  ].join('\n');
}
