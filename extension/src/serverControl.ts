/**
 * serverControl: runs `litellmctl` (contrib/litellmctl.in) to start, stop and
 * query the server (nginx + litellm-fcgi). The extension runs `start`, `stop`
 * and, once per Start, `status --json` (for the pipe's path); the server's
 * state then arrives over the pipe (serverStatus.ts). Always execFile with an
 * argument list, never a shell. Paths of the responder and nginx binaries and the
 * system-mode knobs are passed as environment variables.
 *
 * No `vscode` import: settings arrive as a plain object.
 */
import { execFile } from 'node:child_process';

import type { Logger } from './logger';
import type { ServerHealth } from './serverStatus';
import { numberOrNull, parseHealth, stringOr } from './serverStatus';

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

/**
 * `litellmctl status --json`, camel-cased: litellmctl's process facts and
 * the responder's status document (serverStatus.ts), side by side.
 */
export interface ServerStatus extends ServerHealth {
  running: boolean;
  listen: string;
  mode: string;
  prefix: string;
  pipe: string;
  nginxPid: number | null;
  responderPid: number | null;
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
    ...parseHealth(raw),
    running: raw.running,
    listen: stringOr(raw.listen, ''),
    mode: stringOr(raw.mode, ''),
    prefix: stringOr(raw.prefix, ''),
    pipe: stringOr(raw.pipe, ''),
    nginxPid: numberOrNull(raw.nginx_pid),
    responderPid: numberOrNull(raw.responder_pid),
  };
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
