// Codex CLI itself (issue 15, item 6) against the real stack: `codex exec`
// (@openai/codex, pinned in tests/lib/codex.mjs, installed by this test into
// a cache outside the repository) with the README's config.toml provider block
// ("Use with Codex CLI"), sealed (temporary HOME and CODEX_HOME, proxies
// pointing at a closed port, analytics off, --strict-config), talking to nginx
// through a transparent recorder (tests/lib/codex.mjs recordingProxy) that keeps
// what Codex sent and what the gateway answered (validated against OpenAI's
// document like every response of the suite). The test worker stands in for
// VS Code; its reply scripts come from Codex's prompt (the last user message).
//
//   plain answer        one request, the worker's text is Codex's answer
//   shell tool          gpt-4o (a model Codex has no metadata for) gets the
//                       function tool exec_command; the worker calls it, Codex
//                       runs `echo MARKER` in its read-only sandbox and sends
//                       the stateless follow-up (the whole input again, with
//                       function_call + function_call_output); the worker's
//                       answer quotes the output
//   custom tool         Codex's default model name (gpt-6.2-sol) gets its tools
//                       in an `additional_tools` input item: namespaces of
//                       custom (free-form) tools; the gateway flattens
//                       functions.exec to functions__exec taking {"input"}; the
//                       worker calls it with JavaScript that runs exec_command;
//                       Codex answers with custom_tool_call +
//                       custom_tool_call_output (an array of input_text)
//   no retry            a 400 (context_length_exceeded: a window whose model
//                       takes 2,000 tokens) reaches the gateway once
//
// What Codex 0.171.0 sent that the gateway had to accept is asserted on the
// recorded bodies below ("what Codex sends").
//
// LITELLM_LONG_TESTS=1 adds the measurement behind the README's retry table:
// how many requests Codex makes for each error the gateway can send.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  nonce, repoReadme, TestWorker, longTestsSkip, Stack, waitUntil, httpRequest,
} from './harness.mjs';
import { ensureCodex, sealedCodex, recordingProxy, CODEX_VERSION } from '../lib/codex.mjs';

// gpt-6.2-sol: the name Codex 0.171.0 uses when none is configured, served here
// so that Codex takes its own tool set (custom tools in namespaces).
const CODEX_DEFAULT_MODEL = 'gpt-6.2-sol';
const stack = new Stack(); // first: a missing binary fails here
let codex;
let recorder;
let smallWindow;

before(async () => {
  codex = await ensureCodex();
  await stack.start({ workerArgs: ['--models', `gpt-4o,claude-3.5-sonnet,${CODEX_DEFAULT_MODEL}`] });
  recorder = await recordingProxy(stack.port);
});

after(async () => {
  try {
    await smallWindow?.stop();
    await recorder?.close();
  } finally {
    await stack.teardown();
  }
});

/** The README's config.toml block of "Use with Codex CLI" (its `localhost:4000` → the recorder). */
function readmeConfig({ model } = {}) {
  const readme = fs.readFileSync(repoReadme, 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Use with Codex CLI'));
  assert.ok(section, 'README.md has a section "Use with Codex CLI"');
  const block = /```toml\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'the section has a ```toml block');
  assert.match(block[1], /base_url = "http:\/\/localhost:4000\/v1"/);
  assert.match(block[1], /wire_api = "responses"/);
  let config = block[1].replace('localhost:4000', `localhost:${recorder.port}`);
  if (model !== undefined) {
    assert.match(config, /^model = ".*"$/m);
    config = model === null ? config.replace(/^model = ".*"\n/m, '') : config.replace(/^model = ".*"$/m, `model = "${model}"`);
  }
  return config;
}

/** Runs `codex exec PROMPT` sealed with the README's block; returns {result, exchanges: the POSTs it made}. */
async function codexExec(prompt, { model, args = [], apiKey } = {}) {
  const sealed = sealedCodex({ bin: codex.bin, config: readmeConfig({ model }), apiKey });
  const before = recorder.responses().length;
  try {
    const result = await sealed.exec(prompt, args);
    return { result, exchanges: recorder.responses().slice(before), sealed };
  } finally {
    sealed.cleanup();
  }
}

const explain = ({ result, exchanges }) => `codex exit ${result.code}\nstdout: ${result.stdout}\nstderr (tail): ${result.stderr.slice(-2500)}\n` +
  `requests: ${exchanges.map((e) => `${e.status} ${e.responseText.slice(0, 300)}`).join('\n')}\n${stack.logs()}`;

/** The last message of a request frame's conversation with the given role. */
const lastOf = (messages, role) => messages.findLast((m) => m.role === role);
const textOf = (content) => (typeof content === 'string' ? content
  : Array.isArray(content) ? content.map((part) => part?.text ?? '').join('') : '');

test(`Codex ${CODEX_VERSION} is installed in the cache, outside the repository, and runs sealed`, async () => {
  assert.ok(!codex.dir.startsWith(path.dirname(repoReadme)), `${codex.dir} is outside the repository`);
  assert.equal(codex.version, CODEX_VERSION);
});

test('codex exec: a plain answer through the gateway (one request, a stream the gateway rendered, the worker\'s text)', async () => {
  const marker = nonce('codex');
  const run = await codexExec(`[[reply:codex-answer ${marker}]]`);
  assert.equal(run.result.code, 0, explain(run));
  assert.equal(run.result.lastMessage?.trim(), `codex-answer ${marker}`, explain(run));
  assert.equal(run.exchanges.length, 1, explain(run));
  const [exchange] = run.exchanges;
  assert.equal(exchange.status, 200);
  assert.match(exchange.responseHeaders['content-type'], /^text\/event-stream/);
  assert.match(exchange.responseText, /"type":"response\.completed"/);

  // What Codex sends (0.171.0, a model it has no metadata for), all accepted:
  const body = exchange.body;
  assert.equal(exchange.url, '/v1/responses');
  assert.equal(exchange.headers.authorization, 'Bearer unused');
  assert.equal(exchange.headers.originator, 'codex_exec');
  assert.match(exchange.headers['user-agent'], new RegExp(`^codex_exec/${CODEX_VERSION.replaceAll('.', '\\.')} `));
  for (const header of ['session-id', 'thread-id', 'x-client-request-id', 'x-codex-window-id', 'x-codex-turn-metadata']) {
    assert.ok(exchange.headers[header], `Codex sent ${header}`);
  }
  assert.equal(body.model, 'gpt-4o');
  assert.equal(body.stream, true);
  assert.equal(body.store, false);
  assert.equal(body.instructions, undefined, 'no instructions: the system prompt comes as developer messages');
  assert.deepEqual(body.include, ['reasoning.encrypted_content']);
  assert.equal(body.tool_choice, 'auto');
  assert.equal(body.parallel_tool_calls, true);
  assert.deepEqual(body.reasoning, { summary: 'auto' });
  assert.equal(typeof body.prompt_cache_key, 'string');
  assert.equal(typeof body.client_metadata, 'object');
  assert.deepEqual(body.input.map((item) => `${item.type}/${item.role}`), ['message/developer', 'message/developer', 'message/user', 'message/user']);
  assert.match(body.input[2].content[0].text, /^<environment_context>/);
  assert.deepEqual(body.tools.map((tool) => tool.type).sort(), [...Array(7).fill('function'), 'namespace', 'web_search'].sort());
  const functions = body.tools.filter((tool) => tool.type === 'function').map((tool) => tool.name);
  assert.ok(functions.includes('exec_command'), `Codex offers exec_command: ${functions}`);
  const namespace = body.tools.find((tool) => tool.type === 'namespace');

  // ...and what the gateway made of it for VS Code's model:
  const frame = await stack.worker.waitRequest(marker);
  assert.equal(frame.model, 'test/gpt-4o');
  const names = frame.tools.map((tool) => tool.function.name);
  for (const name of functions) assert.ok(names.includes(name), `${name} reaches the model`);
  for (const inner of namespace.tools) assert.ok(names.includes(`${namespace.name}__${inner.name}`), `${namespace.name}.${inner.name} flattened`);
  assert.equal(names.length, functions.length + namespace.tools.length, 'web_search (hosted) is not offered to the model');
  assert.equal(textOf(lastOf(frame.messages, 'user').content), `[[reply:codex-answer ${marker}]]`);
});

test('codex exec: the model calls Codex\'s shell tool (exec_command), Codex runs it, the stateless follow-up carries its output, the worker answers', async () => {
  const marker = nonce('shell');
  const run = await codexExec(`[[tool:exec_command:{"cmd":"echo ${marker}"}]]`, { args: ['--sandbox', 'read-only', '-c', 'approval_policy="never"'] });
  assert.equal(run.result.code, 0, explain(run));
  assert.equal(run.exchanges.length, 2, explain(run));
  assert.ok(run.exchanges.every((e) => e.status === 200), explain(run));
  // The first stream ends with the function call; Codex ran it.
  assert.match(run.exchanges[0].responseText, /"type":"function_call"/);
  assert.match(run.result.stdout + run.result.stderr, new RegExp(`echo ${marker}`));
  // The follow-up: the whole input again, with the call and its output (no previous_response_id).
  const second = run.exchanges[1].body;
  assert.equal(second.previous_response_id, undefined);
  const call = second.input.find((item) => item.type === 'function_call');
  const output = second.input.find((item) => item.type === 'function_call_output');
  assert.ok(call && output, `function_call and function_call_output in ${JSON.stringify(second.input.map((i) => i.type))}`);
  assert.equal(call.name, 'exec_command');
  assert.deepEqual(JSON.parse(call.arguments), { cmd: `echo ${marker}` });
  assert.equal(output.call_id, call.call_id);
  assert.match(output.output, new RegExp(`Output:\\n${marker}\\n`));
  // What the worker saw, and what Codex printed as its answer.
  const frames = stack.worker.events.filter((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker));
  const followUp = frames.at(-1);
  const toolMessage = lastOf(followUp.messages, 'tool');
  assert.ok(toolMessage, 'the output reached the model as a tool result');
  assert.match(textOf(toolMessage.content), new RegExp(marker));
  assert.match(run.result.lastMessage ?? '', new RegExp(`^tool result: [\\s\\S]*${marker}`), explain(run));
});

test('codex exec with Codex\'s own model name: additional_tools, a namespaced custom tool (functions.exec) called, run, its output (input_text parts) answered', async () => {
  const marker = nonce('custom');
  const script = `const r = await tools.exec_command({ cmd: "echo ${marker}" }); text(r);`;
  const run = await codexExec(`[[tool:functions__exec:${JSON.stringify({ input: script })}]]`, {
    model: CODEX_DEFAULT_MODEL, args: ['--sandbox', 'read-only', '-c', 'approval_policy="never"'],
  });
  assert.equal(run.result.code, 0, explain(run));
  assert.equal(run.exchanges.length, 2, explain(run));
  const first = run.exchanges[0].body;
  assert.equal(first.tools, undefined, 'no top-level tools for this model');
  const additional = first.input.find((item) => item.type === 'additional_tools');
  assert.ok(additional, 'Codex sent its tools in an additional_tools item');
  const functionsNs = additional.tools.find((tool) => tool.type === 'namespace' && tool.name === 'functions');
  assert.equal(functionsNs.tools.find((tool) => tool.name === 'exec').type, 'custom');
  assert.deepEqual(first.text, { verbosity: 'low' });
  assert.equal(first.parallel_tool_calls, false);
  // The gateway answered a custom_tool_call in Codex's namespace...
  const done = run.exchanges[0].responseText.split('\n').filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6))).find((event) => event.type === 'response.output_item.done');
  assert.equal(done.item.type, 'custom_tool_call');
  assert.equal(done.item.namespace, 'functions');
  assert.equal(done.item.name, 'exec');
  assert.equal(done.item.input, script);
  // ...Codex ran it and sent custom_tool_call + custom_tool_call_output back.
  const second = run.exchanges[1].body;
  const output = second.input.find((item) => item.type === 'custom_tool_call_output');
  assert.ok(second.input.some((item) => item.type === 'custom_tool_call'), JSON.stringify(second.input.map((i) => i.type)));
  assert.ok(Array.isArray(output.output) && output.output.every((part) => part.type === 'input_text'), JSON.stringify(output));
  assert.match(JSON.stringify(output.output), new RegExp(marker));
  assert.match(run.result.lastMessage ?? '', new RegExp(`^tool result: [\\s\\S]*${marker}`), explain(run));
});

test('codex exec: a model silent for 6 s is kept alive by the gateway\'s heartbeats (response.in_progress every 2 s) under a 3.5 s idle timeout; with 1 s, Codex gives up on the stream (control)', async () => {
  const provider = /^model_provider = "(.+)"$/m.exec(readmeConfig())[1];
  const idle = (ms) => ['-c', `model_providers.${provider}.stream_idle_timeout_ms=${ms}`,
    '-c', `model_providers.${provider}.stream_max_retries=1`];
  const marker = nonce('idle');
  const kept = await codexExec(`[[sleep:6000]] [[reply:awake ${marker}]]`, { args: idle(3500) });
  assert.equal(kept.result.code, 0, explain(kept));
  assert.equal(kept.result.lastMessage?.trim(), `awake ${marker}`);
  assert.equal(kept.exchanges.length, 1, explain(kept));
  const heartbeats = kept.exchanges[0].responseText.split('\n').filter((line) => line.startsWith('data: ') && line.includes('"type":"response.in_progress"'));
  assert.ok(heartbeats.length >= 2, `the silence was filled with response.in_progress events: ${heartbeats.length}`);

  // The control: the same silence under an idle timeout shorter than the heartbeat interval
  // (one reconnection allowed, to keep it short).
  const dropped = await codexExec(`[[sleep:6000]] [[reply:awake ${nonce('idle')}]]`, { args: idle(1000) });
  assert.notEqual(dropped.result.code, 0, explain(dropped));
  assert.equal(dropped.exchanges.length, 2, `Codex reconnected once after its idle timeout: ${explain(dropped)}`);
  assert.match(dropped.result.stderr, /idle timeout|timeout waiting|stream disconnected/i);
});

test('codex exec: a 400 the gateway sends (context_length_exceeded) is not retried: one request', async () => {
  smallWindow ??= await (async () => {
    const worker = new TestWorker(stack.paths.worker, ['--pipe', stack.pipe, '--label', 'small', '--models', 'gpt-small', '--max-input-tokens', '2000']);
    await worker.waitEvent((e) => e.event === 'welcome', 'the small window to be welcomed');
    await stack.waitWindows((n) => n >= 2, '/health windows >= 2');
    return worker;
  })();
  const run = await codexExec(`hello ${nonce('ctx')}`, { model: 'gpt-small' });
  assert.notEqual(run.result.code, 0, explain(run));
  assert.equal(run.exchanges.length, 1, `Codex retried a 400: ${explain(run)}`);
  assert.equal(run.exchanges[0].status, 400, explain(run));
  assert.match(run.exchanges[0].responseText, /context_length_exceeded/);
  assert.match(run.result.stderr, /context_length_exceeded|context window|maximum context/i);
  assert.ok(!smallWindow.has((e) => e.event === 'request'), 'nothing reached the model');
});

// ---------------------------------------------------------------- long: what Codex does with each error

/** The error a stream ended with: response.failed's error.code, an error event's code, or null. */
function streamError(text) {
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    let event;
    try { event = JSON.parse(line.slice(6)); } catch { continue; }
    if (event.type === 'response.failed') return `response.failed ${event.response?.error?.code}`;
    if (event.type === 'response.incomplete') return `response.incomplete ${event.response?.incomplete_details?.reason}`;
    if (event.type === 'error') return `error ${event.code}`;
  }
  return null;
}

/** Each error the gateway can send Codex: how it is provoked. `setup` may return an undo. */
const RETRY_CASES = [
  { what: 'prompt over the model\'s context window', model: 'gpt-small', prompt: 'hello' },
  { what: 'VS Code refused the model (no_permissions)', prompt: '[[error:no_permissions:not allowed]]' },
  { what: 'unknown model', model: 'no-such-model', prompt: 'hello' },
  { what: 'VS Code blocked the request (rate_limited)', prompt: '[[error:rate_limited:quota exceeded]]' },
  { what: 'the model failed before its first token', prompt: '[[error:internal:model exploded]]' },
  { what: 'the model failed mid-stream', prompt: '[[error-after-delta:internal]]' },
  {
    what: 'no VS Code window connected', prompt: 'hello',
    async setup() {
      await smallWindow?.stop();
      smallWindow = null;
      await stack.stopWorker();
      await stack.waitWindows((n) => n === 0, '/health windows = 0');
      return async () => { await stack.startWorker(['--models', `gpt-4o,claude-3.5-sonnet,${CODEX_DEFAULT_MODEL}`]); };
    },
  },
  {
    what: 'a reservation over the key\'s TPM (never passes)', prompt: 'hello', keyed: ['--tpm', '1000'],
  },
  { what: 'a wrong API key', prompt: 'hello', keyed: [], apiKey: 'sk-litellm-wrong' },
];

test('long: Codex\'s requests for each error the gateway sends (the README\'s retry table)', { skip: longTestsSkip, timeout: 900_000 }, async (t) => {
  smallWindow ??= new TestWorker(stack.paths.worker, ['--pipe', stack.pipe, '--label', 'small', '--models', 'gpt-small', '--max-input-tokens', '2000']);
  await smallWindow.waitEvent((e) => e.event === 'welcome', 'the small window');
  const rows = [];
  let key = null;
  for (const c of RETRY_CASES) {
    const undo = c.setup ? await c.setup() : null;
    let apiKey = c.apiKey;
    if (c.keyed) {
      if (!key) {
        const added = await stack.keys(['add', 'codex', ...c.keyed]);
        assert.equal(added.code, 0, added.stderr);
        key = added.stdout.trim();
        await waitUntil(async () => (await httpRequest(stack.port, { path: '/v1/models' })).status === 401, 'the responder to require keys');
      }
      apiKey ??= key;
    }
    const started = Date.now();
    const run = await codexExec(`${c.prompt} ${nonce('retry')}`, { model: c.model, apiKey });
    const seconds = (Date.now() - started) / 1000;
    await undo?.();
    const statuses = [...new Set(run.exchanges.map((e) => e.status))].join(', ');
    const inStream = [...new Set(run.exchanges.map((e) => streamError(e.responseText)).filter(Boolean))].join(', ');
    const codes = [...new Set(run.exchanges.map((e) => { try { return JSON.parse(e.responseText).error.code; } catch { return null; } }).filter(Boolean))].join(', ');
    const message = run.result.stderr.split('\n').filter((line) => line.startsWith('ERROR:')).at(-1) ?? '';
    rows.push(`| ${c.what} | ${statuses}${codes ? ` \`${codes}\`` : ''}${inStream ? ` → \`${inStream}\`` : ''} | ${run.exchanges.length} | ${seconds.toFixed(0)} s | ${message.replace(/\|/g, '\\|').slice(0, 160)} |`);
    t.diagnostic(rows.at(-1));
  }
  const table = ['| gateway error | status → in-stream | requests | time | Codex says |', '|---|---|---|---|---|', ...rows].join('\n');
  if (process.env.LITELLM_CODEX_RETRIES) fs.writeFileSync(process.env.LITELLM_CODEX_RETRIES, `${table}\n`);
});
