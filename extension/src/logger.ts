/**
 * logger: the logging interface the VS Code-free modules write to, and the
 * one-line-per-request format. `vscode.LogOutputChannel` satisfies Logger
 * structurally (see logs.ts); plain Node callers can pass any object with
 * these methods.
 *
 * Never log prompt or completion text at info level or above.
 */
import { inspect } from 'node:util';

export interface Logger {
  trace(message: string, ...args: unknown[]): void;
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string | Error, ...args: unknown[]): void;
}

export interface RequestLogEntry {
  id: string;
  model: string;
  promptTokens?: number;
  completionTokens?: number;
  ms: number;
  /** `stop`, `tool_calls`, `cancelled`, or an error code. */
  outcome: string;
  /** Error detail (never prompt text). */
  detail?: string;
}

/** `request id=… model=… prompt_tokens=… completion_tokens=… ms=… outcome=…` */
export function formatRequestLine(entry: RequestLogEntry): string {
  const fields = [
    `id=${entry.id}`,
    `model=${entry.model}`,
    `prompt_tokens=${entry.promptTokens ?? '-'}`,
    `completion_tokens=${entry.completionTokens ?? '-'}`,
    `ms=${Math.round(entry.ms)}`,
    `outcome=${entry.outcome}`,
  ];
  if (entry.detail !== undefined && entry.detail !== '') {
    fields.push(`detail=${JSON.stringify(entry.detail)}`);
  }
  return `request ${fields.join(' ')}`;
}

/** An error's message followed by its chain of causes. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (current instanceof Error) {
      // A wrapper often repeats its cause's message; say it once.
      const message = current.message;
      if (!parts.some((part) => part.includes(message))) {
        parts.push(message);
      }
      current = (current as { cause?: unknown }).cause;
    } else {
      parts.push(typeof current === 'string' ? current : inspect(current, { depth: 2, breakLength: Infinity }));
      break;
    }
  }
  return parts.join(' <- caused by: ');
}

/** A Logger that drops everything. */
export const silentLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
