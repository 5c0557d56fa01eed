/**
 * serverControl: runs `litellmctl` (contrib/litellmctl.in) to start, stop and
 * query the server (nginx + litellm-fcgi). Always execFile with an argument
 * list, never a shell. Paths of the responder and nginx binaries and the
 * system-mode knobs are passed as environment variables.
 *
 * No `vscode` import: settings arrive as a plain object.
 */
import { execFile } from 'node:child_process';

import type { Logger } from './logger';

export type ServerMode = 'managed' | 'system';

export interface ServerSettings {
  litellmctlPath: string;
  /** '' = litellmctl's default prefix. */
  prefix: string;
  host: string;
  port: number;
  mode: ServerMode;
  /** '' = litellmctl's default for each of these. */
  responderPath: string;
  nginxPath: string;
  systemSnippetPath: string;
  systemReloadCommand: string;
  /**
   * vscode.env.remoteName ('' or absent: a local window). Only for messages:
   * in a remote window (Remote-SSH, WSL, code-server…) machine-scoped
   * settings are read from the Remote settings, not from User settings.
   */
  remoteName?: string;
}

/** `litellmctl status --json`, camel-cased. */
export interface ServerStatus {
  running: boolean;
  listen: string;
  mode: string;
  prefix: string;
  pipe: string;
  nginxPid: number | null;
  responderPid: number | null;
  windows: number;
  models: string[];
  defaultModel: string | null;
  /**
   * Each configured limit's current use (`limits`; empty when none is
   * configured, or when litellmctl predates limits).
   */
  limits: LimitUse[];
  /** `auth`; null when absent (older litellmctl, or the responder not answering). */
  auth: AuthStatus | null;
  /** `limits_store`; null when absent. */
  limitsStore: LimitsStoreStatus | null;
}

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

export type ServerAction = 'start' | 'stop' | 'status';

export interface Invocation {
  file: string;
  args: string[];
  /** Variables added to the inherited environment. */
  env: Record<string, string>;
}

/** A failed litellmctl run; `message` is its one-line reason. */
export class ServerControlError extends Error {
  constructor(
    message: string,
    readonly command: string,
    readonly stdout: string,
    readonly stderr: string,
    readonly exitCode: number | string | null,
  ) {
    super(message);
    this.name = 'ServerControlError';
  }
}

/** How long each action may take before it is reported as hung. */
const TIMEOUT_MS: Record<ServerAction, number> = { start: 60_000, stop: 60_000, status: 10_000 };

/** `host:port`, with brackets around an IPv6 address. */
export function listenAddress(host: string, port: number): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.includes(':') ? `[${bare}]:${port}` : `${bare}:${port}`;
}

export function buildInvocation(settings: ServerSettings, action: ServerAction): Invocation {
  const args: string[] = [];
  if (settings.prefix !== '') {
    args.push('--prefix', settings.prefix);
  }
  args.push('--listen', listenAddress(settings.host, settings.port), '--mode', settings.mode, action);
  if (action === 'status') {
    args.push('--json');
  }
  const env: Record<string, string> = {};
  const optional: [string, string][] = [
    ['LITELLM_FCGI', settings.responderPath],
    ['LITELLM_NGINX', settings.nginxPath],
    ['LITELLM_SNIPPET', settings.systemSnippetPath],
    ['LITELLM_RELOAD_CMD', settings.systemReloadCommand],
  ];
  for (const [name, value] of optional) {
    if (value !== '') {
      env[name] = value;
    }
  }
  return { file: settings.litellmctlPath !== '' ? settings.litellmctlPath : 'litellmctl', args, env };
}

/** Parses `status --json` output; throws on anything that is not its shape. */
export function parseStatus(stdout: string): ServerStatus {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    throw new Error(`litellmctl status --json printed something that is not JSON: ${firstLine(stdout)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('litellmctl status --json did not print a JSON object');
  }
  const raw = value as Record<string, unknown>;
  if (typeof raw.running !== 'boolean') {
    throw new Error('litellmctl status --json has no boolean "running"');
  }
  return {
    running: raw.running,
    listen: stringOr(raw.listen, ''),
    mode: stringOr(raw.mode, ''),
    prefix: stringOr(raw.prefix, ''),
    pipe: stringOr(raw.pipe, ''),
    nginxPid: numberOrNull(raw.nginx_pid),
    responderPid: numberOrNull(raw.responder_pid),
    windows: numberOrNull(raw.windows) ?? 0,
    models: Array.isArray(raw.models) ? raw.models.filter((m): m is string => typeof m === 'string') : [],
    defaultModel: typeof raw.default_model === 'string' ? raw.default_model : null,
    limits: Array.isArray(raw.limits) ? raw.limits.flatMap(parseLimitUse) : [],
    auth: parseAuth(raw.auth),
    limitsStore: parseLimitsStore(raw.limits_store),
  };
}

// The fields litellmctl gained with limits and keys are read defensively:
// an older litellmctl lacks them, and a malformed entry is dropped rather
// than failing the whole status (which would show the error state).

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

export class ServerControl {
  constructor(
    private readonly settings: () => ServerSettings,
    private readonly logger: Logger,
    private readonly baseEnv: NodeJS.ProcessEnv = process.env,
  ) {}

  /** `litellmctl start`: idempotent, joins a server another window started. */
  async start(): Promise<void> {
    await this.run('start');
  }

  /** `litellmctl stop`: disables the site; streams in flight finish. */
  async stop(): Promise<void> {
    await this.run('stop');
  }

  async status(): Promise<ServerStatus> {
    try {
      return parseStatus(await this.run('status'));
    } catch (err) {
      // status may exit non-zero when stopped and still print the object.
      if (err instanceof ServerControlError && err.stdout.trim().startsWith('{')) {
        return parseStatus(err.stdout);
      }
      throw err;
    }
  }

  private run(action: ServerAction): Promise<string> {
    const settings = this.settings();
    const invocation = buildInvocation(settings, action);
    const command = [invocation.file, ...invocation.args].join(' ');
    const extraEnv = Object.entries(invocation.env)
      .map(([name, value]) => `${name}=${value}`)
      .join(' ');
    const line = `run: ${extraEnv !== '' ? `${extraEnv} ` : ''}${command}`;
    if (action === 'status') {
      this.logger.trace(line);
    } else {
      this.logger.info(line);
    }
    return new Promise<string>((resolve, reject) => {
      execFile(
        invocation.file,
        invocation.args,
        {
          env: { ...this.baseEnv, ...invocation.env },
          timeout: TIMEOUT_MS[action],
          killSignal: 'SIGTERM',
          maxBuffer: 1024 * 1024,
          windowsHide: true,
        },
        (error, stdout, stderr) => {
          if (stderr.trim() !== '') {
            for (const stderrLine of stderr.trimEnd().split('\n')) {
              if (error) {
                this.logger.warn(`litellmctl ${action}: ${stderrLine}`);
              } else {
                this.logger.debug(`litellmctl ${action}: ${stderrLine}`);
              }
            }
          }
          if (!error) {
            if (action !== 'status') {
              this.logger.info(`litellmctl ${action}: ok`);
            }
            resolve(stdout);
            return;
          }
          const failure = new ServerControlError(
            describeFailure(invocation.file, action, error, stderr, settings.remoteName ?? ''),
            command,
            stdout,
            stderr,
            typeof error.code === 'number' || typeof error.code === 'string' ? error.code : null,
          );
          reject(failure);
        },
      );
    });
  }
}

function describeFailure(
  file: string,
  action: ServerAction,
  error: Error & { code?: unknown; killed?: boolean; signal?: unknown },
  stderr: string,
  remoteName: string,
): string {
  if (error.code === 'ENOENT') {
    // In a remote window the path set in User settings is ignored, silently.
    const where =
      remoteName !== ''
        ? ' in the Remote settings (Preferences: Open Remote Settings); User settings do not apply in a remote window'
        : '';
    return `${file} not found: install litellmctl or set "vscode-litellm.litellmctlPath"${where}`;
  }
  if (error.code === 'EACCES') {
    return `${file} is not executable`;
  }
  if (error.killed === true && typeof error.signal === 'string') {
    return `litellmctl ${action} did not finish within ${TIMEOUT_MS[action] / 1000} s`;
  }
  const reason = lastLine(stderr);
  return reason !== ''
    ? `litellmctl ${action} failed: ${reason}`
    : `litellmctl ${action} failed with exit status ${String(error.code)}`;
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.at(-1) ?? '';
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').slice(0, 200);
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
