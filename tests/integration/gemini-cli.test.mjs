// Gemini CLI itself (issue 18, items 5, 7 and 9) against the real stack:
// `gemini -p PROMPT -m MODEL -o json` (@google/gemini-cli, pinned in
// tests/lib/gemini-cli.mjs, installed by this test into a cache outside the
// repository), sealed and headless (a temporary HOME whose settings.json pins
// the auth type and turns usage statistics, telemetry and updates off;
// proxies pointing at a closed port; GOOGLE_GEMINI_BASE_URL the gateway),
// talking to nginx through a transparent recorder (lib/codex.mjs
// recordingProxy) that keeps what the CLI sent and what the gateway answered,
// every answer validated (schema + the strict stream reader). The test worker
// stands in for VS Code; its reply scripts come from the prompt.
//
//   parser              the strict reader (lib/gemini-stream.mjs) agrees with
//                       the CLI's own bundled parser on a fake server: blank-line
//                       heartbeats pass, an SSE comment or a raw U+2028 stalls it
//   plain answer        one request, the worker's text is the CLI's response
//   tools               the model calls run_shell_command (--approval-mode yolo),
//                       the CLI runs it, the model answers from its real output;
//                       read_file (default approval mode) of a file the test wrote
//   silent model        5 s of silence: blank-line heartbeats, one request
//   errors              what the CLI does with each refusal: requests made,
//                       exit code, message (README.md, "What Gemini CLI does with each answer")
//   auto                the CLI's default model and its classifier call
//
// LITELLM_LONG_TESTS=1 adds the 5xx measurements (the CLI retries those ten
// times over about four minutes).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  nonce, repoReadme, TestWorker, longTestsSkip, useStacks, writeFcgiConfig, freePort, httpRequest, waitUntil,
} from './harness.mjs';
import { recordingProxy } from '../lib/codex.mjs';
import { ensureGeminiCli, sealedGemini, GEMINI_CLI_VERSION } from '../lib/gemini-cli.mjs';
import { readGeminiStream, streamText } from '../lib/gemini-stream.mjs';


let cli;
const recorders = new Map();
let smallWindow;
let fake = null;

before(async () => {
  cli = await ensureGeminiCli();
});

/** The recorder in front of `on`, made on first use (top-level before hooks may run before the stacks have their ports). */
async function recorderOf(on) {
  if (!recorders.has(on)) {
    assert.ok(on.port, 'the stack is started');
    recorders.set(on, await recordingProxy(on.port));
  }
  return recorders.get(on);
}

// Registered before useStacks's own: node runs after hooks in order, and the stacks'
// teardown fails on a process still attached (the small window).
after(async () => {
  await smallWindow?.stop();
  for (const recorder of recorders.values()) await recorder.close();
  await fake?.close();
});

const [stack, keyed, windowless, aliased] = useStacks({ before, after }, 4, ({ dir }) => [
  {},
  {},
  { worker: false },
  // Gemini CLI's own names mapped by globs, as a user of `auto` would.
  { ctlArgs: ['--fcgi-config', writeFcgiConfig(path.join(dir, 'aliased.conf'), { 'model-alias': ['gemini-*=gpt-4o'] })] },
], { tag: 'lgemcli' });

/** The recorded model calls (POST /v1beta/...) from index `from` on. */
const modelCalls = (recorder, from = 0) => recorder.exchanges.slice(from).filter((e) => e.method === 'POST' && e.url.startsWith('/v1beta/'));

/**
 * Runs `gemini -p PROMPT -o json --skip-trust ...args` sealed against `on`
 * (through its recorder). Returns {result, calls: the model calls it made, ms}.
 */
async function gemini(prompt, { on = stack, args = ['-m', 'gpt-4o'], apiKey, settings, timeout, setup } = {}) {
  const recorder = await recorderOf(on);
  const sealed = sealedGemini({ bin: cli.bin, baseUrl: `http://127.0.0.1:${recorder.port}`, apiKey, settings, timeout });
  try {
    await setup?.(sealed);
    const from = recorder.exchanges.length;
    const started = Date.now();
    const result = await sealed.prompt(prompt, args);
    const ms = Date.now() - started;
    await waitUntil(() => modelCalls(recorder, from).every((e) => e.done), 'the recorded exchanges to end');
    return { result, calls: modelCalls(recorder, from), ms, sealed };
  } finally {
    sealed.cleanup();
  }
}

/**
 * The README's "Use with Gemini CLI" settings.json block, parsed, after checking
 * that its shell block sets the variables the sealed run sets.
 */
function readmeSettings() {
  const readme = fs.readFileSync(repoReadme, 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Use with Gemini CLI'));
  assert.ok(section, 'README.md has a section "Use with Gemini CLI"');
  const shell = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  assert.match(shell, /^export GOOGLE_GEMINI_BASE_URL=http:\/\/localhost:4000 /m);
  assert.match(shell, /^export GEMINI_API_KEY=/m);
  const block = /```json\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'the section has a ```json block');
  const settings = JSON.parse(block[1]);
  assert.equal(settings.security?.auth?.selectedType, 'gemini-api-key', 'the auth type pinned');
  return settings;
}

const explain = ({ result, calls }) => `gemini exit ${result.code}\nstdout: ${result.stdout.slice(0, 3000)}\nstderr (tail): ${result.stderr.slice(-2500)}\n` +
  `requests: ${calls.map((e) => `${e.url} → ${e.status} ${e.responseText.slice(0, 300)}`).join('\n')}`;

test(`Gemini CLI ${GEMINI_CLI_VERSION} is installed in the cache, outside the repository, and runs sealed`, () => {
  assert.ok(!cli.dir.startsWith(path.dirname(repoReadme)), `${cli.dir} is outside the repository`);
  assert.equal(cli.version, GEMINI_CLI_VERSION);
});

// ---------------------------------------------------------------- the reader vs the CLI's own parser

test('the strict stream reader agrees with Gemini CLI\'s bundled parser: blank-line heartbeats pass; an SSE comment or a raw U+2028 in a data line fails the turn', async () => {
  const usage = { promptTokenCount: 7, candidatesTokenCount: 3, totalTokenCount: 10 };
  const stream = (heartbeat, text) => `${heartbeat}data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'agen' }] }, index: 0 }] })}\n\n` +
    `${heartbeat}data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }], usageMetadata: usage })}\n\n`;
  const cases = [
    { what: 'blank-line heartbeats', text: stream('\n\n', 't says X'), accepted: true },
    { what: 'an SSE comment heartbeat', text: stream(': keep-alive\n\n', 't says X'), accepted: false },
    { what: 'a raw U+2028 in the text', text: stream('', 't says\u2028X'), accepted: false },
  ];
  let answer = '';
  const port = await freePort();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => { res.writeHead(200, { 'content-type': 'text/event-stream' }); res.end(answer); });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  fake = { close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }) };
  for (const { what, text, accepted } of cases) {
    answer = text;
    const reader = readGeminiStream(text);
    assert.equal(reader.problems.length === 0, accepted, `the reader on ${what}: ${reader.problems.join('; ')}`);
    const sealed = sealedGemini({ bin: cli.bin, baseUrl: `http://127.0.0.1:${port}` });
    try {
      const result = await sealed.prompt('hello', ['-m', 'gemini-2.5-pro']);
      if (accepted) {
        assert.equal(result.code, 0, `${what}: ${result.stderr.slice(-1500)}`);
        assert.equal(result.json?.response, streamText(reader.frames));
      } else {
        assert.notEqual(result.code, 0, `${what}: the CLI accepted it: ${result.stdout.slice(0, 500)}`);
        assert.match(result.errorJson?.error?.message ?? result.stderr, /Incomplete JSON segment/, what);
      }
    } finally {
      sealed.cleanup();
    }
  }
  await fake.close();
  fake = null;
});

// ---------------------------------------------------------------- through the gateway

test('gemini -p with the README\'s settings.json: a plain answer through nginx, one request; what the CLI sent was accepted and reached the model', async () => {
  const marker = nonce('gcli');
  const settings = readmeSettings();
  assert.equal(settings.model.name, 'gpt-4o');
  const run = await gemini(`[[reply:gemini-answer ${marker}]]`, { args: [], settings });
  assert.equal(run.result.code, 0, explain(run));
  assert.equal(run.result.json?.response, `gemini-answer ${marker}`, explain(run));
  assert.equal(run.calls.length, 1, explain(run));
  const [call] = run.calls;
  assert.equal(call.url, '/v1beta/models/gpt-4o:streamGenerateContent?alt=sse');
  assert.equal(call.status, 200);
  assert.match(call.responseHeaders['content-type'], /^text\/event-stream/);
  const read = readGeminiStream(call.responseText);
  assert.deepEqual(read.problems, []);
  const usage = read.frames.at(-1).usageMetadata;
  // The CLI's stats are the gateway's usage (promptTokenCount is its context size).
  // (keyed by the modelVersion the gateway answered: the id of the model that served it)
  assert.equal(run.result.json.stats.models['test/gpt-4o']?.tokens?.prompt, usage.promptTokenCount, JSON.stringify(run.result.json.stats.models));

  // What Gemini CLI 0.61.0 sends, all accepted:
  assert.equal(call.headers['x-goog-api-key'], 'unused');
  assert.match(call.headers['user-agent'], new RegExp(`^GeminiCLI-tui/${GEMINI_CLI_VERSION.replaceAll('.', '\\.')}/gpt-4o `));
  assert.match(call.headers['x-goog-api-client'], /^google-genai-sdk\/1\.30\.0 /);
  const body = call.body;
  assert.deepEqual(Object.keys(body).sort(), ['contents', 'generationConfig', 'systemInstruction', 'tools']);
  assert.equal(body.contents[0].role, 'user');
  assert.equal(body.contents[0].parts.length, 2, 'session context + the prompt');
  assert.match(body.contents[0].parts[0].text, /^<session_context>/);
  assert.equal(body.tools.length, 1, 'every tool in one tools[] entry');
  assert.ok(body.tools[0].functionDeclarations.every((d) => d.parametersJsonSchema && !d.parameters), 'parametersJsonSchema, lower-case JSON Schema');
  assert.deepEqual(body.generationConfig.thinkingConfig, { includeThoughts: true });
  assert.ok(!run.result.stderr.includes('play.googleapis.com'), 'nothing tried to leave');

  // ...and what the gateway made of it for VS Code's model:
  const frame = await stack.worker.waitRequest(marker);
  assert.equal(frame.model, 'test/gpt-4o');
  const names = frame.tools.map((t) => t.function.name);
  assert.deepEqual(names.sort(), body.tools[0].functionDeclarations.map((d) => d.name).sort(), 'every declaration reached the model as a tool');
  const textOf = (content) => (typeof content === 'string' ? content : (content ?? []).map((part) => part?.text ?? '').join(''));
  const instruction = body.systemInstruction.parts[0].text;
  assert.ok(frame.messages.some((m) => textOf(m.content).includes(instruction.slice(0, 500))), 'the system instruction reached the model');
});

test('gemini -p --approval-mode yolo: the model calls run_shell_command, the CLI runs it, the model answers from its real output (two requests)', async () => {
  const marker = nonce('shell');
  const command = `echo ${marker} | tr a-z A-Z`;
  const run = await gemini(`[[tool:run_shell_command:${JSON.stringify({ command, description: 'shout the marker' })}]]`, { args: ['-m', 'gpt-4o', '--approval-mode', 'yolo'] });
  assert.equal(run.result.code, 0, explain(run));
  assert.equal(run.calls.length, 2, explain(run));
  const first = readGeminiStream(run.calls[0].responseText);
  const call = first.frames.flatMap((f) => f.candidates?.[0]?.content?.parts ?? []).find((p) => p.functionCall)?.functionCall;
  assert.equal(call?.name, 'run_shell_command', explain(run));
  assert.deepEqual(call.args, { command, description: 'shout the marker' });
  // The follow-up: the call (with the id the gateway gave it) and the CLI's functionResponse.
  const history = run.calls[1].body.contents;
  const sent = history.flatMap((c) => c.parts).find((p) => p.functionCall)?.functionCall;
  const response = history.flatMap((c) => c.parts).find((p) => p.functionResponse)?.functionResponse;
  assert.equal(sent.id, call.id, 'the CLI echoes the gateway\'s call id');
  assert.equal(response.id, call.id, 'and answers it by that id');
  assert.match(response.response.output, new RegExp(marker.toUpperCase()));
  // The model saw the real output as a tool result, and its answer is the CLI's response.
  const followUp = stack.worker.events.filter((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker)).at(-1);
  const toolMessage = followUp.messages.find((m) => m.role === 'tool');
  assert.ok(toolMessage && JSON.stringify(toolMessage).includes(marker.toUpperCase()), JSON.stringify(followUp.messages).slice(-1500));
  assert.match(run.result.json.response, new RegExp(`^tool result: [\\s\\S]*${marker.toUpperCase()}`), explain(run));
  assert.equal(run.result.json.stats.tools.byName.run_shell_command.success, 1);
});

test('gemini -p (default approval mode): the model calls read_file on a file the test wrote, the CLI reads it, the model answers from it', async () => {
  const marker = nonce('read');
  let file;
  const run = await gemini(`[[tool:read_file:${JSON.stringify({ file_path: 'note.txt' })}]] ${marker}`, {
    setup(sealed) {
      file = path.join(sealed.cwd, 'note.txt');
      fs.writeFileSync(file, `the note says ${marker}\n`);
    },
  });
  assert.equal(run.result.code, 0, explain(run));
  assert.equal(run.calls.length, 2, explain(run));
  assert.match(run.result.json.response, new RegExp(`^tool result: [\\s\\S]*the note says ${marker}`), explain(run));
  assert.equal(run.result.json.stats.tools.byName.read_file.success, 1);
});

test('gemini -p: a model silent for 5 s is kept alive by blank-line heartbeats from the head on; one request, the answer arrives', async () => {
  const marker = nonce('idle');
  const run = await gemini(`[[sleep:5000]] [[reply:awake ${marker}]]`);
  assert.equal(run.result.code, 0, explain(run));
  assert.equal(run.result.json?.response, `awake ${marker}`, explain(run));
  assert.equal(run.calls.length, 1, explain(run));
  const read = readGeminiStream(run.calls[0].responseText);
  assert.deepEqual(read.problems, []);
  assert.ok(read.heartbeats >= 2, `the silence was filled with blank lines before the first frame: ${read.heartbeats}`);
  assert.match(run.calls[0].responseText, /^\n/, 'the head went out with a heartbeat, before the first frame');
});

test('gemini -p: a model text holding U+2028 and U+2029 reaches the CLI intact (escaped in its data line)', async () => {
  const marker = nonce('sep');
  const text = `line\u2028separator\u2029paragraph ${marker}`;
  const run = await gemini(`[[reply:${text}]]`);
  assert.equal(run.result.code, 0, explain(run));
  assert.equal(run.result.json?.response, text, explain(run));
  assert.equal(run.calls.length, 1, explain(run));
});

// ---------------------------------------------------------------- errors: what the CLI does with each

/** The error the CLI printed (-o json: on stderr), its exit code and the requests it made. */
function outcome(run) {
  return { exit: run.result.code, requests: run.calls.length, statuses: run.calls.map((c) => c.status), message: run.result.errorJson?.error?.message ?? '' };
}

test('errors: a VS Code quota refusal is 429 RESOURCE_EXHAUSTED with a terminal ErrorInfo: the CLI gives up within 30 s after at most 3 quick tries, the message kept', async () => {
  const marker = nonce('quota');
  const run = await gemini(`[[error:rate_limited:You have exceeded your premium request allowance ${marker}]]`);
  const seen = outcome(run);
  assert.ok(seen.requests >= 1 && seen.requests <= 3, explain(run));
  assert.ok(seen.statuses.every((s) => s === 429), explain(run));
  assert.equal(seen.exit, 429 % 256, explain(run));
  assert.match(seen.message, new RegExp(`premium request allowance ${marker}`), explain(run));
  assert.ok(run.ms < 30_000, `gave up after ${run.ms} ms`);
  const body = JSON.parse(run.calls[0].responseText);
  assert.ok(body.error.details.some((d) => d['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo'), run.calls[0].responseText);
  console.log(`measured: quota 429 → ${seen.requests} requests, exit ${seen.exit}, ${run.ms} ms`);
});

test('errors: a wrong key is 401 UNAUTHENTICATED: one request, exit 145, the body printed', async () => {
  const added = await keyed.keys(['add', 'gemini-cli']);
  const key = /sk-litellm-[A-Za-z0-9_-]+/.exec(added.stdout)?.[0];
  assert.ok(key, added.stdout);
  await waitUntil(async () => (await httpRequest(keyed.port, { method: 'GET', path: '/v1beta/models' })).status === 401, 'the keyed stack to require its key');
  const wrong = await gemini('hello', { on: keyed, apiKey: 'sk-litellm-wrong' });
  const seen = outcome(wrong);
  assert.deepEqual([seen.requests, seen.statuses, seen.exit], [1, [401], 401 % 256], explain(wrong));
  assert.match(wrong.result.stderr, /UNAUTHENTICATED/);
  // The key it was given works (x-goog-api-key).
  const marker = nonce('key');
  const right = await gemini(`[[reply:keyed ${marker}]]`, { on: keyed, apiKey: key });
  assert.equal(right.result.code, 0, explain(right));
  assert.equal(right.result.json.response, `keyed ${marker}`);
  console.log(`measured: 401 → ${seen.requests} request, exit ${seen.exit}, ${wrong.ms} ms`);
});

test('errors: a prompt over the model\'s context is 400 INVALID_ARGUMENT before VS Code: one request, exit 144, nothing reached the model', async () => {
  smallWindow ??= await (async () => {
    const worker = new TestWorker(stack.paths.worker, ['--pipe', stack.pipe, '--label', 'small', '--models', 'gpt-small', '--max-input-tokens', '2000']);
    await worker.waitEvent((e) => e.event === 'welcome', 'the small window to be welcomed');
    await stack.waitWindows((n) => n >= 2, '/health windows >= 2');
    return worker;
  })();
  const run = await gemini(`hello ${nonce('ctx')}`, { args: ['-m', 'gpt-small'] });
  const seen = outcome(run);
  assert.deepEqual([seen.requests, seen.statuses, seen.exit], [1, [400], 400 % 256], explain(run));
  assert.equal(JSON.parse(run.calls[0].responseText).error.status, 'INVALID_ARGUMENT');
  assert.ok(!smallWindow.has((e) => e.event === 'request'), 'nothing reached the model');
  console.log(`measured: 400 → ${seen.requests} request, exit ${seen.exit}, ${run.ms} ms`);
});

test('errors: an unknown model is 404 NOT_FOUND listing the models: one request, exit 1', async () => {
  const run = await gemini('hello', { args: ['-m', 'gemini-9-ultra'] });
  const seen = outcome(run);
  assert.deepEqual([seen.requests, seen.statuses, seen.exit], [1, [404], 1], explain(run));
  assert.match(seen.message, /test\/gpt-4o/, 'the CLI shows the models the gateway lists');
  console.log(`measured: 404 → ${seen.requests} request, exit ${seen.exit}, ${run.ms} ms`);
});

test('measured: a model call that fails after the first text reaches the CLI as a data: {"error"} frame it cannot see: it retries the turn', async () => {
  const run = await gemini(`[[error-after-delta:internal]] ${nonce('late')}`);
  const seen = outcome(run);
  for (const call of run.calls) assert.deepEqual(readGeminiStream(call.responseText).problems, [], 'each stream is well formed and ends with the error frame');
  assert.ok(run.calls.every((c) => c.status === 200), explain(run));
  assert.equal(seen.requests, 4, `the CLI's mid-stream retries (4 attempts): ${explain(run)}`);
  console.log(`measured: failure after the head → ${seen.requests} requests, exit ${seen.exit}, ${run.ms} ms, response ${JSON.stringify(run.result.json?.response ?? null)}, error ${JSON.stringify(seen.message || run.result.json?.error?.message || null)}`);
});

test('long: no VS Code window (503 UNAVAILABLE) and a model call that fails before its first text (502): the CLI retries each ten times', { skip: longTestsSkip, timeout: 600_000 }, async () => {
  for (const [what, on, prompt, status] of [['503 no window', windowless, 'hello', 503], ['502 model failure', stack, `[[error:internal:scripted failure]] ${nonce('fail')}`, 502]]) {
    const run = await gemini(prompt, { on, timeout: 420_000 });
    const seen = outcome(run);
    assert.ok(seen.statuses.every((s) => s === status), explain(run));
    assert.ok(seen.requests > 1, explain(run));
    console.log(`measured: ${what} → ${seen.requests} requests, exit ${seen.exit}, ${run.ms} ms, message ${JSON.stringify(seen.message.slice(0, 200))}`);
  }
});

test('long: auto with Gemini\'s names aliased and a model that does not answer the classifier in JSON: what the CLI does', { skip: longTestsSkip, timeout: 600_000 }, async () => {
  const marker = nonce('nojson');
  const run = await gemini(`plain words, not JSON ${marker}`, { on: aliased, args: [], timeout: 420_000 });
  const classifier = run.calls.filter((c) => /:generateContent$/.test(c.url));
  const turns = run.calls.filter((c) => /:streamGenerateContent/.test(c.url));
  assert.ok(classifier.length >= 1 && classifier.every((c) => c.status === 200), explain(run));
  assert.equal(run.result.code, 0, explain(run));
  console.log(`measured: auto, aliased, a non-JSON classifier answer → ${classifier.length} classifier calls, then ${turns.map((c) => c.url.split('/').at(-1)).join(', ')}, exit ${run.result.code}, ${run.ms} ms`);
});

// ---------------------------------------------------------------- the default model `auto`

test('auto (no -m): the classifier call to gemini-3.5-flash-lite and the turn on Gemini\'s names are 404s listing the models; the CLI stops at once (exit 1)', async () => {
  const run = await gemini('hello', { args: [] });
  const seen = outcome(run);
  assert.equal(seen.exit, 1, explain(run));
  assert.match(run.calls[0].url, /^\/v1beta\/models\/gemini-3\.5-flash-lite:generateContent$/, explain(run));
  assert.equal(run.calls[0].body.generationConfig.responseMimeType, 'application/json', 'the classifier asks for JSON');
  assert.ok(seen.statuses.every((s) => s === 404), explain(run));
  assert.ok(seen.requests <= 2, explain(run));
  assert.match(seen.message, /Available models: .*test\/gpt-4o/, 'the user is told which models exist (pass -m)');
  console.log(`measured: auto without aliases → ${seen.requests} requests (${run.calls.map((c) => c.url).join(', ')}), exit ${seen.exit}, ${run.ms} ms`);
});

test('auto with model.name in settings.json: no classifier, one request to that model', async () => {
  const marker = nonce('setting');
  const run = await gemini(`[[reply:from settings ${marker}]]`, { args: [], settings: { model: { name: 'gpt-4o' } } });
  assert.equal(run.result.code, 0, explain(run));
  assert.equal(run.result.json.response, `from settings ${marker}`);
  assert.deepEqual(run.calls.map((c) => c.url), ['/v1beta/models/gpt-4o:streamGenerateContent?alt=sse']);
});

test('auto with Gemini\'s names aliased (model-alias = gemini-*=gpt-4o): the classifier call succeeds in JSON mode and the routed turn answers', async () => {
  const marker = nonce('auto');
  // The scripted model answers both calls with the same text: a JSON object, what the classifier asks for.
  const answer = JSON.stringify({ complexity_reasoning: `simple ${marker}`, complexity_score: 10 });
  const run = await gemini(`[[reply:${answer}]]`, { on: aliased, args: [] });
  assert.equal(run.result.code, 0, explain(run));
  assert.equal(run.calls.length, 2, explain(run));
  assert.match(run.calls[0].url, /^\/v1beta\/models\/gemini-3\.5-flash-lite:generateContent$/);
  assert.equal(run.calls[0].status, 200, explain(run));
  const classifier = JSON.parse(run.calls[0].responseText);
  assert.deepEqual(JSON.parse(classifier.candidates[0].content.parts[0].text), JSON.parse(answer));
  // A low score routes the turn to the flash name, which the alias serves with gpt-4o.
  assert.match(run.calls[1].url, /^\/v1beta\/models\/gemini-[^/:]*flash[^/:]*:streamGenerateContent\?alt=sse$/, explain(run));
  assert.equal(run.calls[1].status, 200);
  assert.equal(run.result.json.response, answer);
  console.log(`measured: auto with aliases → ${run.calls.map((c) => `${c.url} ${c.status}`).join(', ')}, ${run.ms} ms`);
});
