/**
 * statusText: what the status bar item shows (text and tooltip) for a proxy
 * state, as pure functions: no `vscode` at run time, so the texts are
 * unit-tested. statusBar.ts puts them on the item.
 *
 * While running, the tooltip also shows the gateway's global limits from the
 * responder's last status frame (serverStatus.ts; sent on every change):
 * requests and tokens per minute left, concurrent requests in flight, a
 * warning while the Redis limits store is unreachable, and the API-key
 * policy; and today's usage (UTC): requests, tokens and premium requests,
 * per API key when keys are in use. A responder that predates limits or
 * usage has none of these fields, and they are left out.
 */
import type { ProxyState } from './proxyController';
import type { AuthStatus, LimitUse, RateUse, ServerHealth, UsageCounts, UsageToday } from './serverStatus';

/** What the tooltip reads of the status document. */
export type ServerView = Pick<ServerHealth, 'limits' | 'auth' | 'limitsStore'> & Partial<Pick<ServerHealth, 'usageToday'>>;

/** Keys listed one by one in the tooltip; the rest are counted. */
const USAGE_KEYS_SHOWN = 5;

export interface StatusViewInput {
  state: ProxyState;
  /** The default model: its name and the id it is announced under. */
  defaultModel?: { name: string; id: string } | undefined;
  /** Requests in flight in this window. */
  active: number;
  /** The responder's last status document, while running. */
  server?: ServerView | undefined;
}

export interface StatusView {
  text: string;
  tooltip: string;
  /** Shown on the error background. */
  error: boolean;
}

export function statusView(input: StatusViewInput): StatusView {
  const { state } = input;
  switch (state.kind) {
    case 'stopped':
      return {
        text: '$(debug-disconnect) LiteLLM',
        tooltip:
          'VSCode LiteLLM is stopped.\nClick for actions, or press Ctrl+Shift+L S (Cmd+Shift+L S on macOS) to start the OpenAI-compatible server.',
        error: false,
      };
    case 'starting':
      return {
        text: '$(loading~spin) LiteLLM: starting…',
        tooltip: 'VSCode LiteLLM is starting the server and connecting to it.',
        error: false,
      };
    case 'stopping':
      return {
        text: '$(loading~spin) LiteLLM: stopping…',
        tooltip: 'VSCode LiteLLM is stopping; requests in flight are finishing.',
        error: false,
      };
    case 'running': {
      const { defaultModel, active } = input;
      const lines = [
        `VSCode LiteLLM is serving http://${state.listen}/v1 (OpenAI-compatible).`,
        `Default model: ${defaultModel ? `${defaultModel.name} ("${defaultModel.id}")` : 'none'}. Requests in flight in this window: ${active}.`,
        ...(input.server ? serverLines(input.server) : []),
        'Click for actions: Stop, Select Language Model, Copy curl Example, Copy Claude Code Settings, Show Logs.',
      ];
      return {
        text: `$(radio-tower) :${portOf(state.listen)} · ${defaultModel?.name ?? 'no model'} · ${active} active`,
        tooltip: lines.join('\n'),
        error: false,
      };
    }
    case 'error':
      return {
        text: '$(error) LiteLLM: error',
        tooltip: `${state.message}\nClick for actions: Start to try again, or Show Logs for details.`,
        error: true,
      };
  }
}

/**
 * The tooltip lines about the gateway's limits, limits store and API keys,
 * e.g. "Limits: 57/60 requests, 98,970/100,000 tokens per minute left".
 * Nothing for a responder without these fields.
 */
export function serverLines(server: ServerView): string[] {
  const lines: string[] = [];
  const { limits, auth, limitsStore } = server;
  const global = limits.find((limit) => limit.scope === 'global');
  const scoped = limits.length - (global ? 1 : 0);
  const globalLine = global ? globalLimitLine(global) : undefined;
  if (globalLine !== undefined) {
    lines.push(globalLine);
  }
  if (scoped > 0) {
    const what = `${scoped} ${scoped === 1 ? 'limit' : 'limits'} per model or API key`;
    lines.push(
      globalLine !== undefined ? `Also ${what} (litellmctl status shows them).` : `Limits: no global limit; ${what} (litellmctl status shows them).`,
    );
  } else if (globalLine === undefined && (limitsStore !== null || auth !== null)) {
    // A responder that knows limits, with none configured.
    lines.push('Limits: none configured.');
  }
  if (limitsStore !== null && redisUnreachable(limitsStore.configured, limitsStore.active)) {
    lines.push(
      `Warning: the Redis limits store is unreachable; this host enforces the limits with its local store alone${
        limitsStore.error !== undefined ? ` (${limitsStore.error})` : ''
      }.`,
    );
  }
  if (auth !== null) {
    lines.push(authLine(auth));
  }
  if (server.usageToday) {
    lines.push(...usageLines(server.usageToday));
  }
  return lines;
}

/**
 * "Today (UTC): 12 requests, 3,400 input and 1,200 output tokens, 14.5
 * premium requests." and, when API keys are in use, one line per key.
 */
export function usageLines(today: UsageToday): string[] {
  const lines = [`Today (UTC): ${usageText(today)}.`];
  const keyed = today.keys.filter((entry) => entry.key !== '-');
  if (keyed.length === 0) {
    return lines;
  }
  const sorted = [...today.keys].sort((a, b) => b.requests - a.requests || a.key.localeCompare(b.key));
  for (const entry of sorted.slice(0, USAGE_KEYS_SHOWN)) {
    lines.push(`  ${entry.key === '-' ? 'no key' : entry.key}: ${usageText(entry)}`);
  }
  if (sorted.length > USAGE_KEYS_SHOWN) {
    const more = sorted.length - USAGE_KEYS_SHOWN;
    lines.push(`  and ${more} more ${more === 1 ? 'key' : 'keys'} (litellmctl usage lists them).`);
  }
  return lines;
}

function usageText(counts: UsageCounts): string {
  return (
    `${formatCount(counts.requests)} ${counts.requests === 1 ? 'request' : 'requests'}, ` +
    `${formatCount(counts.inputTokens)} input and ${formatCount(counts.outputTokens)} output tokens, ` +
    `${premiumFormat.format(counts.premiumRequests)} premium ${counts.premiumRequests === 1 ? 'request' : 'requests'}`
  );
}

/** "Limits: 57/60 requests, 98,970/100,000 tokens per minute left; 1/8 concurrent requests in flight." */
function globalLimitLine(global: LimitUse): string | undefined {
  const rates: string[] = [];
  const exhausted: string[] = [];
  const addRate = (rate: RateUse | undefined, noun: string): void => {
    if (!rate) {
      return;
    }
    rates.push(`${formatCount(rate.remaining)}/${formatCount(rate.limit)} ${noun}`);
    if (rate.remaining <= 0 && rate.reset !== '') {
      exhausted.push(`${noun} again in ${rate.reset}`);
    }
  };
  addRate(global.requestsPerMinute, 'requests');
  addRate(global.tokensPerMinute, 'tokens');
  const parts: string[] = [];
  if (rates.length > 0) {
    parts.push(`${rates.join(', ')} per minute left${exhausted.length > 0 ? ` (${exhausted.join(', ')})` : ''}`);
  }
  if (global.concurrent) {
    parts.push(`${formatCount(global.concurrent.inFlight)}/${formatCount(global.concurrent.limit)} concurrent requests in flight`);
  }
  return parts.length > 0 ? `Limits: ${parts.join('; ')}.` : undefined;
}

/** The responder's modes: `open on loopback` (no keys), `keys` (some), `required` (auth = required). */
function authLine(auth: AuthStatus): string {
  const count = formatCount(auth.keys);
  switch (auth.mode) {
    case 'open on loopback':
      return 'API keys: none; clients on a loopback address need no key.';
    case 'keys':
    case 'required':
      return `API keys: ${count}; every request needs one.`;
    default:
      return `API keys: ${count} (${auth.mode}).`;
  }
}

/** The responder reports `shm (Redis unreachable: local fallback)` as the active store. */
function redisUnreachable(configured: string, active: string): boolean {
  return /unreachable/i.test(active) || (/^rediss?:/i.test(configured) && active !== 'redis');
}

const countFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const premiumFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

function formatCount(value: number): string {
  return countFormat.format(value);
}

function portOf(listen: string): string {
  const colon = listen.lastIndexOf(':');
  return colon === -1 ? listen : listen.slice(colon + 1);
}
