import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ServerStatus } from '../../src/serverControl';
import { parseStatus } from '../../src/serverControl';
import { serverLines, statusView } from '../../src/statusText';

const running = { kind: 'running', listen: '127.0.0.1:4000' } as const;
const gpt4o = { name: 'GPT-4o', id: 'copilot/gpt-4o' };

/** The limit fields of a status, as `litellmctl status --json` would print them. */
function server(fields: Record<string, unknown>): ServerStatus {
  return parseStatus(JSON.stringify({ running: true, ...fields }));
}

const globalLimit = {
  scope: 'global',
  requests_per_minute: { limit: 60, remaining: 57, reset: '3s' },
  tokens_per_minute: { limit: 100000, remaining: 98970, reset: '618ms' },
  concurrent: { limit: 8, in_flight: 1 },
};
const open = { auth: { keys: 0, mode: 'open on loopback' }, limits_store: { configured: 'shm', active: 'shm' } };

describe('status bar text', () => {
  it('shows each state with its text and what to do', () => {
    assert.deepEqual(statusView({ state: { kind: 'stopped' }, active: 0 }).text, '$(debug-disconnect) LiteLLM');
    assert.match(statusView({ state: { kind: 'stopped' }, active: 0 }).tooltip, /Ctrl\+Shift\+L S/);
    assert.equal(statusView({ state: { kind: 'starting' }, active: 0 }).text, '$(loading~spin) LiteLLM: starting…');
    assert.equal(statusView({ state: { kind: 'stopping' }, active: 0 }).text, '$(loading~spin) LiteLLM: stopping…');
    const error = statusView({ state: { kind: 'error', message: 'The server is not running.' }, active: 0 });
    assert.deepEqual(error, {
      text: '$(error) LiteLLM: error',
      tooltip: 'The server is not running.\nClick for actions: Start to try again, or Show Logs for details.',
      error: true,
    });
  });

  it('running: port, default model and requests in flight; no limit lines from an older litellmctl', () => {
    const view = statusView({ state: running, defaultModel: gpt4o, active: 2, server: server({}) });
    assert.equal(view.text, '$(radio-tower) :4000 · GPT-4o · 2 active');
    assert.equal(view.error, false);
    assert.equal(
      view.tooltip,
      'VSCode LiteLLM is serving http://127.0.0.1:4000/v1 (OpenAI-compatible).\n' +
        'Default model: GPT-4o ("copilot/gpt-4o"). Requests in flight in this window: 2.\n' +
        'Click for actions: Stop, Select Language Model, Copy curl Example, Copy Claude Code Settings, Show Logs.',
    );
    assert.equal(statusView({ state: { kind: 'running', listen: '[::1]:8080' }, active: 0 }).text, '$(radio-tower) :8080 · no model · 0 active');
  });

  it('running: the global limits left, the key policy', () => {
    const view = statusView({ state: running, defaultModel: gpt4o, active: 1, server: server({ ...open, limits: [globalLimit] }) });
    assert.deepEqual(view.tooltip.split('\n'), [
      'VSCode LiteLLM is serving http://127.0.0.1:4000/v1 (OpenAI-compatible).',
      'Default model: GPT-4o ("copilot/gpt-4o"). Requests in flight in this window: 1.',
      'Limits: 57/60 requests, 98,970/100,000 tokens per minute left; 1/8 concurrent requests in flight.',
      'API keys: none; clients on a loopback address need no key.',
      'Click for actions: Stop, Select Language Model, Copy curl Example, Copy Claude Code Settings, Show Logs.',
    ]);
  });

  it('limits: each kind alone, an exhausted budget with its reset, scoped limits, none', () => {
    assert.deepEqual(
      serverLines(server({ limits: [{ scope: 'global', requests_per_minute: { limit: 60, remaining: 0, reset: '12s' } }] })),
      ['Limits: 0/60 requests per minute left (requests again in 12s).'],
    );
    assert.deepEqual(
      serverLines(server({ limits: [{ scope: 'global', tokens_per_minute: { limit: 1500000, remaining: 0, reset: '1m30s' } }] })),
      ['Limits: 0/1,500,000 tokens per minute left (tokens again in 1m30s).'],
    );
    assert.deepEqual(serverLines(server({ limits: [{ scope: 'global', concurrent: { limit: 4, in_flight: 4 } }] })), [
      'Limits: 4/4 concurrent requests in flight.',
    ]);
    assert.deepEqual(
      serverLines(server({ limits: [globalLimit, { scope: 'model gpt-4o', concurrent: { limit: 1, in_flight: 0 } }] })),
      [
        'Limits: 57/60 requests, 98,970/100,000 tokens per minute left; 1/8 concurrent requests in flight.',
        'Also 1 limit per model or API key (litellmctl status shows them).',
      ],
    );
    assert.deepEqual(
      serverLines(
        server({
          ...open,
          limits: [
            { scope: 'model gpt-4o', concurrent: { limit: 1, in_flight: 0 } },
            { scope: 'key ci on model o1', requests_per_minute: { limit: 5, remaining: 5, reset: '0s' } },
          ],
        }),
      )[0],
      'Limits: no global limit; 2 limits per model or API key (litellmctl status shows them).',
    );
    assert.deepEqual(serverLines(server({ ...open, limits: [] }))[0], 'Limits: none configured.');
    assert.deepEqual(serverLines(server({ limits: [] })), [], 'an older litellmctl: nothing');
  });

  it('warns while the Redis limits store is unreachable', () => {
    const down = server({
      limits: [globalLimit],
      auth: { keys: 2, mode: 'keys' },
      limits_store: {
        configured: 'redis://10.0.0.5:6379/0',
        active: 'shm (Redis unreachable: local fallback)',
        error: 'Connection refused',
      },
    });
    assert.deepEqual(serverLines(down), [
      'Limits: 57/60 requests, 98,970/100,000 tokens per minute left; 1/8 concurrent requests in flight.',
      'Warning: the Redis limits store is unreachable; this host enforces the limits with its local store alone (Connection refused).',
      'API keys: 2; every request needs one.',
    ]);
    const up = server({ limits: [], limits_store: { configured: 'redis://10.0.0.5:6379/0', active: 'redis' } });
    assert.deepEqual(serverLines(up), ['Limits: none configured.']);
    const downNoReason = server({ limits_store: { configured: 'redis://r:6379', active: 'shm' } });
    assert.match(serverLines(downNoReason)[1] ?? '', /^Warning: .* local store alone\.$/);
  });

  it('words the key policies', () => {
    const line = (auth: unknown): string | undefined => serverLines(server({ auth })).at(-1);
    assert.equal(line({ keys: 1, mode: 'keys' }), 'API keys: 1; every request needs one.');
    assert.equal(line({ keys: 0, mode: 'required' }), 'API keys: 0; every request needs one.');
    assert.equal(line({ keys: 3, mode: 'something new' }), 'API keys: 3 (something new).');
  });

  it("shows today's usage: totals alone without keys, then one line per key (most requests first, at most five)", () => {
    const counts = (requests: number, premium: number) =>
      ({ requests, input_tokens: requests * 100, output_tokens: requests * 10, premium_requests: premium });
    const alone = server({ ...open, usage_today: { day: '2026-12-05T00:00:00Z', ...counts(12, 14.5), keys: [{ key: '-', ...counts(12, 14.5) }] } });
    assert.equal(serverLines(alone).at(-1), 'Today (UTC): 12 requests, 1,200 input and 120 output tokens, 14.5 premium requests.');
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const keyed = server({
      auth: { keys: 7, mode: 'keys' },
      usage_today: { day: '2026-12-05T00:00:00Z', ...counts(28, 28), keys: names.map((key, i) => ({ key, ...counts(i + 1, 1) })) },
    });
    const lines = serverLines(keyed);
    assert.deepEqual(lines.slice(lines.indexOf('Today (UTC): 28 requests, 2,800 input and 280 output tokens, 28 premium requests.') + 1), [
      '  g: 7 requests, 700 input and 70 output tokens, 1 premium request',
      '  f: 6 requests, 600 input and 60 output tokens, 1 premium request',
      '  e: 5 requests, 500 input and 50 output tokens, 1 premium request',
      '  d: 4 requests, 400 input and 40 output tokens, 1 premium request',
      '  c: 3 requests, 300 input and 30 output tokens, 1 premium request',
      '  and 2 more keys (litellmctl usage lists them).',
    ]);
    const running2 = statusView({ state: running, defaultModel: gpt4o, active: 0, server: keyed });
    assert.match(running2.tooltip, /\nToday \(UTC\): 28 requests/);
    assert.ok(!serverLines(server({ ...open })).some((line) => line.startsWith('Today')), 'no usage line from an older responder');
  });
});
