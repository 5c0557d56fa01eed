// The official Anthropic SDK (`@anthropic-ai/sdk`, pinned in tests/package.json)
// against the real stack, through nginx: messages.create, the stream helper
// (messages.stream(): its text events and finalMessage()), a tool-use loop
// with a real tool, messages.countTokens, models.list, and its typed errors
// (400, 401 on a stack with a key, 404, 429 on a stack with limits-rpm = 1,
// a quota refusal, an error event mid-stream).
//
// Every response the SDK receives is validated through validatingFetch
// against tests/spec/anthropic-messages.schema.json: each SSE event (its
// name, its shape, their order), each Message, each error body with its
// request-id header (lib/spec-guard.mjs).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Anthropic, {
  APIError, AuthenticationError, BadRequestError, NotFoundError, RateLimitError,
} from '@anthropic-ai/sdk';
import { validatingFetch, useStacks, writeFcgiConfig, nonce, httpRequest, waitUntil } from './harness.mjs';
import { expectApiError } from '../lib/sdk.mjs';

const [stack, keyed, limited] = useStacks({ before, after }, 3, ({ dir }) => [
  {},
  {},
  { ctlArgs: ['--fcgi-config', writeFcgiConfig(path.join(dir, 'limited.conf'), { 'limits-rpm': 1 })] },
], { tag: 'lanthropic' });

/** An SDK client of `on` (default: the first stack); every response validated, no retries. */
function client(on = stack, options = {}) {
  return new Anthropic({ fetch: validatingFetch, baseURL: on.baseUrl, apiKey: 'unused', authToken: null, maxRetries: 0, ...options });
}

const user = (content) => [{ role: 'user', content }];

// ---------------------------------------------------------------- messages.create

test('messages.create: a Message with the model\'s text, end_turn and usage; the worker got the request', async () => {
  const marker = nonce('ant');
  const message = await client().messages.create({
    model: 'gpt-4o', max_tokens: 256, system: 'be terse', messages: user(`Hello from the Anthropic SDK ${marker}`),
  });
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  assert.deepEqual(message.content.map((b) => b.type), ['text']);
  assert.equal(message.content[0].text, `Hello from the Anthropic SDK ${marker}`);
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.stop_sequence, null);
  assert.ok(message.usage.input_tokens > 0, 'input tokens counted');
  assert.ok(message.usage.output_tokens > 0, 'output tokens counted');
  assert.ok(message._request_id, 'request-id header');
  const frame = await stack.worker.waitRequest(marker);
  assert.equal(frame.model, 'test/gpt-4o');
  assert.ok(JSON.stringify(frame.messages).includes('be terse'), 'the system prompt reached the model');
});

test('messages.create: a multi-turn conversation with text blocks, ?beta=true as Claude Code sends it', async () => {
  const marker = nonce('antmt');
  const message = await client().beta.messages.create({
    model: 'claude-3.5-sonnet',
    max_tokens: 64,
    messages: [
      { role: 'user', content: 'first' },
      { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
      { role: 'user', content: [{ type: 'text', text: 'second ' }, { type: 'text', text: marker }] },
    ],
  });
  assert.equal(message.content[0].text, `second ${marker}`);
  const frame = await stack.worker.waitRequest(marker);
  assert.equal(frame.model, 'test/claude-3.5-sonnet');
  assert.deepEqual(frame.messages.map((m) => m.role), ['user', 'assistant', 'user']);
});

// ---------------------------------------------------------------- the stream helper

test('messages.stream(): text events as they come, finalMessage() the whole Message', async () => {
  const stream = client().messages.stream({ model: 'gpt-4o', max_tokens: 256, messages: user('[[chunks:3]]') });
  const deltas = [];
  const events = [];
  stream.on('text', (delta) => deltas.push(delta));
  stream.on('streamEvent', (event) => events.push(event.type));
  const message = await stream.finalMessage();
  assert.deepEqual(deltas, ['c1 ', 'c2 ', 'c3 ']);
  assert.equal(message.content[0].text, 'c1 c2 c3 ');
  assert.equal(message.stop_reason, 'end_turn');
  assert.ok(message.usage.output_tokens > 0, 'message_delta carried the output tokens');
  assert.ok(message.usage.input_tokens > 0, 'message_start carried the input tokens');
  assert.equal(events[0], 'message_start');
  assert.equal(events.at(-1), 'message_stop');
  assert.deepEqual(events.filter((e) => e.startsWith('content_block')).filter((e) => e !== 'content_block_delta'),
    ['content_block_start', 'content_block_stop'], 'one text block');
});

test('messages.create({stream: true}): the raw events, for await', async () => {
  const stream = await client().messages.create({ model: 'gpt-4o', max_tokens: 256, stream: true, messages: user('raw stream words') });
  let text = '';
  const types = [];
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
  }
  assert.equal(text, 'raw stream words');
  assert.deepEqual([types[0], types.at(-2), types.at(-1)], ['message_start', 'message_delta', 'message_stop']);
});

test('an error after the first delta ends the stream with an error event: the SDK throws an APIError', async () => {
  const stream = client().messages.stream({ model: 'gpt-4o', max_tokens: 256, messages: user('[[error-after-delta:internal]]') });
  let text = '';
  stream.on('text', (delta) => { text += delta; });
  const err = await stream.finalMessage().then(() => null, (e) => e);
  assert.ok(err instanceof APIError, `an APIError, got ${err}`);
  assert.equal(text, 'partial ');
  assert.equal(typeof err.error?.error?.type, 'string', `the error event's body: ${JSON.stringify(err.error)}`);
});

// ---------------------------------------------------------------- a tool-use loop

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather of a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
/** The real tool the loop runs. */
function getWeather({ city }) {
  return `22 C and sunny in ${city}`;
}

async function toolLoop(stream) {
  const anthropic = client();
  const marker = nonce('anttool');
  const messages = user(`What is the weather in Paris? ${marker} [[tool:get_weather:{"city":"Paris"}]]`);
  const ask = (body) => (stream ? anthropic.messages.stream(body).finalMessage() : anthropic.messages.create(body));
  const first = await ask({ model: 'gpt-4o', max_tokens: 512, tools: [WEATHER_TOOL], messages });
  assert.equal(first.stop_reason, 'tool_use');
  const calls = first.content.filter((b) => b.type === 'tool_use');
  assert.equal(calls.length, 1, JSON.stringify(first.content));
  assert.equal(calls[0].name, 'get_weather');
  assert.deepEqual(calls[0].input, { city: 'Paris' }, 'the input is an object (streamed: the input_json_delta pieces joined)');
  assert.ok(calls[0].id, 'the tool_use block has an id');
  const request = await stack.worker.waitRequest(marker);
  assert.equal(request.tools[0].function.name, 'get_weather');
  assert.deepEqual(request.tools[0].function.parameters, WEATHER_TOOL.input_schema, 'input_schema reached the model as the parameters');

  messages.push({ role: 'assistant', content: first.content });
  messages.push({ role: 'user', content: calls.map((call) => ({ type: 'tool_result', tool_use_id: call.id, content: getWeather(call.input) })) });
  const second = await ask({ model: 'gpt-4o', max_tokens: 512, tools: [WEATHER_TOOL], messages });
  assert.equal(second.stop_reason, 'end_turn');
  assert.equal(second.content.map((b) => (b.type === 'text' ? b.text : '')).join(''), 'tool result: 22 C and sunny in Paris');
  const frame = await stack.worker.waitEvent((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker) &&
    e.messages.some((m) => m.role === 'tool'), 'the tool_result request frame');
  const assistant = frame.messages.find((m) => m.role === 'assistant');
  const result = frame.messages.find((m) => m.role === 'tool');
  assert.equal(assistant.tool_calls[0].function.name, 'get_weather');
  assert.equal(result.tool_call_id, assistant.tool_calls[0].id, 'the tool_result answers the tool_use it names');
  assert.match(JSON.stringify(result.content), /22 C and sunny in Paris/);
}

test('tool use, non-stream: tool_use block → the test runs the tool → tool_result → the model answers from it', () => toolLoop(false));
test('tool use, streamed: input_json_delta joined by the stream helper, then the tool_result round trip', () => toolLoop(true));

// ---------------------------------------------------------------- countTokens, models

test('messages.countTokens: input_tokens > 0, growing with a longer prompt', async () => {
  const anthropic = client();
  const short = await anthropic.messages.countTokens({ model: 'gpt-4o', messages: user('Hello there') });
  const long = await anthropic.messages.countTokens({ model: 'gpt-4o', messages: user('Hello there, '.repeat(200)) });
  const withTools = await anthropic.messages.countTokens({ model: 'gpt-4o', messages: user('Hello there'), tools: [WEATHER_TOOL], system: 'be terse' });
  assert.ok(short.input_tokens > 0, `never a fake 0: ${JSON.stringify(short)}`);
  assert.ok(long.input_tokens > short.input_tokens * 10, `${long.input_tokens} for 200 times the text, ${short.input_tokens} for once`);
  assert.ok(withTools.input_tokens > short.input_tokens, 'tools and system count too');
});

test('models.list (anthropic-version sent): Anthropic\'s list shape, the worker\'s models', async () => {
  const ids = [];
  for await (const model of client().models.list()) {
    assert.equal(model.type, 'model');
    assert.equal(typeof model.display_name, 'string');
    assert.ok(!Number.isNaN(Date.parse(model.created_at)), `created_at is a date: ${model.created_at}`);
    ids.push(model.id);
  }
  // Ids without the vendor prefix: Claude Code's model discovery keeps only ids that
  // start with "claude" (or "anthropic"). Each one listed is a model a request may name.
  assert.deepEqual(ids.sort(), ['claude-3.5-sonnet', 'gpt-4o']);
  for (const id of ids) {
    const message = await client().messages.create({ model: id, max_tokens: 16, messages: user('[[model]]') });
    assert.equal(message.content[0].text, `test/${id}`);
  }
  const openAiShape = await httpRequest(stack.port, { path: '/v1/models' });
  assert.equal(openAiShape.json.object, 'list', 'without anthropic-version: OpenAI\'s shape');
});

// ---------------------------------------------------------------- typed errors

test('400 BadRequestError: no max_tokens', async () => {
  const err = await expectApiError(() => client().messages.create({ model: 'gpt-4o', messages: user('hi') }), BadRequestError);
  assert.equal(err.status, 400);
  assert.equal(err.error.type, 'error');
  assert.equal(err.error.error.type, 'invalid_request_error');
  assert.match(err.error.error.message, /max_tokens/);
  assert.equal(err.error.request_id, err.requestID, 'the body names the request of the request-id header');
});

test('404 NotFoundError: an unknown model, the message lists the available ones', async () => {
  const err = await expectApiError(() => client().messages.create({ model: 'no-such-model-xyz', max_tokens: 16, messages: user('hi') }), NotFoundError);
  assert.equal(err.status, 404);
  assert.equal(err.error.error.type, 'not_found_error');
  assert.match(err.error.error.message, /no-such-model-xyz/);
  assert.match(err.error.error.message, /gpt-4o/);
});

test('429 RateLimitError with x-should-retry: false: VS Code refused the request (quota)', async () => {
  const err = await expectApiError(() => client().messages.create({
    model: 'gpt-4o', max_tokens: 16, messages: user('[[error:rate_limited:quota exceeded]]'),
  }), RateLimitError);
  assert.equal(err.error.error.type, 'rate_limit_error');
  assert.equal(err.headers.get('x-should-retry'), 'false', 'Claude Code would otherwise retry for minutes');
});

test('401 AuthenticationError: a stack with a key, a wrong key (x-api-key) and a wrong Bearer token', async () => {
  const added = await keyed.keys(['add', 'anthropic-client']);
  assert.equal(added.code, 0, added.stderr);
  const secret = added.stdout.trim();
  // The responder reads the keys file within a second: wait until keys are required.
  await waitUntil(async () => (await httpRequest(keyed.port, {
    method: 'POST', path: '/v1/messages', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'gpt-4o', max_tokens: 8, messages: user('probe') }),
  })).status === 401, 'the keyed stack to require its key');
  const wrongKey = await expectApiError(() => client(keyed, { apiKey: 'sk-litellm-wrong' }).messages.create({
    model: 'gpt-4o', max_tokens: 16, messages: user('hi'),
  }), AuthenticationError);
  assert.equal(wrongKey.status, 401);
  assert.equal(wrongKey.error.error.type, 'authentication_error');
  await expectApiError(() => client(keyed, { apiKey: null, authToken: 'sk-litellm-wrong' }).messages.create({
    model: 'gpt-4o', max_tokens: 16, messages: user('hi'),
  }), AuthenticationError);
  // The right key, either way, is served.
  const marker = nonce('antkey');
  for (const auth of [{ apiKey: secret }, { apiKey: null, authToken: secret }]) {
    const message = await client(keyed, auth).messages.create({ model: 'gpt-4o', max_tokens: 64, messages: user(marker) });
    assert.equal(message.content[0].text, marker);
  }
});

test('429 RateLimitError: a stack with limits-rpm = 1, the second request', async () => {
  const anthropic = client(limited);
  const first = await anthropic.messages.create({ model: 'gpt-4o', max_tokens: 16, messages: user('first of the minute') });
  assert.equal(first.content[0].text, 'first of the minute');
  const err = await expectApiError(() => anthropic.messages.create({ model: 'gpt-4o', max_tokens: 16, messages: user('second') }), RateLimitError);
  assert.equal(err.status, 429);
  assert.equal(err.error.error.type, 'rate_limit_error');
  assert.ok(Number(err.headers.get('retry-after')) > 0, `retry-after: ${err.headers.get('retry-after')}`);
});
