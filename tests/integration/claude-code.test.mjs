// Claude Code itself (`@anthropic-ai/claude-code`, pinned in lib/claude-code.mjs)
// against the real stack through nginx, with the test worker standing in for
// VS Code: `claude -p PROMPT --output-format json`, run sealed (a temporary
// HOME and working directory, every proxy a closed loopback port, non-essential
// traffic, telemetry and the updater off: lib/claude-code.mjs). The test
// installs Claude Code itself, once, into a cache outside the repository.
//
//   (a) a plain answer: the worker's scripted reply is Claude Code's result;
//   (b) a tool turn: the model calls Bash, Claude Code runs it, its output goes
//       back as a tool_result, and the model's answer from it is the result.
//
// What Claude Code 2.1.332 sends, which the gateway must accept (measured
// against a loopback mock on this machine, and what these tests push through
// nginx):
//   - POST /v1/messages?beta=true (the query string), stream: true, for every turn;
//     no count_tokens and no /v1/models in -p mode (discovery is opt-in:
//     CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY=1 → GET /v1/models?limit=1000
//     with anthropic-version);
//   - headers: authorization: Bearer <ANTHROPIC_AUTH_TOKEN> (or x-api-key with
//     ANTHROPIC_API_KEY), anthropic-version: 2023-06-01, anthropic-beta: a
//     list of eight betas (claude-code-20250219, interleaved-thinking-2025-05-14,
//     context-management-2025-06-27, per-turn-control-2026-07-01,
//     mid-conversation-tool-changes-2026-07-01, thinking-token-count-2026-05-13,
//     advanced-tool-use-2025-11-20, effort-2025-11-24),
//     anthropic-dangerous-direct-browser-access: true, x-app: cli,
//     x-claude-code-session-id, user-agent claude-cli/2.1.332 (external, sdk-cli),
//     x-stainless-* (timeout 600), accept: application/json (for a stream too),
//     accept-encoding: gzip, deflate, br, zstd;
//   - body: model claude-opus-5-5 (its default: a tier the gateway must map),
//     max_tokens 128000, system as an array of text blocks (the first
//     "x-anthropic-billing-header: cc_version=…", later ones with
//     cache_control ephemeral), tools (12: Agent, Bash, Edit, ListAgents, Read,
//     ReportFindings, ScheduleWakeup, Skill, ToolSearch, Workflow,
//     DeferredToolPlaceholder with defer_loading: true, Write), metadata.user_id
//     (a JSON string), thinking {type: adaptive, display: omitted},
//     context_management {edits: [clear_thinking_20251015]}, output_config
//     {effort: medium};
//   - messages: the user turn as two text blocks (a <system-reminder> block,
//     then the prompt), then a role: "system" turn (its environment: an array
//     of text blocks in the first request, a string in the next); after a tool
//     call, the assistant's tool_use block and a user turn with a tool_result
//     whose content is a string, with is_error: false and cache_control.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { CLAUDE_CODE_VERSION, ensureClaudeCode, sealedClaude } from '../lib/claude-code.mjs';
import { useStacks, writeFcgiConfig, nonce, waitUntil } from './harness.mjs';

// Claude Code's tiers mapped onto the worker's models, as the README tells users
// to (model-alias globs: every dated or future id of a tier).
const [stack] = useStacks({ before, after }, 1, ({ dir }) => [{
  ctlArgs: ['--fcgi-config', writeFcgiConfig(path.join(dir, 'claude-code.conf'), {
    'model-alias': ['claude-*opus*=claude-3.5-sonnet', 'claude-*sonnet*=claude-3.5-sonnet', 'claude-*haiku*=gpt-4o'],
  })],
}], { tag: 'lclaude' });

let claude;
// The first run on a machine installs the package (~400 MB) into the cache.
before(async () => { claude = await ensureClaudeCode(); }, { timeout: 1_800_000 });

/** The request frames (worker events) whose messages mention `marker`. */
const framesWith = (marker) => stack.worker.events.filter((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker));

/** The access log's lines of requests Claude Code made (its user agent). */
function claudeRequests() {
  return stack.logText('access.log').split('\n').filter((line) => line.includes(`ua="claude-cli/${CLAUDE_CODE_VERSION}`));
}

/** Runs `claude -p prompt --output-format json ...args` sealed against the stack; returns its JSON. */
async function print(prompt, args = [], extra = {}) {
  const sealed = sealedClaude({ bin: claude.bin, baseUrl: stack.baseUrl, token: 'unused-token', extra });
  try {
    const result = await sealed.print(prompt, args);
    assert.equal(result.code, 0, `claude exited ${result.code}: ${result.stdout.slice(-2000)} ${result.stderr.slice(-2000)}\n${stack.logs()}`);
    assert.ok(result.json, `claude printed JSON: ${result.stdout.slice(-2000)}`);
    assert.equal(result.json.is_error, false, `not an error: ${JSON.stringify(result.json).slice(0, 2000)}`);
    assert.equal(result.json.subtype, 'success');
    return result.json;
  } finally {
    sealed.cleanup();
  }
}

test(`Claude Code ${CLAUDE_CODE_VERSION} -p: a plain answer, its default model (a tier) mapped by model-alias`, async () => {
  const marker = nonce('cc');
  const before = claudeRequests().length;
  const json = await print(`Answer with the marker. [[reply:Claude Code got ${marker}]]`);
  assert.equal(json.result, `Claude Code got ${marker}`);
  assert.equal(json.num_turns, 1);
  const [frame] = framesWith(marker);
  assert.ok(frame, 'the worker received the request');
  assert.equal(frame.model, 'test/claude-3.5-sonnet', 'claude-opus-… resolved through the claude-*opus* alias');
  assert.ok(frame.tools.some((tool) => tool.function.name === 'Bash'), 'Claude Code\'s tools reached the model');
  // One streamed turn, nothing but the Messages API, every request answered 200.
  const lines = await waitUntil(() => { const l = claudeRequests().slice(before); return l.length >= 1 && l; }, 'the access log line');
  for (const line of lines) assert.match(line, /"POST \/v1\/messages\?beta=true HTTP\/1\.1" 200 /);
});

test(`Claude Code ${CLAUDE_CODE_VERSION} -p: the model calls Bash, Claude Code runs it, the model answers from its output`, async () => {
  const marker = nonce('cctool');
  // $((6*7)) only becomes 42 in a shell: the tool_result proves Claude Code ran the command.
  const script = `[[tool:Bash:${JSON.stringify({ command: `echo ${marker}-$((6*7))`, description: 'Print the marker' })}]]`;
  const json = await print(`Run the command, then answer. ${script}`, ['--allowedTools', 'Bash'], { ANTHROPIC_MODEL: 'gpt-4o' });
  assert.equal(json.result, `tool result: ${marker}-42`);
  assert.equal(json.num_turns, 2, 'two model turns: the tool call, the answer');
  assert.deepEqual(json.permission_denials, []);
  const frames = framesWith(marker);
  assert.equal(frames.length, 2, `two requests reached the worker: ${frames.length}`);
  for (const frame of frames) assert.equal(frame.model, 'test/gpt-4o', 'ANTHROPIC_MODEL named a gateway model');
  const [, second] = frames;
  const call = second.messages.find((m) => m.role === 'assistant' && m.tool_calls?.length)?.tool_calls[0];
  assert.ok(call, `the second request carries the assistant's tool call: ${JSON.stringify(second.messages.map((m) => m.role))}`);
  assert.equal(call.function.name, 'Bash');
  const result = second.messages.find((m) => m.role === 'tool');
  assert.ok(result, 'and the tool result');
  assert.equal(result.tool_call_id, call.id);
  assert.match(JSON.stringify(result.content), new RegExp(`${marker}-42`), 'the command\'s output, run by Claude Code');
});
