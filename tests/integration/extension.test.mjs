// The VS Code extension's REAL pipe client and model-call code against the
// real responder behind real nginx, driven by the official `openai` SDK.
//
// extension/out/harness.mjs bundles extension/src (pipeClient.ts, modelCalls.ts,
// mapping.ts, modelCatalog.ts) with the same wiring as the extension minus its
// UI (serveModels). The only double is the model: ScriptedModel stands in for
// vscode.LanguageModelChat (sendRequest/countTokens) and yields the stand-in
// LanguageModelTextPart / LanguageModelToolCallPart classes the bundled
// mapping code recognises. No pipe test worker runs in this file.
//
// Every wait is a bounded failure guard; nothing measures time.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import OpenAI, {
  APIError, BadRequestError, InternalServerError, NotFoundError, PermissionDeniedError, RateLimitError,
} from 'openai';
import { validatingFetch,
  COMMAND_GUARD_MS, Stack, httpRequest, isAlive, loadExtensionHarness, makeTempDir, nonce, rawPipeClient, waitUntil, withTimeout,
  writeFcgiConfig,
} from './harness.mjs';
import { assertStatus } from '../spec/status.mjs';

const {
  serveModels, ScriptedModel, ServerControl, silentLogger, statusView, waitOrCancel,
  LanguageModelChatMessage, LanguageModelChatMessageRole, LanguageModelChatToolMode, LanguageModelDataPart,
  LanguageModelError, LanguageModelTextPart, LanguageModelToolCallPart, LanguageModelToolResultPart,
} = await loadExtensionHarness();

// ---------------------------------------------------------------- the scripted models

/** The text parts of a stand-in message, joined. */
function textOf(message) {
  return (message?.content ?? []).filter((part) => part instanceof LanguageModelTextPart).map((part) => part.value).join('');
}

/** The text of the last User message. */
function lastUserText(messages) {
  return textOf(messages.findLast((message) => message.role === LanguageModelChatMessageRole.User));
}

/** The model's recorded calls with a message whose text contains `marker`. */
function callsWith(model, marker) {
  return model.calls.filter((call) => call.messages.some((message) => textOf(message).includes(marker)));
}

function model(family, respond) {
  return new ScriptedModel({ vendor: 'scripted', family, name: `Scripted ${family}`, maxInputTokens: 4096 }, respond);
}

/**
 * "You said:" and the words of the last user message, one part each; in
 * between, a part of a type mapping.ts does not know (shaped like a text
 * part, as a thinking part is) that must not reach the client.
 */
const echo = model('echo', async function* respond(messages) {
  yield new LanguageModelTextPart('You said:');
  yield { value: 'HIDDEN-THOUGHT' };
  for (const word of lastUserText(messages).split(' ')) yield new LanguageModelTextPart(` ${word}`);
});

/**
 * Calls get_weather (call id `call_<last user text>`) unless the conversation
 * ends with a tool result, which it then answers with.
 */
const weather = model('weather', async function* respond(messages) {
  const last = messages.at(-1);
  const result = last?.content.find((part) => part instanceof LanguageModelToolResultPart);
  if (result) {
    const text = result.content.filter((part) => part instanceof LanguageModelTextPart).map((part) => part.value).join('');
    yield new LanguageModelTextPart(`The weather (${result.callId}): ${text}`);
    return;
  }
  yield new LanguageModelTextPart('Let me look that up.');
  yield new LanguageModelToolCallPart(`call_${lastUserText(messages)}`, 'get_weather', { city: 'Paris', unit: 'celsius' });
});

/** What the hanging model saw, by the text of the request's last user message. */
const hangRecords = new Map();
/** Sends one part, then waits until its CancellationToken fires (the wait is only a guard). */
const hang = model('hang', async function* respond(messages, _options, token) {
  const record = { listenerFired: false, cancelledAfterWait: false, resumed: false };
  hangRecords.set(lastUserText(messages), record);
  token.onCancellationRequested(() => { record.listenerFired = true; });
  yield new LanguageModelTextPart('first ');
  await waitOrCancel(COMMAND_GUARD_MS, token);
  record.cancelledAfterWait = token.isCancellationRequested;
  record.resumed = true;
  yield new LanguageModelTextPart('after the abort ');
});

/** A model whose sendRequest rejects, as VS Code's does for NoPermissions/Blocked/NotFound. */
function rejecting(family, makeError) {
  const scripted = model(family, async function* respond() { /* never reached */ });
  scripted.sendRequest = function sendRequest(messages, options, token) {
    this.calls.push({ messages, options, token });
    return Promise.reject(makeError());
  };
  return scripted;
}

const deny = rejecting('deny', () => LanguageModelError.NoPermissions('the user has not granted access'));
const blocked = rejecting('blocked', () => LanguageModelError.Blocked('quota exhausted for today'));
const gone = rejecting('gone', () => LanguageModelError.NotFound('model was uninstalled'));
/** A provider failing with a plain Error inside response.stream, before any part. */
const broken = model('broken', async function* respond() {
  throw new Error('provider exploded: socket hang up');
});
/** A provider failing with a plain Error after one part. */
const brokenLate = model('broken-late', async function* respond() {
  yield new LanguageModelTextPart('partial ');
  throw new Error('provider exploded halfway');
});

/**
 * A model as VS Code reports it with the run-time `capabilities` object
 * (supportsImageToText / supportsToolCalling); it answers with what images
 * it got: "images: N <mimeType>:<bytes>:<sha256 prefix> ...".
 */
function seeing(family, supportsImageToText) {
  return new ScriptedModel({
    vendor: 'scripted', family, name: `Scripted ${family}`, maxInputTokens: 4096,
    capabilities: { supportsImageToText, supportsToolCalling: true },
  }, async function* respond(messages) {
    const last = messages.findLast((message) => message.role === LanguageModelChatMessageRole.User);
    const images = (last?.content ?? []).filter((part) => part instanceof LanguageModelDataPart);
    const described = images.map((image) =>
      `${image.mimeType}:${image.data.length}:${createHash('sha256').update(image.data).digest('hex').slice(0, 16)}`);
    yield new LanguageModelTextPart(`images: ${images.length} ${described.join(' ')}`.trim());
  });
}
const vision = seeing('vision', true);
const blind = seeing('blind', false);

const models = [echo, weather, hang, deny, blocked, gone, broken, brokenLate, vision, blind];

// ---------------------------------------------------------------- the stack and the extension's code

/** The extension's log (a Logger, as the LogOutputChannel would be). */
const logLines = [];
const logger = Object.fromEntries(['trace', 'debug', 'info', 'warn', 'error'].map((level) => [
  level, (message) => { logLines.push(`${level} ${message instanceof Error ? message.message : message}`); },
]));

const stack = new Stack();
let core;
/** Connections the pipe client made (onDidConnect): 1 at first, 2 after a responder restart, ... */
let connections = 0;
let sdk;

before(async () => {
  await stack.start({ worker: false });
  core = await serveModels({ pipePath: stack.pipe, models, logger });
  connections = 1; // serveModels resolves after the first welcome
  core.pipe.onDidConnect(() => { connections++; });
  await stack.waitWindows((n) => n === 1, '/health to count the extension as one window');
  sdk = new OpenAI({ fetch: validatingFetch, baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  core?.dispose();
  await stack.teardown();
});

/** The extension's request line (modelCalls) for a request id. */
function requestLine(id) {
  return logLines.find((line) => line.startsWith('info request ') && line.includes(` id=${id} `));
}

/** Runs fn, expects it to reject with an instance of errorClass; returns the error. */
async function expectError(fn, errorClass) {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof errorClass, `expected ${errorClass.name}, got ${err?.constructor?.name}: ${err?.message}`);
    return err;
  }
  assert.fail(`expected ${errorClass.name}, but the call succeeded`);
}

// ---------------------------------------------------------------- models

test('extension: the announced models are listed through nginx, ids vendor/family', async () => {
  const list = await sdk.models.list();
  const ids = list.data.map((entry) => entry.id).sort();
  assert.deepEqual(ids, models.map((m) => `scripted/${m.family}`).sort());
  const health = (await stack.health()).json;
  assert.equal(health.windows, 1);
  assert.equal(health.default_model, 'scripted/echo', 'the first model is the default (modelCatalog)');
});

// ---------------------------------------------------------------- text

test('extension: SDK stream (for await) of a scripted model\'s text parts, unknown parts skipped', async () => {
  const marker = nonce('stream');
  const stream = await sdk.chat.completions.create({
    model: 'echo',
    stream: true,
    messages: [
      { role: 'system', content: 'Be terse.' },
      { role: 'developer', content: 'No markdown.' },
      { role: 'user', content: `Say ${marker}` },
    ],
  });
  let content = '';
  let roles = 0;
  let contentChunks = 0;
  const finishReasons = [];
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.equal(chunk.model, 'scripted/echo');
    const choice = chunk.choices[0];
    if (!choice) continue;
    if (choice.delta.role === 'assistant') roles++;
    if (choice.delta.content) {
      content += choice.delta.content;
      contentChunks++;
    }
    if (choice.finish_reason) finishReasons.push(choice.finish_reason);
  }
  assert.equal(content, `You said: Say ${marker}`);
  assert.ok(!content.includes('HIDDEN'), 'a part of an unknown type never reaches the client');
  assert.ok(contentChunks >= 2, `one chunk per part, not one at the end (got ${contentChunks})`);
  assert.equal(roles, 1);
  assert.deepEqual(finishReasons, ['stop']);

  // What the model got: the instructions as one leading User message, then the user's.
  const [call] = callsWith(echo, marker);
  assert.ok(call, 'the scripted model was called');
  assert.equal(call.messages.length, 2);
  assert.ok(call.messages.every((message) => message instanceof LanguageModelChatMessage));
  assert.deepEqual(call.messages.map((message) => message.role),
    [LanguageModelChatMessageRole.User, LanguageModelChatMessageRole.User]);
  assert.equal(textOf(call.messages[0]), 'Be terse.\n\nNo markdown.');
  assert.equal(textOf(call.messages[1]), `Say ${marker}`);
  assert.equal(call.token.isCancellationRequested, false, 'a finished request is not cancelled');
});

test('extension: SDK non-stream completion, usage counted by the model\'s countTokens', async () => {
  const marker = nonce('usage');
  const { data: completion, response } = await sdk.chat.completions.create({
    model: 'scripted/echo',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: `Count these words ${marker}` },
    ],
    temperature: 0.25,
  }).withResponse();
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.model, 'scripted/echo');
  assert.equal(completion.choices[0].message.role, 'assistant');
  assert.equal(completion.choices[0].message.content, `You said: Count these words ${marker}`);
  assert.equal(completion.choices[0].finish_reason, 'stop');
  // ScriptedModel.countTokens counts words: the prompt is "You are terse." (3)
  // and "Count these words <marker>" (4); the reply has 6 words.
  assert.deepEqual(completion.usage && {
    prompt_tokens: completion.usage.prompt_tokens,
    completion_tokens: completion.usage.completion_tokens,
    total_tokens: completion.usage.total_tokens,
  }, { prompt_tokens: 7, completion_tokens: 6, total_tokens: 13 });

  // Counted once each: every prompt message, and the whole completion (never per chunk).
  const counted = echo.counted.filter((value) =>
    (typeof value === 'string' ? value : textOf(value)).includes(marker));
  assert.equal(counted.filter((value) => typeof value === 'string').length, 1, 'the completion is counted once');
  assert.equal(counted.find((value) => typeof value === 'string'), `You said: Count these words ${marker}`);
  assert.equal(counted.filter((value) => value instanceof LanguageModelChatMessage).length, 1,
    'the user message is counted once');

  const [call] = callsWith(echo, marker);
  assert.deepEqual(call.options.modelOptions, { temperature: 0.25 }, 'sampling options reach modelOptions');
  // The request id nginx gave the request is the one the extension logs.
  const id = response.headers.get('x-request-id');
  assert.ok(id, 'x-request-id');
  const line = await waitUntil(() => requestLine(id), `the extension's log line for request ${id}`);
  assert.match(line, / model=scripted\/echo prompt_tokens=7 completion_tokens=6 .*outcome=stop/);
  assert.ok(!line.includes(marker), 'the prompt text is not logged');
});

// ---------------------------------------------------------------- tools

test('extension: tool-call round trip (tool_calls, then the tool result answered)', async () => {
  const marker = nonce('tool');
  const tools = [{
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather of a city',
      parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] },
    },
  }];
  const messages = [{ role: 'user', content: marker }];

  // Leg 1: the model answers with a LanguageModelToolCallPart.
  const first = await sdk.chat.completions.create({ model: 'weather', messages, tools });
  const choice = first.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.role, 'assistant');
  assert.equal(choice.message.content, 'Let me look that up.');
  assert.equal(choice.message.tool_calls?.length, 1, JSON.stringify(choice.message));
  const [toolCall] = choice.message.tool_calls;
  assert.equal(toolCall.id, `call_${marker}`);
  assert.equal(toolCall.type, 'function');
  assert.equal(toolCall.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(toolCall.function.arguments), { city: 'Paris', unit: 'celsius' });

  const [call1] = callsWith(weather, marker);
  assert.deepEqual(call1.options.tools, [{
    name: 'get_weather',
    description: 'Current weather of a city',
    inputSchema: tools[0].function.parameters,
  }], 'tools -> LanguageModelChatTool');
  assert.equal(call1.options.toolMode, LanguageModelChatToolMode.Auto);

  // Leg 2: the client runs the tool and sends its result.
  messages.push(choice.message, { role: 'tool', tool_call_id: toolCall.id, content: '18 °C, light rain' });
  const second = await sdk.chat.completions.create({ model: 'weather', messages, tools, tool_choice: 'required' });
  assert.equal(second.choices[0].finish_reason, 'stop');
  assert.equal(second.choices[0].message.content, `The weather (call_${marker}): 18 °C, light rain`);
  assert.equal(second.choices[0].message.tool_calls ?? undefined, undefined);

  const call2 = callsWith(weather, marker).find((call) => call !== call1);
  assert.ok(call2, 'the model was called again with the conversation');
  assert.equal(call2.options.toolMode, LanguageModelChatToolMode.Required, 'tool_choice "required"');
  assert.deepEqual(call2.messages.map((message) => message.role), [
    LanguageModelChatMessageRole.User, LanguageModelChatMessageRole.Assistant, LanguageModelChatMessageRole.User,
  ]);
  const [assistantText, assistantCall] = call2.messages[1].content;
  assert.ok(assistantText instanceof LanguageModelTextPart);
  assert.equal(assistantText.value, 'Let me look that up.');
  assert.ok(assistantCall instanceof LanguageModelToolCallPart, 'the assistant tool call is a LanguageModelToolCallPart');
  assert.equal(assistantCall.callId, `call_${marker}`);
  assert.equal(assistantCall.name, 'get_weather');
  assert.deepEqual(assistantCall.input, { city: 'Paris', unit: 'celsius' });
  const [result] = call2.messages[2].content;
  assert.ok(result instanceof LanguageModelToolResultPart, 'the tool message is a LanguageModelToolResultPart in a User message');
  assert.equal(result.callId, `call_${marker}`);
  assert.equal(result.content.length, 1);
  assert.ok(result.content[0] instanceof LanguageModelTextPart);
  assert.equal(result.content[0].value, '18 °C, light rain');
});

test('extension: streamed tool call (SDK for await): tool_calls deltas and finish_reason tool_calls', async () => {
  const marker = nonce('stool');
  const stream = await sdk.chat.completions.create({
    model: 'weather',
    stream: true,
    messages: [{ role: 'user', content: marker }],
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
  });
  let content = '';
  const calls = [];
  const finishReasons = [];
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    content += choice.delta.content ?? '';
    for (const delta of choice.delta.tool_calls ?? []) {
      calls[delta.index] ??= { id: '', name: '', arguments: '' };
      calls[delta.index].id += delta.id ?? '';
      calls[delta.index].name += delta.function?.name ?? '';
      calls[delta.index].arguments += delta.function?.arguments ?? '';
    }
    if (choice.finish_reason) finishReasons.push(choice.finish_reason);
  }
  assert.equal(content, 'Let me look that up.');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].id, `call_${marker}`);
  assert.equal(calls[0].name, 'get_weather');
  assert.deepEqual(JSON.parse(calls[0].arguments), { city: 'Paris', unit: 'celsius' });
  assert.deepEqual(finishReasons, ['tool_calls']);
});

// ---------------------------------------------------------------- cancellation

test('extension: client abort (AbortController) fires the model\'s CancellationToken', async () => {
  const marker = nonce('abort');
  const controller = new AbortController();
  const { data: stream, response } = await sdk.chat.completions.create({
    model: 'hang',
    stream: true,
    messages: [{ role: 'user', content: marker }],
  }, { signal: controller.signal }).withResponse();
  const id = response.headers.get('x-request-id');
  let content = '';
  try {
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta?.content ?? '';
      if (content !== '') controller.abort(); // after the first chunk with text
    }
  } catch (err) {
    assert.ok(controller.signal.aborted && err instanceof Error && /abort/i.test(`${err.name} ${err.message}`),
      `only the abort ends the stream: ${err}`);
  }
  assert.equal(content, 'first ', 'the model\'s first part arrived before the abort');

  const record = hangRecords.get(marker);
  assert.ok(record, 'the model was called');
  await waitUntil(() => record.listenerFired, 'the model\'s CancellationToken to fire');
  await waitUntil(() => record.resumed, 'the model to see its wait end');
  assert.equal(record.cancelledAfterWait, true, 'token.isCancellationRequested');
  const [call] = callsWith(hang, marker);
  assert.equal(call.token.isCancellationRequested, true);

  // The responder sent `cancel` (not a lost connection): the extension logs why.
  const line = await waitUntil(() => requestLine(id), `the extension's log line for request ${id}`);
  assert.match(line, /outcome=cancelled detail="cancelled by the responder"/);
  await waitUntil(() => core.calls.activeCount === 0, 'no model call in flight');
  assert.equal(core.pipe.state, 'connected', 'the pipe connection survives a cancelled request');
});

// ---------------------------------------------------------------- errors

test('extension: LanguageModelError NoPermissions -> 403 PermissionDeniedError, code no_permissions', async () => {
  const err = await expectError(() => sdk.chat.completions.create({
    model: 'deny', messages: [{ role: 'user', content: nonce('deny') }],
  }), PermissionDeniedError);
  assert.equal(err.status, 403);
  assert.equal(err.code, 'no_permissions');
  assert.match(err.message, /the user has not granted access/, 'the model\'s reason is kept');
  assert.match(err.message, /Select Language Model|Start LM Proxy Server/, 'the message says how to grant access');
  assert.ok(err.requestID, 'x-request-id');

  // A stream fails the same way: nothing was sent yet, so the status is still 403.
  const streamErr = await expectError(() => sdk.chat.completions.create({
    model: 'deny', stream: true, messages: [{ role: 'user', content: nonce('deny-stream') }],
  }), PermissionDeniedError);
  assert.equal(streamErr.status, 403);
  assert.equal(streamErr.code, 'no_permissions');
  assert.equal(deny.calls.length, 2, 'the model was asked both times');
});

test('extension: LanguageModelError Blocked -> 429 RateLimitError; NotFound -> 404', async () => {
  const rateLimited = await expectError(() => sdk.chat.completions.create({
    model: 'blocked', messages: [{ role: 'user', content: nonce('blocked') }],
  }), RateLimitError);
  assert.equal(rateLimited.status, 429);
  assert.equal(rateLimited.code, 'rate_limit_exceeded');
  assert.match(rateLimited.message, /quota exhausted for today/);
  assert.ok(rateLimited.headers.get('retry-after'), 'Retry-After on a 429');

  const notFound = await expectError(() => sdk.chat.completions.create({
    model: 'gone', messages: [{ role: 'user', content: nonce('gone') }],
  }), NotFoundError);
  assert.equal(notFound.status, 404);
  assert.equal(notFound.code, 'model_not_found');
  assert.match(notFound.message, /model was uninstalled/);
});

test('extension: a plain Error from the model -> 502 InternalServerError, code upstream_error', async () => {
  const err = await expectError(() => sdk.chat.completions.create({
    model: 'broken', messages: [{ role: 'user', content: nonce('broken') }],
  }), InternalServerError);
  assert.equal(err.status, 502);
  assert.equal(err.code, 'upstream_error');
  assert.match(err.message, /provider exploded: socket hang up/, 'the cause\'s message is kept');

  // After a part was streamed: the status is sent, the error arrives as an SSE error event.
  const stream = await sdk.chat.completions.create({
    model: 'broken-late', stream: true, messages: [{ role: 'user', content: nonce('late') }],
  });
  let content = '';
  const late = await expectError(async () => {
    for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? '';
  }, APIError);
  assert.equal(content, 'partial ');
  assert.equal(late.code, 'upstream_error');
  assert.match(late.message, /provider exploded halfway/);
});

// ---------------------------------------------------------------- images and capabilities

/** `bytes` as a data: URL, and the description the seeing models give of it. */
function image(bytes, mimeType = 'image/png') {
  return {
    url: `data:${mimeType};base64,${bytes.toString('base64')}`,
    described: `${mimeType}:${bytes.length}:${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`,
  };
}

test('extension: image_url data: URLs reach a model with image input as LanguageModelDataPart (bytes intact)', async () => {
  const png = image(randomBytes(150_000));
  const jpeg = image(randomBytes(3), 'image/jpeg');
  const completion = await sdk.chat.completions.create({
    model: 'vision',
    messages: [{
      role: 'user',
      content: [
        { type: 'text', text: 'What are these?' },
        { type: 'image_url', image_url: { url: png.url, detail: 'high' } },
        { type: 'image_url', image_url: { url: jpeg.url } },
      ],
    }],
  });
  assert.equal(completion.choices[0].message.content, `images: 2 ${png.described} ${jpeg.described}`);
  const call = vision.calls.at(-1);
  const parts = call.messages[0].content;
  assert.ok(parts[0] instanceof LanguageModelTextPart && parts[0].value === 'What are these?');
  assert.ok(parts[1] instanceof LanguageModelDataPart && parts[2] instanceof LanguageModelDataPart, 'in order');
  // The prompt is counted with the images in it (ScriptedModel: one token a word or image).
  assert.equal(completion.usage.prompt_tokens, 3 + 2);
});

test('extension: capabilities are announced: images to a model without image input are refused with 400', async () => {
  const before = blind.calls.length;
  const png = image(randomBytes(64));
  const err = await expectError(() => sdk.chat.completions.create({
    model: 'blind',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'see?' }, { type: 'image_url', image_url: { url: png.url } }] }],
  }), BadRequestError);
  assert.equal(err.code, 'image_input_not_supported');
  assert.match(err.message, /scripted\/blind/);
  assert.equal(blind.calls.length, before, 'nothing reached the model');

  // Text alone is served; so are images to a model whose capabilities VS Code does not report.
  const text = await sdk.chat.completions.create({ model: 'blind', messages: [{ role: 'user', content: 'see?' }] });
  assert.equal(text.choices[0].message.content, 'images: 0');
  const marker = nonce('unknown-caps');
  const echoed = await sdk.chat.completions.create({
    model: 'echo',
    messages: [{ role: 'user', content: [{ type: 'text', text: marker }, { type: 'image_url', image_url: { url: png.url } }] }],
  });
  assert.equal(echoed.choices[0].message.content, `You said: ${marker}`);
  const [call] = callsWith(echo, marker);
  assert.ok(call.messages[0].content[1] instanceof LanguageModelDataPart, 'echo got the image too');
});

/** Resolves with feed.health once `predicate` holds for it: now, or at one of its changes. */
function feedReaches(feed, predicate, what) {
  if (predicate(feed.health)) return Promise.resolve(feed.health);
  let listener;
  return withTimeout(new Promise((resolve) => {
    listener = feed.onDidChange((health) => { if (predicate(health)) resolve(health); });
  }), what).finally(() => listener.dispose());
}

// ---------------------------------------------------------------- the status bar's limits, from the status frame

test('extension: the status bar tooltip shows the global limits from the responder\'s status frame (and status --json agrees)', async () => {
  const dir = makeTempDir('lt-ext');
  const config = writeFcgiConfig(path.join(dir, 'litellm-fcgi.conf'), {
    // 6 a minute: one request back every 10 s, so the three below are still counted.
    'limits-rpm': 6, 'limits-tpm': 100000, 'limits-concurrent': 8, 'limits-default-completion-tokens': 1000,
    'limits-model': 'scripted/echo:rpm=30',
  });
  const limited = new Stack();
  let served;
  try {
    await limited.start({ worker: false, ctlArgs: ['--fcgi-config', config] });
    served = await serveModels({ pipePath: limited.pipe, models: [echo], logger });
    await limited.waitWindows((n) => n === 1, '/health to count the extension');
    const client = new OpenAI({ fetch: validatingFetch, baseURL: `${limited.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
    for (const word of ['one', 'two', 'three']) {
      await client.chat.completions.create({ model: 'echo', max_tokens: 10, messages: [{ role: 'user', content: word }] });
    }

    // What the status bar shows: the status frame the responder sends when the
    // document changes (limits used are seen within its 2 s check).
    const status = await feedReaches(served.status, (h) => {
      const rate = h?.limits.find((limit) => limit.scope === 'global')?.requestsPerMinute;
      return rate !== undefined && rate.remaining === 3;
    }, 'a status frame with the three requests counted');
    assertStatus('litellmctl', (await limited.status()).json, 'status --json');

    // litellmctl status --json (what Start reads once) says the same.
    const control = new ServerControl(() => ({
      litellmctlPath: limited.paths.litellmctl, prefix: limited.prefix, host: limited.host, port: limited.port,
      mode: 'managed', responderPath: '', nginxPath: '', systemSnippetPath: '', systemReloadCommand: '',
    }), silentLogger, limited.env());
    const ctlStatus = await control.status();
    assert.equal(ctlStatus.running, true);
    assert.deepEqual(ctlStatus.limits.map((limit) => limit.scope), status.limits.map((limit) => limit.scope));
    assert.deepEqual(ctlStatus.auth, status.auth);
    assert.deepEqual(ctlStatus.limitsStore, status.limitsStore);
    const global = status.limits.find((limit) => limit.scope === 'global');
    assert.deepEqual(global?.requestsPerMinute && { limit: global.requestsPerMinute.limit, remaining: global.requestsPerMinute.remaining },
      { limit: 6, remaining: 3 }, JSON.stringify(status.limits));
    // The few tokens used come back within milliseconds at 100,000 a minute (GCRA).
    assert.equal(global.tokensPerMinute.limit, 100000);
    assert.ok(global.tokensPerMinute.remaining <= 100000 && global.tokensPerMinute.remaining > 90000,
      `tokens: ${JSON.stringify(global.tokensPerMinute)}`);
    assert.deepEqual(global.concurrent, { limit: 8, inFlight: 0 });
    assert.deepEqual(status.auth, { keys: 0, mode: 'open on loopback' });
    assert.deepEqual(status.limitsStore, { configured: 'shm', active: 'shm' });

    const { tooltip } = statusView({
      state: { kind: 'running', listen: ctlStatus.listen },
      defaultModel: { name: 'Scripted echo', id: 'scripted/echo' },
      active: 0,
      server: status,
    });
    const remaining = global.tokensPerMinute.remaining.toLocaleString('en-US');
    // Today's usage (the three requests above, without a key) closes it.
    const today = status.usageToday;
    assert.equal(today?.requests, 3, JSON.stringify(today));
    assert.ok(today.inputTokens > 0 && today.outputTokens > 0, JSON.stringify(today));
    assert.deepEqual(tooltip.split('\n').slice(2, -1), [
      `Limits: 3/6 requests, ${remaining}/100,000 tokens per minute left; 0/8 concurrent requests in flight.`,
      'Also 1 limit per model or API key (litellmctl status shows them).',
      'API keys: none; clients on a loopback address need no key.',
      `Today (UTC): 3 requests, ${today.inputTokens} input and ${today.outputTokens} output tokens, 3 premium requests.`,
    ]);
  } finally {
    served?.dispose();
    await limited.teardown();
  }
});

// ---------------------------------------------------------------- the status frame

test('extension: the responder sends each window its status document after welcome and on every change', async () => {
  // The window before() connected got the document right after its welcome.
  const first = await feedReaches(core.status, (health) => health !== undefined, 'the first status frame');
  assert.equal(first.status, 'ok');
  assert.ok(first.windows >= 1);
  assert.ok(first.models.includes('scripted/echo'), JSON.stringify(first.models));
  // It is GET /health's document, schema and all.
  const health = await httpRequest(stack.port, { path: '/health' });
  assertStatus('document', health.json, 'GET /health');
  assert.deepEqual(first.models.toSorted(), health.json.models.toSorted());

  // The frame as it is on the wire, for a peer that says hello by hand.
  const raw = rawPipeClient(stack.pipe);
  let second;
  try {
    await raw.send(`${JSON.stringify({ type: 'hello', protocol: 1, client: 'raw/0', vscode: '0', models: [], default_model: null })}\n`);
    await raw.until((c) => c.frames.some((f) => f.type === 'status'), 'a status frame after welcome');
    const types = raw.frames.map((f) => f.type);
    assert.deepEqual(types.slice(0, 2), ['welcome', 'status'], `welcome first, then status: ${types}`);
    assertStatus('frame', raw.frames[1], 'the status frame');
    const before = raw.frames[1].health.windows;

    // Another window connects: every window hears of it, without asking.
    const sibling = model('sibling', async function* respond() { yield new LanguageModelTextPart('sibling'); });
    second = await serveModels({ pipePath: stack.pipe, models: [sibling], logger });
    const joined = await feedReaches(core.status, (h) => h?.models.includes('scripted/sibling'), 'the sibling in a status frame');
    assert.equal(joined.windows, before + 1);
    await raw.until((c) => c.frames.some((f) => f.type === 'status' && f.health.models.includes('scripted/sibling')),
      'the raw window to hear of the sibling');
    assert.ok((await feedReaches(second.status, (h) => h !== undefined, 'the sibling\'s own first frame')).windows >= joined.windows);

    // It changes its models, then leaves: heard both times.
    second.setModels([]);
    await feedReaches(core.status, (h) => h !== undefined && !h.models.includes('scripted/sibling') && h.windows === before + 1,
      'the sibling\'s models gone');
    second.dispose();
    second = undefined;
    const left = await feedReaches(core.status, (h) => h?.windows === before, 'the sibling gone');
    assert.ok(!left.models.includes('scripted/sibling'));
    for (const frame of raw.frames.filter((f) => f.type === 'status')) assertStatus('frame', frame, 'each status frame');
  } finally {
    second?.dispose();
    raw.socket.destroy();
  }
});

// ---------------------------------------------------------------- responder restart and crash (last: they change the stack)

test('extension: responder restart -> the pipe client reconnects by itself and serves again', async () => {
  const before = await sdk.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'before' }] });
  assert.equal(before.choices[0].message.content, 'You said: before');
  assert.equal(connections, 1);

  const states = [];
  const watch = core.pipe.onDidChangeState((state) => { states.push(state); });
  try {
    const oldPid = await stack.stopResponder('SIGTERM');
    await waitUntil(() => core.pipe.state === 'reconnecting', 'the pipe client to notice the lost connection');

    // Meanwhile nginx answers for the missing responder.
    const down = await expectError(() => sdk.chat.completions.create({
      model: 'echo', messages: [{ role: 'user', content: 'while down' }],
    }), InternalServerError);
    assert.equal(down.status, 503);
    assert.equal(down.code, 'responder_unavailable');

    const started = await stack.ctl(['start']);
    assert.equal(started.code, 0, `litellmctl start: ${started.stderr}${started.stdout}`);
    const { json } = await stack.status();
    stack.rememberPids(json);
    assert.ok(Number.isInteger(json.responder_pid) && json.responder_pid !== oldPid && isAlive(json.responder_pid),
      `a new responder runs: ${JSON.stringify(json)}`);

    // Nothing is done to the extension's code: it reconnects on its own, with backoff.
    await waitUntil(() => connections === 2 && core.pipe.state === 'connected',
      'the pipe client to reconnect', COMMAND_GUARD_MS);
    await stack.waitWindows((n) => n === 1, '/health to count the window again');
    assert.equal(states[0], 'reconnecting', `pipe states: ${states.join(' ')}`);
    assert.equal(states.at(-1), 'connected', `pipe states: ${states.join(' ')}`);
  } finally {
    watch.dispose();
  }

  // The models were announced again in the new hello, and requests are served.
  const list = await sdk.models.list();
  assert.deepEqual(list.data.map((entry) => entry.id).sort(), models.map((m) => `scripted/${m.family}`).sort());
  const marker = nonce('again');
  const stream = await sdk.chat.completions.create({
    model: 'echo', stream: true, messages: [{ role: 'user', content: marker }],
  });
  let content = '';
  for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(content, `You said: ${marker}`);
  assert.equal(callsWith(echo, marker).length, 1);
  assert.ok(logLines.some((line) => line.startsWith('warn pipe: connection #1 lost')), 'the loss was logged');
});

test('extension: responder killed mid-stream -> the model call is cancelled (connection lost), nothing hangs', async () => {
  const marker = nonce('killed');
  const stream = await sdk.chat.completions.create({
    model: 'hang', stream: true, messages: [{ role: 'user', content: marker }],
  });
  const chunks = stream[Symbol.asyncIterator]();
  let content = '';
  while (content === '') {
    const next = await withTimeout(chunks.next(), 'the first part');
    assert.equal(next.done, false, 'the stream has the model\'s first part');
    content += next.value.choices[0]?.delta?.content ?? '';
  }
  assert.equal(content, 'first ');
  const record = hangRecords.get(marker);
  assert.ok(record, 'the model was called');

  await stack.stopResponder('SIGKILL');

  // The extension: the lost connection cancels the call (no cancel frame can come).
  await waitUntil(() => record.listenerFired, 'the model\'s CancellationToken to fire');
  await waitUntil(() => core.calls.activeCount === 0, 'no model call in flight');
  assert.ok(logLines.some((line) => line.startsWith('info request ') && line.includes('model=scripted/hang') &&
    line.includes('outcome=cancelled detail="connection lost"')), 'the extension logs the lost connection');

  // The client: its stream ends (with an error or without a finish_reason), it does not hang.
  const finishReasons = [];
  try {
    await withTimeout((async () => {
      for (;;) {
        const next = await chunks.next();
        if (next.done) return;
        content += next.value.choices[0]?.delta?.content ?? '';
        if (next.value.choices[0]?.finish_reason) finishReasons.push(next.value.choices[0].finish_reason);
      }
    })(), 'the client\'s stream to end');
  } catch (err) {
    assert.doesNotMatch(String(err?.message), /timed out/, 'the stream ended');
  }
  assert.equal(content, 'first ', 'nothing after the crash');
  assert.deepEqual(finishReasons, [], 'a cut stream is not reported as finished');

  // Back up: the same client object reconnects again.
  const started = await stack.ctl(['start']);
  assert.equal(started.code, 0, `litellmctl start: ${started.stderr}${started.stdout}`);
  stack.rememberPids((await stack.status()).json);
  await waitUntil(() => connections === 3 && core.pipe.state === 'connected', 'the pipe client to reconnect', COMMAND_GUARD_MS);
  await stack.waitWindows((n) => n === 1, '/health to count the window again');
  const after = await sdk.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'after the crash' }] });
  assert.equal(after.choices[0].message.content, 'You said: after the crash');
});
