// Type declarations for @useathos/sdk (see index.js and README.md).

export declare const DEFAULT_BASE_URL: 'https://app.useathos.ai/api/external/v1';

export type Difficulty = 'Beginner' | 'Advanced' | 'Elite';

/** The contract's REST/live error codes, plus the SDK's own (NETWORK_ERROR, CONNECTION_LOST, VOICE_UNAVAILABLE). */
export type AthosErrorCode =
  | 'INVALID_API_KEY'
  | 'API_KEY_REVOKED'
  | 'INVALID_TOKEN'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_ALREADY_USED'
  | 'IP_NOT_ALLOWED'
  | 'TENANT_INACTIVE'
  | 'TENANT_QUOTA_EXCEEDED'
  | 'INVALID_REQUEST'
  | 'DRILL_NOT_FOUND'
  | 'CALL_NOT_FOUND'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_ERROR'
  | 'NETWORK_ERROR'
  | 'CONNECTION_LOST'
  | 'VOICE_UNAVAILABLE'
  | (string & {});

export interface CreateOptions {
  /** The single-use session token your backend minted with POST /session. */
  token: string;
  /** Defaults to 'ma-full-sale'. */
  drillKey?: string;
  /** Defaults (server side) to 'Advanced'. */
  difficulty?: Difficulty;
  /** Best-effort persona filters. */
  filters?: { state?: string; category?: string };
  /** Defaults to DEFAULT_BASE_URL; set it when you self-host Athos. */
  baseUrl?: string;
  /**
   * true: server voice (mic -> 16 kHz PCM to Athos, the persona's speech played back).
   * 'browser': the Web Speech API (persona lines spoken, mic transcribed into say()).
   */
  voice?: boolean | 'browser';
}

export type SessionState = 'idle' | 'connecting' | 'live' | 'ending' | 'ended' | 'failed';

export interface Persona {
  name: string;
}

export interface ReadyEvent {
  callId: string;
  sessionId: string;
  persona: Persona;
}

export interface SayEvent {
  text: string;
  turn: number;
  role: 'assistant';
}

export interface TranscriptLine {
  role: 'assistant' | 'user';
  text: string;
  /** Present on persona lines and on rep lines the server heard. */
  turn?: number;
}

export interface TranscriptEvent extends TranscriptLine {
  /** The whole transcript so far, this line included. */
  transcript: TranscriptLine[];
}

export interface EndedEvent {
  callId: string;
  durationSec: number;
  reason: 'rep_hangup' | 'persona_hangup' | 'max_duration' | 'idle' | 'disconnect' | 'limit' | (string & {});
}

export interface HeardEvent {
  /** What the server recognised: the rep's committed turn. */
  text: string;
  turn: number;
}

export interface SpokenEvent {
  turn: number;
}

/** Why voice cannot run: ErrorEvent.reason of VOICE_UNAVAILABLE and Supports.reason. */
export type VoiceUnavailableReason =
  | 'no-browser'
  | 'insecure-context'
  | 'no-microphone-api'
  | 'no-audioworklet'
  | 'microphone-denied'
  | 'no-microphone'
  | 'audio-failed';

export interface Supports {
  secureContext: boolean;
  audioWorklet: boolean;
  /** The microphone permission, read without prompting. */
  microphone: 'granted' | 'prompt' | 'denied' | 'unknown';
  /** Server voice (`voice: true`) can be tried. */
  voice: boolean;
  reason: VoiceUnavailableReason | null;
  /** `voice: 'browser'` can run (isVoiceSupported()). */
  webSpeech: boolean;
}

export interface VoiceStats {
  sentBytes: number;
  receivedBytes: number;
  /** Persona audio flushed because the rep started talking. */
  bargeIns: number;
}

export interface ErrorEvent {
  code: AthosErrorCode;
  message: string;
  /** True when the call is over (state 'failed', VOICE_UNAVAILABLE from connect() included); false for a rejected utterance or Web Speech trouble. */
  fatal: boolean;
  /** HTTP status, when the error came from the REST redeem. */
  status?: number;
  requestId?: string;
  /** With VOICE_UNAVAILABLE from connect(). */
  reason?: VoiceUnavailableReason;
}

export interface SessionEvents {
  ready: ReadyEvent;
  say: SayEvent;
  heard: HeardEvent;
  spoken: SpokenEvent;
  ended: EndedEvent;
  error: ErrorEvent;
  transcript: TranscriptEvent;
}

export declare class AthosError extends Error {
  code: AthosErrorCode;
  status?: number;
  requestId?: string;
  reason?: VoiceUnavailableReason;
  constructor(code: AthosErrorCode, message: string, extra?: { status?: number; requestId?: string; reason?: VoiceUnavailableReason });
}

export interface RoleplaySession {
  readonly state: SessionState;
  readonly callId: string | null;
  readonly sessionId: string | null;
  readonly persona: Persona | null;
  readonly transcript: TranscriptLine[];
  readonly voiceActive: boolean;
  readonly muted: boolean;
  readonly voiceStats: VoiceStats;
  on<E extends keyof SessionEvents>(event: E, handler: (payload: SessionEvents[E]) => void): this;
  off<E extends keyof SessionEvents>(event: E, handler: (payload: SessionEvents[E]) => void): this;
  /** Redeems the token and joins the call; resolves on `ready`, rejects with an AthosError. */
  connect(): Promise<ReadyEvent>;
  /** Sends what the rep said. Throws unless state is 'live'. */
  say(text: string): void;
  /** Hangs up; resolves with the ended event (null if the call never started). */
  end(): Promise<EndedEvent | null>;
  mute(): void;
  unmute(): void;
}

export declare const AthosRoleplay: {
  create(options: CreateOptions): RoleplaySession;
  /** True where `voice: 'browser'` (Web Speech) can run. */
  isVoiceSupported(): boolean;
  /** What this browser can do for voice, without prompting. */
  supports(): Promise<Supports>;
};

export default AthosRoleplay;
