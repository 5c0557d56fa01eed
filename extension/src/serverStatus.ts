/**
 * serverStatus: the server's state as the responder tells it. The responder
 * produces one status document (fcgi-app/status.c; schema in
 * tests/spec/status.schema.json): GET /health returns it, `litellmctl
 * status --json` prints it with process facts, and each window gets it in a
 * `status` frame over the pipe it already holds (once after welcome, then on
 * every change). parseHealth reads it for all of these; ServerStatusFeed
 * keeps the latest one a pipe client received.
 *
 * No `vscode` import: the feed works on a PipeClient.
 */
import type { Disposable, Event } from './events';
import { Emitter } from './events';
import type { FrameChannel, PipeClient } from './pipeClient';
import type { InboundFrame } from './protocol';

/** A rate of `limits[]`: requests or tokens per minute. */
export interface RateUse {
  limit: number;
  remaining: number;
  /** Go-style duration until the budget is full again (`3s`, `618ms`); '' if absent. */
  reset: string;
}

/** One entry of `limits`: a scope (`global`, `model gpt-4o`, `key ci on model …`) and its use. */
export interface LimitUse {
  scope: string;
  requestsPerMinute?: RateUse;
  tokensPerMinute?: RateUse;
  concurrent?: { limit: number; inFlight: number };
}

export interface AuthStatus {
  keys: number;
  /** `required`, `keys` or `open on loopback` (as the responder words it). */
  mode: string;
}

export interface LimitsStoreStatus {
  /** `shm` or the configured `redis://…` URL. */
  configured: string;
  /** `shm`, `redis`, or `shm (Redis unreachable: local fallback)`. */
  active: string;
  /** Why Redis is unreachable, while it is. */
  error?: string;
}

/** Requests, tokens and premium requests counted in usage. */
export interface UsageCounts {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  premiumRequests: number;
}

/** Today's usage (UTC day), all keys together and per key (`-`: no key). */
export interface UsageToday extends UsageCounts {
  keys: Array<UsageCounts & { key: string }>;
}

/** The status document, camel-cased. */
export interface ServerHealth {
  /** `ok`, `degraded` (no window), or `unreachable` (litellmctl: the responder did not answer); '' if absent. */
  status: string;
  windows: number;
  models: string[];
  defaultModel: string | null;
  /** Each configured limit's current use (empty when none is configured). */
  limits: LimitUse[];
  /** null when absent (the responder not answering). */
  auth: AuthStatus | null;
  /** null when absent. */
  limitsStore: LimitsStoreStatus | null;
  /** Requests in flight on the whole gateway; 0 if absent. */
  inFlight: number;
  /** Today's usage; null when absent (a responder that counts none). */
  usageToday: UsageToday | null;
}

// Read defensively: an older responder lacks some fields, and a malformed
// entry is dropped rather than failing the whole status.

/** Reads a status document (the fields litellmctl adds are ignored). */
export function parseHealth(raw: Record<string, unknown>): ServerHealth {
  return {
    status: stringOr(raw.status, ''),
    windows: numberOrNull(raw.windows) ?? 0,
    models: Array.isArray(raw.models) ? raw.models.filter((m): m is string => typeof m === 'string') : [],
    defaultModel: typeof raw.default_model === 'string' ? raw.default_model : null,
    limits: Array.isArray(raw.limits) ? raw.limits.flatMap(parseLimitUse) : [],
    auth: parseAuth(raw.auth),
    limitsStore: parseLimitsStore(raw.limits_store),
    inFlight: numberOrNull(raw.in_flight) ?? 0,
    usageToday: parseUsageToday(raw.usage_today),
  };
}

/** The health of a `status` frame, or undefined for any other frame (or a malformed one). */
export function healthOfFrame(frame: InboundFrame): ServerHealth | undefined {
  if (frame.type !== 'status') {
    return undefined;
  }
  const health = objectOrUndefined(frame.health);
  return health ? parseHealth(health) : undefined;
}

/**
 * The latest status frame of a pipe client's connection. Attach it before
 * `connect()`: the first frame follows welcome at once. While disconnected
 * `health` is undefined (what the last connection said no longer holds).
 */
export class ServerStatusFeed implements Disposable {
  private latest: ServerHealth | undefined;
  private readonly emitter = new Emitter<ServerHealth | undefined>();
  private readonly subscriptions: Disposable[];

  /** Fires with each new document, and with undefined when the connection ends. */
  readonly onDidChange: Event<ServerHealth | undefined> = this.emitter.event;

  constructor(pipe: Pick<PipeClient, 'onDidConnect'>) {
    this.subscriptions = [
      pipe.onDidConnect((channel) => {
        this.follow(channel);
      }),
    ];
  }

  get health(): ServerHealth | undefined {
    return this.latest;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
    this.emitter.dispose();
  }

  private follow(channel: FrameChannel): void {
    const frames = channel.onFrame((frame) => {
      const health = healthOfFrame(frame);
      if (health) {
        this.latest = health;
        this.emitter.fire(health);
      }
    });
    channel.onClose(() => {
      frames.dispose();
      this.latest = undefined;
      this.emitter.fire(undefined);
    });
  }
}

function objectOrUndefined(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function parseRate(value: unknown): RateUse | undefined {
  const raw = objectOrUndefined(value);
  const limit = numberOrNull(raw?.limit);
  const remaining = numberOrNull(raw?.remaining);
  if (raw === undefined || limit === null || remaining === null) {
    return undefined;
  }
  return { limit, remaining, reset: stringOr(raw.reset, '') };
}

function parseLimitUse(value: unknown): LimitUse[] {
  const raw = objectOrUndefined(value);
  if (raw === undefined || typeof raw.scope !== 'string') {
    return [];
  }
  const use: LimitUse = { scope: raw.scope };
  const requests = parseRate(raw.requests_per_minute);
  if (requests) {
    use.requestsPerMinute = requests;
  }
  const tokens = parseRate(raw.tokens_per_minute);
  if (tokens) {
    use.tokensPerMinute = tokens;
  }
  const concurrent = objectOrUndefined(raw.concurrent);
  const concurrentLimit = numberOrNull(concurrent?.limit);
  const inFlight = numberOrNull(concurrent?.in_flight);
  if (concurrentLimit !== null && inFlight !== null) {
    use.concurrent = { limit: concurrentLimit, inFlight };
  }
  return [use];
}

function parseUsageCounts(raw: Record<string, unknown>): UsageCounts | null {
  const requests = numberOrNull(raw.requests);
  const inputTokens = numberOrNull(raw.input_tokens);
  const outputTokens = numberOrNull(raw.output_tokens);
  const premiumRequests = numberOrNull(raw.premium_requests);
  if (requests === null || inputTokens === null || outputTokens === null || premiumRequests === null) {
    return null;
  }
  return { requests, inputTokens, outputTokens, premiumRequests };
}

function parseUsageToday(value: unknown): UsageToday | null {
  const raw = objectOrUndefined(value);
  const totals = raw ? parseUsageCounts(raw) : null;
  if (raw === undefined || totals === null) {
    return null;
  }
  const keys = Array.isArray(raw.keys)
    ? raw.keys.flatMap((entry: unknown) => {
        const one = objectOrUndefined(entry);
        const counts = one ? parseUsageCounts(one) : null;
        return one && counts && typeof one.key === 'string' ? [{ key: one.key, ...counts }] : [];
      })
    : [];
  return { ...totals, keys };
}

function parseAuth(value: unknown): AuthStatus | null {
  const raw = objectOrUndefined(value);
  const keys = numberOrNull(raw?.keys);
  if (raw === undefined || keys === null || typeof raw.mode !== 'string') {
    return null;
  }
  return { keys, mode: raw.mode };
}

function parseLimitsStore(value: unknown): LimitsStoreStatus | null {
  const raw = objectOrUndefined(value);
  if (raw === undefined || typeof raw.active !== 'string') {
    return null;
  }
  const store: LimitsStoreStatus = { configured: stringOr(raw.configured, ''), active: raw.active };
  if (typeof raw.error === 'string' && raw.error !== '') {
    store.error = raw.error;
  }
  return store;
}

export function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

export function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
