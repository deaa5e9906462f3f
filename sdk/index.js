// @useathos/sdk — the browser SDK for Athos live roleplay calls.
//
// Plain ESM, no dependencies, no build step. It redeems the single-use session
// token your backend minted (POST {baseUrl}/roleplay/session), opens the live
// WebSocket behind the returned connectionUrl and speaks the JSON protocol of
// the live transport (start / ready / say / end / ended / error). Text mode
// always works. `voice: true` is server voice: the microphone goes through an
// AudioWorklet (resampled to 16 kHz pcm_s16le, pure code in pcm.js) as binary
// frames, the server recognises it (`heard`) and streams the persona's speech
// back as binary frames played through Web Audio. `voice: 'browser'` is the
// older Web Speech API path (speech never reaches Athos as audio).
//
//   const session = AthosRoleplay.create({ token, drillKey: 'ma-full-sale' });
//   session.on('say', ({ text }) => show(text));
//   await session.connect();
//   session.say('Hi, this call is recorded for quality purposes.');
//   await session.end();

import { WIRE_RATE, s16leToFloat, workletSource } from './pcm.js';

export const DEFAULT_BASE_URL = 'https://app.useathos.ai/api/external/v1';

const EVENTS = ['ready', 'say', 'heard', 'spoken', 'ended', 'error', 'transcript'];

/* Barge-in on the client: the rep's mic level (RMS of 20 ms reports) above this for
 * BARGE_REPORTS reports in a row while persona audio is queued flushes that audio. */
const BARGE_LEVEL = 0.03;
const BARGE_REPORTS = 5;

/* Live error codes after which the server keeps the call open. */
const CALL_GOES_ON = new Set(['INVALID_REQUEST', 'RATE_LIMITED']);

/** An Error with the contract's error `code` (and the REST `requestId` when there is one). */
export class AthosError extends Error {
  constructor(code, message, extra = {}) {
    super(message);
    this.name = 'AthosError';
    this.code = code;
    Object.assign(this, extra);
  }
}

function speechRecognitionCtor() {
  if (typeof window === 'undefined') return null;
  return window.SpeechRecognition || window.webkitSpeechRecognition || null;
}

/* Voice needs both halves. Automated browsers (navigator.webdriver: headless
 * Chromium under Playwright and the like) have the APIs but no voices and no
 * recognition service, so they count as text-only. */
function isVoiceSupported() {
  if (typeof window === 'undefined' || typeof navigator === 'undefined') return false;
  if (navigator.webdriver) return false;
  return Boolean(speechRecognitionCtor() && window.speechSynthesis && window.SpeechSynthesisUtterance);
}

class RoleplaySession {
  constructor(opts) {
    if (!opts || typeof opts.token !== 'string' || opts.token === '') {
      throw new TypeError('AthosRoleplay.create: `token` (from your backend) is required');
    }
    this._opts = {
      token: opts.token,
      drillKey: opts.drillKey || 'ma-full-sale',
      difficulty: opts.difficulty,
      filters: opts.filters,
      baseUrl: String(opts.baseUrl || DEFAULT_BASE_URL).replace(/\/+$/, ''),
      voice: opts.voice === 'browser' ? 'browser' : (opts.voice ? 'server' : false),
    };
    this._handlers = new Map(EVENTS.map((e) => [e, new Set()]));
    this._ws = null;
    this._endWaiters = [];
    this._voice = null; // the Web Speech path ('browser')
    this._audio = null; // the server-voice path: mic, worklet, playback queue
    /** 'idle' | 'connecting' | 'live' | 'ending' | 'ended' | 'failed' */
    this.state = 'idle';
    this.callId = null;
    this.sessionId = null;
    this.persona = null;
    /** Every line of the call so far: [{ role: 'assistant' | 'user', text, turn? }]. */
    this.transcript = [];
    /** True while voice mode is actually running (mic + speech). */
    this.voiceActive = false;
    /** True between mute() and unmute(). */
    this.muted = false;
    /** Server voice counters: pcm bytes sent and received, persona audio flushed by barge-in. */
    this.voiceStats = { sentBytes: 0, receivedBytes: 0, bargeIns: 0 };
  }

  on(event, handler) {
    if (!this._handlers.has(event)) throw new TypeError(`unknown event "${event}" (one of ${EVENTS.join(', ')})`);
    this._handlers.get(event).add(handler);
    return this;
  }

  off(event, handler) {
    const set = this._handlers.get(event);
    if (set) set.delete(handler);
    return this;
  }

  _emit(event, payload) {
    for (const h of [...this._handlers.get(event)]) {
      try {
        h(payload);
      } catch (e) {
        // A throwing handler must not break the call; surface it asynchronously.
        setTimeout(() => { throw e; });
      }
    }
  }

  /* Emits a fatal error: the call is over and connect() (if pending) rejects. */
  _fail(code, message, extra = {}) {
    if (this.state === 'ended' || this.state === 'failed') return;
    this.state = 'failed';
    this._stopVoice();
    const err = new AthosError(code, message, extra);
    this._emit('error', { code, message, fatal: true, ...extra });
    if (this._rejectConnect) this._rejectConnect(err);
    for (const w of this._endWaiters.splice(0)) w.reject(err);
    if (this._ws && this._ws.readyState <= 1) this._ws.close(1000);
  }

  /** Redeems the token, joins the live call and resolves once the call is ready. */
  async connect() {
    if (this.state !== 'idle') throw new AthosError('INVALID_REQUEST', `connect() called in state "${this.state}"`);
    this.state = 'connecting';
    const ready = new Promise((resolve, reject) => {
      this._resolveConnect = resolve;
      this._rejectConnect = reject;
    });
    ready.catch(() => {}); // rejections are also reported through the error event

    const o = this._opts;
    if (o.voice === 'server') {
      // Before the redeem, so a browser without a microphone does not spend the token.
      const reason = await this._prepareAudio();
      if (reason) {
        this._fail('VOICE_UNAVAILABLE', `Voice mode cannot start: ${REASONS[reason] || reason}`, { reason });
        return ready;
      }
      if (this.state !== 'connecting') { // end() was called meanwhile
        this._stopVoice();
        return ready;
      }
    }
    const body = { drillKey: o.drillKey };
    if (o.difficulty) body.difficulty = o.difficulty;
    if (o.filters) body.filters = o.filters;
    let res;
    let data = null;
    try {
      res = await fetch(`${o.baseUrl}/roleplay/session`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${o.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      data = await res.json().catch(() => null);
    } catch (e) {
      this._fail('NETWORK_ERROR', `Could not reach Athos at ${o.baseUrl}: ${e.message}`);
      return ready;
    }
    if (this.state !== 'connecting') return ready; // end() was called meanwhile
    if (!res.ok) {
      const err = (data && data.error) || {};
      const code = err.code || (res.status >= 500 ? 'SERVICE_UNAVAILABLE' : 'INTERNAL_ERROR');
      const extra = { status: res.status };
      if (err.requestId) extra.requestId = err.requestId;
      this._fail(code, err.message || `Redeeming the session failed with HTTP ${res.status}`, extra);
      return ready;
    }
    this.callId = data.callId;
    this.sessionId = data.sessionId;
    this.persona = data.persona;
    this._open(data.connectionUrl, data.connectionTicket);
    return ready;
  }

  _open(url, ticket) {
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      this._fail('NETWORK_ERROR', `Could not open the live connection: ${e.message}`);
      return;
    }
    this._ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      const start = { type: 'start', ticket };
      if (this._audio) start.audio = { encoding: 'pcm_s16le', sampleRate: WIRE_RATE };
      ws.send(JSON.stringify(start));
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') {
        this._playAudio(ev.data);
        return;
      }
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return; // not ours: ignore
      }
      this._onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (this.state === 'ended' || this.state === 'failed') return;
      this._fail('CONNECTION_LOST', `The live connection closed (code ${ev.code}) before the call ended`);
    };
  }

  _onMessage(msg) {
    switch (msg.type) {
      case 'ready':
        this.callId = msg.callId || this.callId;
        this.sessionId = msg.sessionId || this.sessionId;
        this.persona = msg.persona || this.persona;
        if (this.state === 'connecting') this.state = 'live';
        if (this._audio) this.voiceActive = true; // the mic frames flow from now on
        this._emit('ready', { callId: this.callId, sessionId: this.sessionId, persona: this.persona });
        if (this._opts.voice === 'browser') this._startVoice();
        this._resolveConnect({ callId: this.callId, sessionId: this.sessionId, persona: this.persona });
        break;
      case 'say': {
        const line = { role: 'assistant', text: msg.text, turn: msg.turn };
        this.transcript.push(line);
        this._emit('say', line);
        this._emit('transcript', { ...line, transcript: this.transcript.slice() });
        this._speak(msg.text);
        break;
      }
      case 'heard': {
        // The server recognised an utterance: it is the rep's committed turn.
        this._flushAudio(false);
        const line = { role: 'user', text: msg.text, turn: msg.turn };
        this.transcript.push(line);
        this._emit('heard', { text: msg.text, turn: msg.turn });
        this._emit('transcript', { ...line, transcript: this.transcript.slice() });
        break;
      }
      case 'spoken':
        this._emit('spoken', { turn: msg.turn });
        break;
      case 'ended': {
        this.state = 'ended';
        this._stopVoice(true); // the persona's goodbye still plays out
        const ev = { callId: msg.callId || this.callId, durationSec: msg.durationSec, reason: msg.reason };
        this._emit('ended', ev);
        for (const w of this._endWaiters.splice(0)) w.resolve(ev);
        break;
      }
      case 'error': {
        // Before ready every error ends the attempt; during the call a rejected
        // frame (INVALID_REQUEST: an utterance, audio over its limits) or a dropped
        // one (RATE_LIMITED) leaves the call running.
        if (this.state === 'connecting' || !CALL_GOES_ON.has(msg.code)) {
          this._fail(msg.code || 'INTERNAL_ERROR', msg.message || 'Live call error');
        } else {
          this._emit('error', { code: msg.code, message: msg.message, fatal: false });
        }
        break;
      }
      default:
        break; // newer server message types are ignored
    }
  }

  /** Sends what the rep said (text mode; voice mode calls this for you). */
  say(text) {
    if (this.state !== 'live') throw new AthosError('INVALID_REQUEST', `say() called in state "${this.state}"`);
    if (typeof text !== 'string' || text.trim() === '') throw new TypeError('say(text) needs non-empty text');
    this._ws.send(JSON.stringify({ type: 'say', text }));
    const line = { role: 'user', text };
    this.transcript.push(line);
    this._emit('transcript', { ...line, transcript: this.transcript.slice() });
  }

  /** Hangs up. Resolves with the `ended` payload ({callId, durationSec, reason}). */
  end() {
    if (this.state === 'ended') return Promise.resolve(null);
    if (this.state === 'failed') return Promise.reject(new AthosError('INVALID_REQUEST', 'the call already failed'));
    const done = new Promise((resolve, reject) => this._endWaiters.push({ resolve, reject }));
    if (this.state === 'live') {
      this.state = 'ending';
      this._stopVoice();
      this._ws.send(JSON.stringify({ type: 'end' }));
    } else if (this.state === 'idle' || this.state === 'connecting') {
      // Nothing started yet (or still redeeming): just give up.
      this._stopVoice();
      if (this._ws) this._ws.close(1000);
      this.state = 'ended';
      if (this._rejectConnect) this._rejectConnect(new AthosError('INVALID_REQUEST', 'end() called before the call was ready'));
      for (const w of this._endWaiters.splice(0)) w.resolve(null);
    }
    return done;
  }

  /* ---------------------------------------------------------- voice mode */

  /** Pauses the microphone (voice mode). Server voice keeps sending silence while muted. */
  mute() {
    this._setMuted(true);
  }

  /** Resumes the microphone (voice mode). */
  unmute() {
    this._setMuted(false);
  }

  _setMuted(muted) {
    this.muted = muted;
    if (this._voice) this._voice.muted = muted;
    if (this._audio) this._audio.node.port.postMessage({ muted });
  }

  /* Server voice: opens the mic and the worklet. Returns null, or a reason code. */
  async _prepareAudio() {
    const problem = audioProblem();
    if (problem) return problem;
    let stream = null;
    let ctx = null;
    let url = null;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      ctx = new AudioContext();
      url = URL.createObjectURL(new Blob([workletSource()], { type: 'text/javascript' }));
      await ctx.audioWorklet.addModule(url);
      const node = new AudioWorkletNode(ctx, 'athos-mic', {
        numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1],
      });
      const source = ctx.createMediaStreamSource(stream);
      source.connect(node);
      node.connect(ctx.destination); // pulls the graph; the node outputs silence
      await ctx.resume();
      const a = { stream, ctx, node, source, playing: new Set(), playAt: 0, loud: 0 };
      node.port.postMessage({ muted: this.muted });
      node.port.onmessage = (ev) => this._onMic(a, ev.data);
      this._audio = a;
      return null;
    } catch (e) {
      if (stream) for (const t of stream.getTracks()) t.stop();
      if (ctx) ctx.close().catch(() => {});
      if (e && e.name === 'NotAllowedError') return 'microphone-denied';
      if (e && (e.name === 'NotFoundError' || e.name === 'OverconstrainedError')) return 'no-microphone';
      return 'audio-failed';
    } finally {
      if (url) URL.revokeObjectURL(url);
    }
  }

  /* A message from the worklet: a frame to send, or a level for barge-in. */
  _onMic(a, data) {
    if (this._audio !== a || !data) return;
    if (data.pcm) {
      // Only between ready and end: a binary frame before `start` closes the socket.
      if (this.state === 'live' && this._ws && this._ws.readyState === 1) {
        this._ws.send(data.pcm);
        this.voiceStats.sentBytes += data.pcm.byteLength;
      }
      return;
    }
    if (typeof data.level === 'number') {
      a.loud = data.level >= BARGE_LEVEL && !this.muted ? a.loud + 1 : 0;
      if (a.loud >= BARGE_REPORTS && a.playing.size > 0) this._flushAudio(true);
    }
  }

  /* Persona speech: queued back to back on the AudioContext clock, in arrival order. */
  _playAudio(bytes) {
    const a = this._audio;
    if (!a || !(bytes instanceof ArrayBuffer)) return;
    this.voiceStats.receivedBytes += bytes.byteLength;
    const samples = s16leToFloat(bytes);
    if (samples.length === 0) return;
    const buf = a.ctx.createBuffer(1, samples.length, WIRE_RATE);
    buf.copyToChannel(samples, 0);
    const src = a.ctx.createBufferSource();
    src.buffer = buf;
    src.connect(a.ctx.destination);
    const at = Math.max(a.ctx.currentTime + 0.02, a.playAt);
    src.onended = () => a.playing.delete(src);
    a.playing.add(src);
    src.start(at);
    a.playAt = at + buf.duration;
  }

  /* Stops every queued persona sound (barge-in, a new rep turn, hang-up). */
  _flushAudio(bargeIn) {
    const a = this._audio;
    if (!a || a.playing.size === 0) return;
    for (const src of a.playing) {
      src.onended = null;
      try { src.stop(); } catch { /* not started */ }
    }
    a.playing.clear();
    a.playAt = 0;
    if (bargeIn) this.voiceStats.bargeIns++;
  }

  _startVoice() {
    if (!isVoiceSupported()) {
      this._emit('error', { code: 'VOICE_UNAVAILABLE', message: 'This browser has no speech support; use say(text).', fatal: false });
      return;
    }
    const Rec = speechRecognitionCtor();
    const rec = new Rec();
    rec.continuous = true;
    rec.interimResults = false;
    rec.lang = 'en-US';
    const v = { rec, muted: false, speakingUntil: 0, stopped: false };
    this._voice = v;
    rec.onresult = (ev) => {
      for (let i = ev.resultIndex; i < ev.results.length; i++) {
        const r = ev.results[i];
        const text = r.isFinal && r[0] ? r[0].transcript.trim() : '';
        // Ignore the persona's own voice leaking into the mic, and muted input.
        if (text && !v.muted && Date.now() >= v.speakingUntil && this.state === 'live') this.say(text);
      }
    };
    rec.onerror = (ev) => {
      if (ev.error === 'no-speech' || ev.error === 'aborted') return;
      v.stopped = true;
      this.voiceActive = false;
      this._emit('error', { code: 'VOICE_UNAVAILABLE', message: `Speech recognition failed (${ev.error}); use say(text).`, fatal: false });
    };
    rec.onend = () => {
      // Chrome stops continuous recognition after a pause: restart while live.
      if (!v.stopped && this.state === 'live') {
        try { rec.start(); } catch { /* already started */ }
      }
    };
    try {
      rec.start();
      this.voiceActive = true;
    } catch (e) {
      this._emit('error', { code: 'VOICE_UNAVAILABLE', message: e.message, fatal: false });
    }
  }

  _speak(text) {
    const v = this._voice;
    if (this._opts.voice !== 'browser' || !isVoiceSupported() || !text) return;
    const u = new window.SpeechSynthesisUtterance(text);
    if (v) {
      // Deaf while speaking. onend does not always fire (no voices, browser bugs), so the
      // mic also comes back after a generous estimate of the speaking time.
      v.speakingUntil = Math.max(v.speakingUntil, Date.now()) + 1000 + 90 * text.length;
      u.onend = u.onerror = () => {
        if (!window.speechSynthesis.speaking) v.speakingUntil = 0;
      };
    }
    window.speechSynthesis.speak(u);
  }

  /* Stops the mic now; with `drain`, queued persona audio plays out before the
   * AudioContext closes (the call ended on the server side), else it stops too. */
  _stopVoice(drain = false) {
    const v = this._voice;
    this.voiceActive = false;
    const a = this._audio;
    if (a) {
      if (!drain) this._flushAudio(false);
      this._audio = null;
      a.node.port.onmessage = null;
      try { a.source.disconnect(); a.node.disconnect(); } catch { /* already */ }
      for (const t of a.stream.getTracks()) t.stop();
      const left = drain ? Math.max(0, a.playAt - a.ctx.currentTime) : 0;
      setTimeout(() => a.ctx.close().catch(() => {}), left * 1000);
    }
    if (!v) return;
    v.stopped = true;
    this._voice = null;
    try { v.rec.abort(); } catch { /* not running */ }
    if (typeof window !== 'undefined' && window.speechSynthesis) window.speechSynthesis.cancel();
  }
}

/* Why server voice cannot run here (sync checks), or null. */
function audioProblem() {
  if (typeof window === 'undefined') return 'no-browser';
  if (!window.isSecureContext) return 'insecure-context';
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function') return 'no-microphone-api';
  if (typeof window.AudioContext !== 'function' || typeof window.AudioWorkletNode !== 'function') return 'no-audioworklet';
  return null;
}

/* The reason codes of VOICE_UNAVAILABLE, in words. */
const REASONS = {
  'no-browser': 'not running in a browser',
  'insecure-context': 'the page is not a secure context (use https or localhost)',
  'no-microphone-api': 'this browser has no getUserMedia',
  'no-audioworklet': 'this browser has no AudioWorklet',
  'microphone-denied': 'microphone permission was denied',
  'no-microphone': 'no microphone was found',
  'audio-failed': 'the audio pipeline could not start',
};

/* Microphone permission without prompting: 'granted' | 'prompt' | 'denied' | 'unknown'. */
async function microphonePermission() {
  try {
    const st = await navigator.permissions.query({ name: 'microphone' });
    return st.state;
  } catch {
    return 'unknown';
  }
}

/** What this browser can do, without prompting: see README "Browser detection". */
async function supports() {
  const browser = typeof window !== 'undefined' && typeof navigator !== 'undefined';
  const microphone = browser ? await microphonePermission() : 'unknown';
  let reason = audioProblem();
  if (!reason && microphone === 'denied') reason = 'microphone-denied';
  return {
    secureContext: browser && Boolean(window.isSecureContext),
    audioWorklet: browser && typeof window.AudioWorkletNode === 'function',
    microphone,
    voice: reason === null,
    reason,
    webSpeech: isVoiceSupported(),
  };
}

export const AthosRoleplay = {
  /** Creates a session synchronously: register handlers, then `await session.connect()`. */
  create(opts) {
    return new RoleplaySession(opts);
  },
  /** True where `voice: 'browser'` can run (speech recognition + synthesis, not an automated browser). */
  isVoiceSupported,
  /** Resolves with { secureContext, audioWorklet, microphone, voice, reason, webSpeech }. */
  supports,
};

export default AthosRoleplay;
