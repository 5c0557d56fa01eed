// The OpenAI compatibility matrix of issue 7, through real nginx, with raw
// HTTP (so every byte of the reply is seen): reply bounds (stop sequences
// split across chunks, max-token cut-off), include_usage, tool calls in
// depth (streamed fragments, several calls in a turn, tool_choice, legacy
// functions), images, response_format, n, model aliases, 404 listing the
// models, GET /v1/models/{id}, x-should-retry. Every response is also
// validated against OpenAI's OpenAPI document by the harness.
//
// The worker announces gpt-4o (with image input), claude-3.5-sonnet and o1
// (without), and the responder runs with model aliases from a config file.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI, { NotFoundError } from 'openai';
import {
  Stack, makeTempDir, writeFcgiConfig, postChat, httpRequest, openStream, assertCompletion, assertStreamBody,
  sseData, openAiError, nonce, validatingFetch,
} from './harness.mjs';
import { compatibilityRows } from '../lib/compat-table.mjs';

const dir = makeTempDir('lcompat');
const config = writeFcgiConfig(path.join(dir, 'litellm-fcgi.conf'), {
  'model-alias': ['gpt-4=gpt-4o', 'sonnet=test/claude-3.5-sonnet', 'ghost=no-such-model'],
});
const stack = new Stack();
const MODELS = ['test/claude-3.5-sonnet', 'test/gpt-4o', 'test/o1'];

before(async () => {
  await stack.start({
    ctlArgs: ['--fcgi-config', config],
    workerArgs: ['--models', 'gpt-4o,claude-3.5-sonnet,o1', '--image-input', 'gpt-4o'],
  });
});
after(async () => {
  try { await stack.teardown(); } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

const ask = (content, extra = {}) => ({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...extra });
const deltas = (pieces) => `[[deltas:${JSON.stringify(pieces)}]]`;
const streamOf = async (body) => {
  const stream = await openStream(stack.port, { ...body, stream: true });
  assert.equal(stream.status, 200, stream.text());
  return stream.readToEnd();
};
const sdk = () => new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0, fetch: validatingFetch });

// ---------------------------------------------------------------- stop sequences

const STOP_CASES = [
  { name: 'inside one delta', pieces: ['Hello STOP there'], stop: 'STOP', expected: 'Hello ' },
  { name: 'split over two deltas', pieces: ['Hello ST', 'OP there'], stop: 'STOP', expected: 'Hello ' },
  { name: 'split over four deltas', pieces: ['ab', 'c<', '|', 'e', 'nd|>', 'tail'], stop: '<|end|>', expected: 'abc' },
  { name: 'the earliest of several', pieces: ['one tw', 'o three four'], stop: ['four', 'two', 'x'], expected: 'one ' },
  { name: 'a partial match that is not one, kept', pieces: ['a ST', 'ART b ST', 'OP c'], stop: 'STOP', expected: 'a START b ' },
  { name: 'at the very start', pieces: ['STO', 'P never'], stop: 'STOP', expected: '' },
  { name: 'never matched', pieces: ['no ', 'stop ', 'here'], stop: ['XYZ'], expected: 'no stop here' },
];

for (const { name, pieces, stop, expected } of STOP_CASES) {
  test(`stop ${name}: non-stream and stream cut before it, finish_reason stop`, async () => {
    const response = await postChat(stack.port, ask(deltas(pieces), { stop }));
    assert.equal(response.status, 200, response.text);
    const choice = assertCompletion(assert, response.json);
    assert.equal(choice.message.content, expected);
    assert.equal(choice.finish_reason, 'stop');
    const { content, finishReason, chunks } = assertStreamBody(assert, await streamOf(ask(deltas(pieces), { stop })));
    assert.equal(content, expected, `streamed content: ${JSON.stringify(chunks)}`);
    assert.equal(finishReason, 'stop');
    for (const s of [stop].flat()) {
      if (!pieces.join('').includes(s)) continue;
      for (const chunk of chunks) {
        assert.ok(!(chunk.choices[0]?.delta?.content ?? '').includes(s), 'no chunk carries the stop text');
      }
    }
  });
}

test('stop: the model call is cancelled once the stop sequence is seen', async () => {
  const marker = nonce('stopcancel');
  const stream = await openStream(stack.port, ask(`[[slow:20:200]] ${marker}`, { stream: true, stop: 's3 ' }));
  const request = await stack.worker.waitRequest(marker);
  const { content, finishReason } = assertStreamBody(assert, await stream.readToEnd());
  assert.equal(content, 's1 s2 ');
  assert.equal(finishReason, 'stop');
  await stack.worker.waitEvent((e) => e.event === 'cancel' && e.id === request.id, 'a cancel frame after the stop sequence');
});

test('stop: more than 4 sequences, or not strings → 400 naming stop', async () => {
  for (const stop of [['a', 'b', 'c', 'd', 'e'], [1], { s: 'x' }]) {
    const error = openAiError(assert, await postChat(stack.port, ask('hi', { stop })), 400);
    assert.equal(error.param, 'stop');
  }
});

// ---------------------------------------------------------------- max tokens

for (const field of ['max_tokens', 'max_completion_tokens']) {
  test(`${field}: the reply is cut with finish_reason length (non-stream and stream), usage within the cap`, async () => {
    const full = Array.from({ length: 60 }, (_, i) => `c${i + 1} `).join('');
    const response = await postChat(stack.port, ask('[[chunks:60]]', { [field]: 3 }));
    assert.equal(response.status, 200, response.text);
    const choice = assertCompletion(assert, response.json);
    assert.equal(choice.finish_reason, 'length');
    assert.ok(choice.message.content.length > 0 && full.startsWith(choice.message.content) && choice.message.content.length < full.length,
      `a non-empty prefix of the reply: ${JSON.stringify(choice.message.content)}`);
    assert.ok(response.json.usage.completion_tokens <= 3, JSON.stringify(response.json.usage));
    const text = await streamOf(ask('[[chunks:60]]', { [field]: 3, stream_options: { include_usage: true } }));
    const { content, finishReason, chunks } = assertStreamBody(assert, text);
    assert.equal(finishReason, 'length');
    assert.ok(content.length > 0 && full.startsWith(content) && content.length < full.length, `a prefix: ${JSON.stringify(content)}`);
    assert.ok(chunks.at(-1).usage.completion_tokens <= 3, JSON.stringify(chunks.at(-1).usage));
  });
}

test('max_tokens: the model call is cancelled at the cap', async () => {
  const marker = nonce('capcancel');
  const stream = await openStream(stack.port, ask(`[[slow:20:200]] ${marker}`, { stream: true, max_tokens: 2 }));
  const request = await stack.worker.waitRequest(marker);
  assert.equal(assertStreamBody(assert, await stream.readToEnd()).finishReason, 'length');
  await stack.worker.waitEvent((e) => e.event === 'cancel' && e.id === request.id, 'a cancel frame at the token cap');
});

test('max_tokens 0, negative or fractional → 400 naming the parameter', async () => {
  for (const [field, value] of [['max_tokens', 0], ['max_completion_tokens', -5], ['max_tokens', 2.5]]) {
    const error = openAiError(assert, await postChat(stack.port, ask('hi', { [field]: value })), 400);
    assert.equal(error.param, field);
  }
});

// ---------------------------------------------------------------- usage

test('include_usage: every chunk has usage null, then one last chunk with choices [] and the usage, then [DONE]', async () => {
  const text = await streamOf(ask('[[chunks:3]]', { stream_options: { include_usage: true } }));
  const events = sseData(text);
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1);
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, [], 'the usage chunk has no choices');
  for (const key of ['prompt_tokens', 'completion_tokens', 'total_tokens']) assert.ok(Number.isInteger(last.usage[key]) && last.usage[key] >= 0, key);
  assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens);
  assert.ok(last.usage.completion_tokens > 0);
  for (const chunk of chunks.slice(0, -1)) {
    assert.ok('usage' in chunk && chunk.usage === null, `usage: null on every earlier chunk: ${JSON.stringify(chunk)}`);
    assert.equal(chunk.choices.length, 1);
  }
  assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop', 'finish_reason on the chunk before the usage chunk');
});

test('include_usage also after a tool call and after a stop cut', async () => {
  for (const body of [
    ask('[[tool:get_weather:{"city":"Oslo"}]]', { tools: TOOLS, stream_options: { include_usage: true } }),
    ask(deltas(['x STOP y']), { stop: 'STOP', stream_options: { include_usage: true } }),
  ]) {
    const chunks = sseData(await streamOf(body)).slice(0, -1);
    assert.deepEqual(chunks.at(-1).choices, []);
    assert.ok(chunks.at(-1).usage.total_tokens > 0);
  }
});

test('without include_usage no chunk carries usage; a non-stream reply always does', async () => {
  const chunks = sseData(await streamOf(ask('[[chunks:2]]'))).slice(0, -1);
  for (const chunk of chunks) assert.ok(chunk.usage == null, `no usage: ${JSON.stringify(chunk)}`);
  const plain = await streamOf(ask('[[chunks:2]]', { stream_options: { include_usage: false } }));
  for (const chunk of sseData(plain).slice(0, -1)) assert.ok(chunk.usage == null);
  const response = await postChat(stack.port, ask('usage please'));
  assertCompletion(assert, response.json);
});

// ---------------------------------------------------------------- tools

const TOOLS = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
  { type: 'function', function: { name: 'get_time', description: 'Time in a zone', parameters: { type: 'object', properties: { zone: { type: 'string' } } } } },
];
const TWO_CALLS = '[[tools:[{"name":"get_weather","arguments":{"city":"Paris"}},{"name":"get_time","arguments":{"zone":"CET"}}]]]';

test('streamed tool call: a first fragment with index, id, type, function.name and arguments "", then argument fragments', async () => {
  const { chunks, toolCalls, finishReason } = assertStreamBody(assert, await streamOf(ask('[[tool:get_weather:{"city":"Paris"}]]', { tools: TOOLS })));
  assert.equal(finishReason, 'tool_calls');
  const fragments = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
  assert.ok(fragments.length >= 2, `a name fragment and argument fragments: ${JSON.stringify(fragments)}`);
  const [first, ...rest] = fragments;
  assert.equal(first.index, 0);
  assert.match(first.id, /^call_/);
  assert.equal(first.type, 'function');
  assert.equal(first.function.name, 'get_weather');
  assert.equal(first.function.arguments, '', 'the first fragment carries arguments ""');
  for (const fragment of rest) {
    assert.equal(fragment.index, 0);
    assert.equal(fragment.id, undefined, 'only the first fragment has the id');
    assert.equal(fragment.type, undefined, 'only the first fragment has the type');
    assert.equal(fragment.function?.name, undefined, 'only the first fragment has the name');
    assert.equal(typeof fragment.function.arguments, 'string');
  }
  assert.deepEqual(JSON.parse(toolCalls[0].function.arguments), { city: 'Paris' });
  const content = chunks.map((c) => c.choices[0]?.delta?.content).filter((x) => x);
  assert.deepEqual(content, [], 'no text in a tool-call-only reply');
});

test('several tool calls in one turn: non-stream tool_calls[2], content null; stream indexes 0 and 1', async () => {
  const response = await postChat(stack.port, ask(TWO_CALLS, { tools: TOOLS }));
  assert.equal(response.status, 200, response.text);
  const choice = assertCompletion(assert, response.json);
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, null, 'content null when the reply is only tool calls');
  assert.deepEqual(choice.message.tool_calls.map((c) => c.function.name), ['get_weather', 'get_time']);
  assert.equal(new Set(choice.message.tool_calls.map((c) => c.id)).size, 2, 'distinct ids');
  assert.deepEqual(JSON.parse(choice.message.tool_calls[1].function.arguments), { zone: 'CET' });

  const { chunks, toolCalls } = assertStreamBody(assert, await streamOf(ask(TWO_CALLS, { tools: TOOLS })));
  assert.deepEqual(toolCalls.map((c) => c.function.name), ['get_weather', 'get_time']);
  assert.deepEqual(toolCalls.map((c) => JSON.parse(c.function.arguments)), [{ city: 'Paris' }, { zone: 'CET' }]);
  const firsts = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).filter((f) => f.id);
  assert.deepEqual(firsts.map((f) => f.index), [0, 1], 'each call opens with its own index');
});

test('round trip with several calls in one turn: both results reach the model, in order, with their ids', async () => {
  const marker = nonce('multi');
  const first = await postChat(stack.port, ask(`${TWO_CALLS} ${marker}`, { tools: TOOLS }));
  const calls = first.json.choices[0].message.tool_calls;
  const messages = [
    { role: 'user', content: `${TWO_CALLS} ${marker}` },
    { role: 'assistant', content: null, tool_calls: calls },
    { role: 'tool', tool_call_id: calls[0].id, content: '21 C' },
    { role: 'tool', tool_call_id: calls[1].id, content: '14:05' },
  ];
  const second = await postChat(stack.port, { model: 'gpt-4o', messages, tools: TOOLS });
  assert.equal(second.status, 200, second.text);
  assert.equal(assertCompletion(assert, second.json).message.content, 'tool results: 21 C | 14:05');
  const frame = await stack.worker.waitEvent((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker) &&
    e.messages.some((m) => m.role === 'tool'), 'the round-trip request frame');
  assert.deepEqual(frame.messages.map((m) => m.role), ['user', 'assistant', 'tool', 'tool']);
  assert.deepEqual(frame.messages[1].tool_calls.map((c) => c.id), calls.map((c) => c.id));
  assert.deepEqual(frame.messages.slice(2).map((m) => m.tool_call_id), calls.map((c) => c.id));
});

test('tool_choice: none sends no tools; auto and required are passed; a named function → only it, required', async () => {
  const frameFor = async (toolChoice, extra = {}) => {
    const marker = nonce('tc');
    const response = await postChat(stack.port, ask(`hello ${marker}`, { tools: TOOLS, tool_choice: toolChoice, ...extra }));
    assert.equal(response.status, 200, response.text);
    return stack.worker.waitRequest(marker);
  };
  const none = await frameFor('none');
  assert.ok(!none.tools || none.tools.length === 0, `no tools with tool_choice none: ${JSON.stringify(none.tools)}`);
  const auto = await frameFor('auto');
  assert.deepEqual(auto.tools.map((t) => t.function.name), ['get_weather', 'get_time']);
  const required = await frameFor('required');
  assert.equal(required.tool_choice, 'required');
  assert.equal(required.tools.length, 2);
  const named = await frameFor({ type: 'function', function: { name: 'get_time' } });
  assert.equal(named.tool_choice, 'required');
  assert.deepEqual(named.tools.map((t) => t.function.name), ['get_time']);
  const parallel = await frameFor('auto', { parallel_tool_calls: false });
  assert.equal(parallel.tools.length, 2, 'parallel_tool_calls is accepted');
});

test('tool_choice naming a function that is not in tools → 400 naming tool_choice', async () => {
  const response = await postChat(stack.port, ask('hi', { tools: TOOLS, tool_choice: { type: 'function', function: { name: 'nope' } } }));
  assert.equal(openAiError(assert, response, 400).param, 'tool_choice');
});

// ---------------------------------------------------------------- legacy functions / function_call

const FUNCTIONS = TOOLS.map((t) => t.function);

test('legacy functions: non-stream reply has message.function_call and finish_reason function_call', async () => {
  const marker = nonce('legacy');
  const response = await postChat(stack.port, ask(`[[tool:get_weather:{"city":"Rome"}]] ${marker}`, { functions: FUNCTIONS }));
  assert.equal(response.status, 200, response.text);
  const choice = assertCompletion(assert, response.json);
  assert.equal(choice.finish_reason, 'function_call');
  assert.equal(choice.message.tool_calls, undefined, 'no tool_calls in the legacy shape');
  assert.equal(choice.message.function_call.name, 'get_weather');
  assert.deepEqual(JSON.parse(choice.message.function_call.arguments), { city: 'Rome' });
  const frame = await stack.worker.waitRequest(marker);
  assert.deepEqual(frame.tools.map((t) => [t.type, t.function.name]), [['function', 'get_weather'], ['function', 'get_time']]);
});

test('legacy functions: a stream sends delta.function_call (name, then arguments) and finish_reason function_call', async () => {
  const { chunks, finishReason } = assertStreamBody(assert, await streamOf(ask('[[tool:get_weather:{"city":"Rome"}]]', { functions: FUNCTIONS })));
  assert.equal(finishReason, 'function_call');
  const parts = chunks.map((c) => c.choices[0]?.delta?.function_call).filter(Boolean);
  assert.ok(parts.length >= 1, JSON.stringify(chunks));
  assert.equal(parts[0].name, 'get_weather');
  assert.deepEqual(JSON.parse(parts.map((p) => p.arguments ?? '').join('')), { city: 'Rome' });
  assert.ok(chunks.every((c) => !c.choices[0]?.delta?.tool_calls), 'no tool_calls deltas in the legacy shape');
});

test('legacy function_call {name} → only that function, required; history with function_call and role function maps to tool calls', async () => {
  const marker = nonce('legacyhist');
  const messages = [
    { role: 'user', content: `[[tool:get_weather:{"city":"Rome"}]] ${marker}` },
    { role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
    { role: 'function', name: 'get_weather', content: 'sunny' },
  ];
  const response = await postChat(stack.port, { model: 'gpt-4o', messages, functions: FUNCTIONS, function_call: { name: 'get_weather' } });
  assert.equal(response.status, 200, response.text);
  assert.equal(assertCompletion(assert, response.json).message.content, 'tool result: sunny');
  const frame = await stack.worker.waitRequest(marker);
  assert.equal(frame.tool_choice, 'required');
  assert.deepEqual(frame.tools.map((t) => t.function.name), ['get_weather']);
  assert.deepEqual(frame.messages.map((m) => m.role), ['user', 'assistant', 'tool']);
  const call = frame.messages[1].tool_calls[0];
  assert.equal(call.function.name, 'get_weather');
  assert.equal(frame.messages[2].tool_call_id, call.id, 'the function result answers that call');
});

test('legacy function_call "none" sends no functions', async () => {
  const marker = nonce('legacynone');
  const response = await postChat(stack.port, ask(`hi ${marker}`, { functions: FUNCTIONS, function_call: 'none' }));
  assert.equal(response.status, 200, response.text);
  const frame = await stack.worker.waitRequest(marker);
  assert.ok(!frame.tools || frame.tools.length === 0, JSON.stringify(frame.tools));
});

// ---------------------------------------------------------------- content: images, developer, name

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const withImage = (url, model = 'gpt-4o', extra = {}) => ({
  model,
  messages: [{ role: 'user', content: [{ type: 'text', text: `[[images]] ${extra.marker ?? ''}` }, { type: 'image_url', image_url: { url, detail: 'low' } }] }],
  ...extra.body,
});

test('images: a data: URL reaches a model with image input unchanged (non-stream and stream)', async () => {
  const marker = nonce('img');
  const response = await postChat(stack.port, withImage(PNG, 'gpt-4o', { marker }));
  assert.equal(response.status, 200, response.text);
  assert.equal(assertCompletion(assert, response.json).message.content, 'images: 1 image/png');
  const frame = await stack.worker.waitRequest(marker);
  const part = frame.messages[0].content.find((p) => p.type === 'image_url');
  assert.equal(part.image_url.url, PNG, 'the data: URL is passed through byte for byte');
  const { content } = assertStreamBody(assert, await streamOf(withImage(PNG)));
  assert.equal(content, 'images: 1 image/png');
});

test('images: a remote URL → 400 naming the part, and nothing reaches the model', async () => {
  const marker = nonce('remote');
  const response = await postChat(stack.port, withImage('https://images.invalid/cat.png', 'gpt-4o', { marker }));
  const error = openAiError(assert, response, 400);
  assert.equal(error.type, 'invalid_request_error');
  assert.match(String(error.param), /^messages\[0\]\.content\[1\]/);
  assert.match(error.message, /data:/, 'the message says what is accepted');
  assert.ok(!stack.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker)));
});

test('images: a data: URL that is not an image → 400', async () => {
  const response = await postChat(stack.port, withImage('data:text/plain;base64,aGVsbG8=', 'gpt-4o'));
  assert.match(String(openAiError(assert, response, 400).param), /^messages\[0\]\.content\[1\]/);
});

test('images: a model without image input → 400 with x-should-retry: false, nothing reaches the model', async () => {
  for (const model of ['claude-3.5-sonnet', 'o1']) {
    const marker = nonce('noimg');
    const response = await postChat(stack.port, withImage(PNG, model, { marker }));
    const error = openAiError(assert, response, 400);
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.message, new RegExp(model.replace('.', '\\.')), 'the message names the model');
    assert.equal(response.headers['x-should-retry'], 'false');
    assert.ok(!stack.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker)));
  }
});

test('developer role and message names reach the model', async () => {
  const marker = nonce('dev');
  const response = await postChat(stack.port, {
    model: 'gpt-4o',
    messages: [{ role: 'developer', content: 'be brief' }, { role: 'user', name: 'alice', content: `hi ${marker}` }],
  });
  assert.equal(response.status, 200, response.text);
  const frame = await stack.worker.waitRequest(marker);
  assert.deepEqual(frame.messages.map((m) => m.role), ['developer', 'user']);
  assert.equal(frame.messages[1].name, 'alice');
});

// ---------------------------------------------------------------- response_format, n

test('response_format json_object: an instruction reaches the model; a fenced JSON reply is unwrapped (non-stream)', async () => {
  const marker = nonce('json');
  const response = await postChat(stack.port, ask(`[[reply:\`\`\`json\n{"ok": true}\n\`\`\`]] ${marker}`, { response_format: { type: 'json_object' } }));
  assert.equal(response.status, 200, response.text);
  assert.deepEqual(JSON.parse(assertCompletion(assert, response.json).message.content), { ok: true });
  const frame = await stack.worker.waitRequest(marker);
  assert.ok(frame.messages.some((m) => m.role === 'system' && /JSON/.test(m.content)), `a JSON instruction: ${JSON.stringify(frame.messages)}`);
});

test('response_format json_schema: the schema is in the instruction; valid JSON passes unchanged', async () => {
  const marker = nonce('schema');
  const schema = { type: 'object', properties: { answer: { type: 'integer' } }, required: ['answer'] };
  const response = await postChat(stack.port, ask(`[[reply:{"answer": 42}]] ${marker}`, {
    response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
  }));
  assert.equal(response.status, 200, response.text);
  assert.equal(assertCompletion(assert, response.json).message.content, '{"answer": 42}');
  const frame = await stack.worker.waitRequest(marker);
  const instruction = frame.messages.find((m) => m.role === 'system');
  assert.ok(instruction && instruction.content.includes(JSON.stringify(schema)), `the schema in the instruction: ${JSON.stringify(frame.messages)}`);
});

test('response_format text is accepted; an unknown type → 400 naming response_format', async () => {
  assert.equal((await postChat(stack.port, ask('plain', { response_format: { type: 'text' } }))).status, 200);
  const error = openAiError(assert, await postChat(stack.port, ask('x', { response_format: { type: 'yaml' } })), 400);
  assert.match(String(error.param), /^response_format/);
});

test('n > 1 → 400 naming n; n = 1 is fine', async () => {
  const error = openAiError(assert, await postChat(stack.port, ask('hi', { n: 2 })), 400);
  assert.equal(error.param, 'n');
  assert.equal(error.type, 'invalid_request_error');
  assert.equal((await postChat(stack.port, ask('hi', { n: 1 }))).status, 200);
});

// ---------------------------------------------------------------- models: aliases, 404, GET /v1/models/{id}

for (const [alias, expected] of [['gpt-4', 'test/gpt-4o'], ['sonnet', 'test/claude-3.5-sonnet']]) {
  test(`alias ${alias} (model-alias in the config) → ${expected}`, async () => {
    const response = await postChat(stack.port, { model: alias, messages: [{ role: 'user', content: '[[model]]' }] });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.choices[0].message.content, expected);
    const { content } = assertStreamBody(assert, await streamOf({ model: alias, messages: [{ role: 'user', content: '[[model]]' }] }));
    assert.equal(content, expected);
  });
}

test('GET /v1/models/{alias} answers the model the alias names', async () => {
  const response = await httpRequest(stack.port, { path: '/v1/models/gpt-4' });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.id, 'test/gpt-4o');
});

test('an alias to a model nobody offers → 404 model_not_found naming the alias and listing the models', async () => {
  const error = openAiError(assert, await postChat(stack.port, { model: 'ghost', messages: [{ role: 'user', content: 'hi' }] }), 404);
  assert.equal(error.code, 'model_not_found');
  assert.match(error.message, /ghost/);
  for (const id of MODELS) assert.ok(error.message.includes(id.split('/')[1]), `lists ${id}: ${error.message}`);
});

test('unknown model → 404 model_not_found (param model) listing every available model, for stream requests too', async () => {
  for (const stream of [false, true]) {
    const response = await postChat(stack.port, { model: 'gpt-17-turbo', stream, messages: [{ role: 'user', content: 'hi' }] });
    const error = openAiError(assert, response, 404);
    assert.equal(error.code, 'model_not_found');
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.param, 'model');
    assert.match(error.message, /gpt-17-turbo/);
    for (const id of MODELS) assert.ok(error.message.includes(id.split('/')[1]), `lists ${id}: ${error.message}`);
  }
  const err = await sdk().chat.completions.create({ model: 'gpt-17-turbo', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
  assert.ok(err instanceof NotFoundError, `NotFoundError, got ${err}`);
  assert.equal(err.code, 'model_not_found');
});

test('GET /v1/models/{id}: by id, by family, without /v1; unknown → 404 model_not_found', async () => {
  for (const urlPath of ['/v1/models/test/gpt-4o', '/v1/models/gpt-4o', '/models/test/claude-3.5-sonnet', '/v1/models/test%2Fo1']) {
    const response = await httpRequest(stack.port, { path: urlPath });
    assert.equal(response.status, 200, `${urlPath}: ${response.text}`);
    assert.equal(response.json.object, 'model');
    assert.ok(MODELS.includes(response.json.id), response.text);
    assert.equal(typeof response.json.owned_by, 'string');
    assert.ok(Number.isInteger(response.json.created));
  }
  const missing = await httpRequest(stack.port, { path: '/v1/models/no-such-model' });
  const error = openAiError(assert, missing, 404);
  assert.equal(error.code, 'model_not_found');
});

test('GET /v1/models/{id} through the SDK (models.retrieve, which escapes the slash)', async () => {
  const model = await sdk().models.retrieve('test/gpt-4o');
  assert.equal(model.id, 'test/gpt-4o');
  assert.equal(model.object, 'model');
  const err = await sdk().models.retrieve('no-such-model').catch((e) => e);
  assert.ok(err instanceof NotFoundError, `NotFoundError, got ${err}`);
});

// ---------------------------------------------------------------- x-should-retry

test('x-should-retry: false where retrying cannot help: 403 no permission, 400 context length', async () => {
  const denied = await postChat(stack.port, ask('[[error:no_permissions:not allowed]]'));
  openAiError(assert, denied, 403);
  assert.equal(denied.headers['x-should-retry'], 'false');
  const huge = await postChat(stack.port, ask('word '.repeat(200_000)));
  const error = openAiError(assert, huge, 400);
  assert.equal(error.code, 'context_length_exceeded');
  assert.equal(huge.headers['x-should-retry'], 'false');
  const busy = await postChat(stack.port, ask('[[error:rate_limited:slow down]]'));
  openAiError(assert, busy, 429);
  assert.notEqual(busy.headers['x-should-retry'], 'false', 'a 429 may be retried');
});

// ---------------------------------------------------------------- the compatibility table, row by row

const TABLE_FILE = new URL('../spec/COMPATIBILITY.md', import.meta.url);
const STATUSES = ['supported', 'best effort', 'passed on', 'ignored', 'refused'];
const FN_TOOL = { type: 'function', function: { name: 'f', description: 'a tool', parameters: { type: 'object', properties: {} } } };

/** For each parameter: values the gateway accepts (200) and values it refuses (400 naming it); extra: fields a sample needs. */
const SAMPLES = {
  messages: { ok: [[{ role: 'user', content: 'hi' }], [{ role: 'developer', content: 'x' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }]],
    bad: [[{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }],
      [{ role: 'user', content: [{ type: 'file', file: { file_data: 'data:application/pdf;base64,AAAA', filename: 'a.pdf' } }] }]] },
  model: { ok: ['gpt-4o', 'test/gpt-4o', 'gpt-4o-2024-08-06', 'default'] },
  stream: { ok: [true, false], bad: ['yes'] },
  stream_options: { ok: [{ include_usage: true }, { include_obfuscation: false }], bad: ['all'], extra: { stream: true } },
  max_completion_tokens: { ok: [64], bad: [0] },
  max_tokens: { ok: [64], bad: [-1] },
  stop: { ok: ['x', ['a', 'b', 'c', 'd']], bad: [['a', 'b', 'c', 'd', 'e']] },
  n: { ok: [1], bad: [2] },
  tools: { ok: [[FN_TOOL], [{ type: 'function', function: { name: 'g' } }]], bad: [[{ type: 'custom', custom: { name: 'c' } }]] },
  tool_choice: { ok: ['none', 'auto', 'required', { type: 'function', function: { name: 'f' } }],
    bad: [{ type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'f' } }] } }], extra: { tools: [FN_TOOL] } },
  parallel_tool_calls: { ok: [true, false], extra: { tools: [FN_TOOL] } },
  functions: { ok: [[FN_TOOL.function]] },
  function_call: { ok: ['none', 'auto', { name: 'f' }], extra: { functions: [FN_TOOL.function] } },
  response_format: { ok: [{ type: 'text' }, { type: 'json_object' }, { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } }],
    bad: [{ type: 'yaml' }] },
  temperature: { ok: [0, 1.5], bad: [2.5] },
  top_p: { ok: [0.5], bad: [1.5] },
  frequency_penalty: { ok: [1], bad: [3] },
  presence_penalty: { ok: [-1], bad: [-3] },
  seed: { ok: [42], bad: [1.5] },
  logprobs: { ok: [true, false] },
  top_logprobs: { ok: [3], extra: { logprobs: true } },
  logit_bias: { ok: [{ 50256: -100 }] },
  modalities: { ok: [['text'], ['text', 'audio']] },
  audio: { ok: [{ voice: 'alloy', format: 'mp3' }] },
  prediction: { ok: [{ type: 'content', content: 'predicted' }] },
  reasoning_effort: { ok: ['low', 'high'] },
  verbosity: { ok: ['low'] },
  service_tier: { ok: ['auto', 'flex'] },
  store: { ok: [true, false] },
  metadata: { ok: [{ purpose: 'test' }] },
  moderation: { ok: [{}] },
  user: { ok: ['user-1'] },
  safety_identifier: { ok: ['sid-1'] },
  prompt_cache_key: { ok: ['cache-1'] },
  prompt_cache_retention: { ok: ['in-memory', '24h'] },
  prompt_cache_options: { ok: [{}] },
  web_search_options: { ok: [{}] },
};

const compatibilityTable = () => compatibilityRows(TABLE_FILE);

test('COMPATIBILITY.md has one row for every parameter of OpenAI\'s CreateChatCompletionRequest, and no other', async () => {
  const { load } = await import('../spec/openapi.mjs');
  const parameters = (await load()).requestParameters.map((p) => p.name).sort();
  const rows = compatibilityTable();
  assert.deepEqual([...rows.keys()].sort(), parameters);
  for (const [name, row] of rows) assert.ok(STATUSES.includes(row.status), `${name}: status "${row.status}" is one of ${STATUSES.join(', ')}`);
  assert.deepEqual(Object.keys(SAMPLES).sort(), parameters, 'this test has samples for every parameter');
});

for (const [name, { ok = [], bad = [], extra = {} }] of Object.entries(SAMPLES)) {
  test(`compatibility row ${name}: accepted values → 200${bad.length ? ', refused values → 400 naming it' : ''}`, async () => {
    const row = compatibilityTable().get(name);
    assert.ok(row, `COMPATIBILITY.md has a row for ${name}`);
    if (row.status === 'refused') assert.ok(bad.length, `a refused parameter (${name}) has refused samples`);
    for (const value of ok) {
      const body = { model: 'gpt-4o', messages: [{ role: 'user', content: `param ${name}` }], ...extra, [name]: value };
      const response = await postChat(stack.port, body);
      assert.equal(response.status, 200, `${name}: ${JSON.stringify(value)} → ${response.text}`);
    }
    for (const value of bad) {
      const body = { model: 'gpt-4o', messages: [{ role: 'user', content: `param ${name}` }], ...extra, [name]: value };
      const error = openAiError(assert, await postChat(stack.port, body), 400);
      assert.equal(error.type, 'invalid_request_error');
      assert.ok(String(error.param).startsWith(name), `${name}: ${JSON.stringify(value)} → param ${error.param}`);
    }
  });
}
