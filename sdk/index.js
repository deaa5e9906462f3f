// @useathos/sdk — the browser SDK for Athos live roleplay calls.
//
// Plain ESM, no dependencies, no build step. It redeems the single-use session
// token your backend minted (POST {baseUrl}/roleplay/session), opens the live
// WebSocket behind the returned connectionUrl and speaks the JSON protocol of
// the live transport (start / ready / say / end / ended / error). Text mode
// always works; `voice: true` adds speech synthesis for the persona and speech
// recognition for the rep where the browser has both.
//
//   const session = AthosRoleplay.create({ token, drillKey: 'ma-full-sale' });
//   session.on('say', ({ text }) => show(text));
//   await session.connect();
//   session.say('Hi, this call is recorded for quality purposes.');
//   await session.end();

export const DEFAULT_BASE_URL = 'https://app.useathos.ai/api/external/v1';

const EVENTS = ['ready', 'say', 'ended', 'error', 'transcript'];

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
      voice: Boolean(opts.voice),
    };
    this._handlers = new Map(EVENTS.map((e) => [e, new Set()]));
    this._ws = null;
    this._endWaiters = [];
    this._voice = null;
    /** 'idle' | 'connecting' | 'live' | 'ending' | 'ended' | 'failed' */
    this.state = 'idle';
    this.callId = null;
    this.sessionId = null;
    this.persona = null;
    /** Every line of the call so far: [{ role: 'assistant' | 'user', text, turn? }]. */
    this.transcript = [];
    /** True while voice mode is actually running (mic + speech). */
    this.voiceActive = false;
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
    ws.onopen = () => ws.send(JSON.stringify({ type: 'start', ticket }));
    ws.onmessage = (ev) => {
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
        this._emit('ready', { callId: this.callId, sessionId: this.sessionId, persona: this.persona });
        if (this._opts.voice) this._startVoice();
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
      case 'ended': {
        this.state = 'ended';
        this._stopVoice();
        const ev = { callId: msg.callId || this.callId, durationSec: msg.durationSec, reason: msg.reason };
        this._emit('ended', ev);
        for (const w of this._endWaiters.splice(0)) w.resolve(ev);
        break;
      }
      case 'error': {
        // Before ready every error ends the attempt; during the call only a
        // rejected utterance (INVALID_REQUEST) leaves the call running.
        if (this.state === 'connecting' || msg.code !== 'INVALID_REQUEST') {
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
      if (this._ws) this._ws.close(1000);
      this.state = 'ended';
      if (this._rejectConnect) this._rejectConnect(new AthosError('INVALID_REQUEST', 'end() called before the call was ready'));
      for (const w of this._endWaiters.splice(0)) w.resolve(null);
    }
    return done;
  }

  /* ---------------------------------------------------------- voice mode */

  /** Pauses the microphone (voice mode). */
  mute() {
    if (this._voice) this._voice.muted = true;
  }

  /** Resumes the microphone (voice mode). */
  unmute() {
    if (this._voice) this._voice.muted = false;
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
    if (!this._opts.voice || !isVoiceSupported() || !text) return;
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

  _stopVoice() {
    const v = this._voice;
    this.voiceActive = false;
    if (!v) return;
    v.stopped = true;
    this._voice = null;
    try { v.rec.abort(); } catch { /* not running */ }
    if (typeof window !== 'undefined' && window.speechSynthesis) window.speechSynthesis.cancel();
  }
}

export const AthosRoleplay = {
  /** Creates a session synchronously: register handlers, then `await session.connect()`. */
  create(opts) {
    return new RoleplaySession(opts);
  },
  /** True where voice mode can run (speech recognition + synthesis, not an automated browser). */
  isVoiceSupported,
};

export default AthosRoleplay;
