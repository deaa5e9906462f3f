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
  /** Speak persona lines and transcribe the mic into say() where supported. */
  voice?: boolean;
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
  /** Present on persona lines. */
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

export interface ErrorEvent {
  code: AthosErrorCode;
  message: string;
  /** True when the call is over (state 'failed'); false for a rejected utterance or voice trouble. */
  fatal: boolean;
  /** HTTP status, when the error came from the REST redeem. */
  status?: number;
  requestId?: string;
}

export interface SessionEvents {
  ready: ReadyEvent;
  say: SayEvent;
  ended: EndedEvent;
  error: ErrorEvent;
  transcript: TranscriptEvent;
}

export declare class AthosError extends Error {
  code: AthosErrorCode;
  status?: number;
  requestId?: string;
  constructor(code: AthosErrorCode, message: string, extra?: { status?: number; requestId?: string });
}

export interface RoleplaySession {
  readonly state: SessionState;
  readonly callId: string | null;
  readonly sessionId: string | null;
  readonly persona: Persona | null;
  readonly transcript: TranscriptLine[];
  readonly voiceActive: boolean;
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
  isVoiceSupported(): boolean;
};

export default AthosRoleplay;
