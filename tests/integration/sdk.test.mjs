// The official openai SDK against the real stack.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, {
  APIError, BadRequestError, NotFoundError, PermissionDeniedError, RateLimitError, InternalServerError,
} from 'openai';
import { validatingFetch, useStack, nonce } from './harness.mjs';
import { expectApiError } from '../lib/sdk.mjs';

const stack = useStack({ before, after });
let openai;
/** The SDK client, made on first use (the stack's port is known once `before` ran). */
const client = {
  get chat() { return sdk().chat; },
  get models() { return sdk().models; },
};
function sdk() {
  openai ??= new OpenAI({ fetch: validatingFetch, baseURL: `http://127.0.0.1:${stack.port}/v1`, apiKey: 'unused', maxRetries: 0 });
  return openai;
}

test('SDK: non-stream completion', async () => {
  const marker = nonce('sdk');
  const completion = await client.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: `Hello from the SDK ${marker}` }],
  });
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.choices[0].message.role, 'assistant');
  assert.equal(completion.choices[0].message.content, `Hello from the SDK ${marker}`);
  assert.equal(completion.choices[0].finish_reason, 'stop');
  assert.ok(completion.usage.prompt_tokens > 0);
  assert.ok(completion.usage.completion_tokens > 0);
});

test('SDK: system and multi-turn messages reach the worker, text parts included', async () => {
  const marker = nonce('sdkmt');
  const completion = await client.chat.completions.create({
    model: 'claude-3.5-sonnet',
    messages: [
      { role: 'system', content: 'be terse' },
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: [{ type: 'text', text: 'second ' }, { type: 'text', text: marker }] },
    ],
  });
  assert.equal(completion.choices[0].message.content, `second ${marker}`);
  const request = await stack.worker.waitRequest(marker);
  assert.equal(request.model, 'test/claude-3.5-sonnet');
  assert.deepEqual(request.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
});

test('SDK: stream with for await', async () => {
  const stream = await client.chat.completions.create({
    model: 'gpt-4o',
    stream: true,
    messages: [{ role: 'user', content: '[[chunks:3]]' }],
  });
  let content = '';
  let roles = 0;
  const finishReasons = [];
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    const choice = chunk.choices[0];
    if (!choice) continue;
    if (choice.delta.role === 'assistant') roles++;
    content += choice.delta.content ?? '';
    if (choice.finish_reason) finishReasons.push(choice.finish_reason);
  }
  assert.ok(chunks >= 5, 'role + 3 content + final chunk');
  assert.equal(roles, 1);
  assert.equal(content, 'c1 c2 c3 ');
  assert.deepEqual(finishReasons, ['stop']);
});

test('SDK: stream_options.include_usage adds a usage chunk', async () => {
  const stream = await client.chat.completions.create({
    model: 'gpt-4o',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'count my tokens' }],
  });
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(usage, 'a chunk carried usage');
  assert.ok(usage.prompt_tokens > 0);
  assert.ok(usage.completion_tokens > 0);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
});

// ---------------------------------------------------------------- errors

test('SDK: 400 BadRequestError for empty messages', async () => {
  const err = await expectApiError(() => client.chat.completions.create({ model: 'gpt-4o', messages: [] }), BadRequestError);
  assert.equal(err.status, 400);
  assert.equal(err.type, 'invalid_request_error');
});

test('SDK: 404 NotFoundError with code model_not_found for an unknown model', async () => {
  const err = await expectApiError(() => client.chat.completions.create({
    model: 'no-such-model-xyz', messages: [{ role: 'user', content: 'hi' }],
  }), NotFoundError);
  assert.equal(err.status, 404);
  assert.equal(err.code, 'model_not_found');
  assert.equal(err.type, 'invalid_request_error');
  assert.match(err.message, /no-such-model-xyz/);
});

// The extension's error codes and how they must reach an OpenAI client.
const UPSTREAM_ERRORS = [
  { code: 'no_permissions', status: 403, errorClass: PermissionDeniedError, type: 'permission_error' },
  { code: 'not_found', status: 404, errorClass: NotFoundError, type: 'invalid_request_error' },
  { code: 'rate_limited', status: 429, errorClass: RateLimitError, type: 'rate_limit_error' },
  { code: 'internal', status: 502, errorClass: InternalServerError, type: 'server_error' },
];

for (const { code, status, errorClass, type } of UPSTREAM_ERRORS) {
  test(`SDK: extension error ${code} → ${status} ${errorClass.name}`, async () => {
    const message = `scripted ${code} ${nonce('msg')}`;
    const err = await expectApiError(() => client.chat.completions.create({
      model: 'gpt-4o', messages: [{ role: 'user', content: `[[error:${code}:${message}]]` }],
    }), errorClass);
    assert.equal(err.status, status);
    assert.equal(err.type, type);
    assert.equal(typeof err.code, 'string', `error.code is set: ${JSON.stringify(err.error)}`);
    assert.ok(err.code.length > 0, 'error.code is not empty');
    assert.ok(err.message.includes(message), `the extension's message is passed on: ${err.message}`);
    if (status === 429) assert.ok(err.headers.get('retry-after'), '429 carries Retry-After');
  });
}

test('SDK: a stream whose extension fails before any output gets a real HTTP status (429)', async () => {
  const err = await expectApiError(async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: '[[error:rate_limited:too many]]' }],
    });
    for await (const chunk of stream) void chunk;
  }, RateLimitError);
  assert.equal(err.status, 429);
});

test('SDK: an error after the first delta surfaces as an APIError while iterating', async () => {
  const stream = await client.chat.completions.create({
    model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: '[[error-after-delta:internal]]' }],
  });
  let content = '';
  let caught = null;
  try {
    for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? '';
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof APIError, `an APIError was thrown, got ${caught}`);
  assert.equal(content, 'partial ');
  assert.ok(caught.error && typeof caught.error === 'object', 'the error object of the SSE event');
  assert.equal(typeof caught.type, 'string');
});

test('SDK: models.list shows the worker models', async () => {
  const ids = [];
  for await (const model of client.models.list()) ids.push(model.id);
  assert.deepEqual(ids.sort(), ['test/claude-3.5-sonnet', 'test/gpt-4o']);
});
