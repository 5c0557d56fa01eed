// Bad input through real nginx: every answer is an OpenAI error object
// {"error":{"message","type","param","code"}} with an x-request-id header.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, postChat, httpRequest, openAiError, nonce } from './harness.mjs';

const stack = useStack({ before, after });

const user = (content) => [{ role: 'user', content }];

const BAD_BODIES = [
  { name: 'invalid JSON', body: '{"model": "gpt-4o", "messages": [' },
  { name: 'JSON that is not an object (array)', body: '[{"role":"user","content":"hi"}]' },
  { name: 'JSON that is not an object (string)', body: '"hello"' },
  { name: 'JSON null', body: 'null' },
  { name: 'empty body', body: '' },
  { name: 'messages missing', body: { model: 'gpt-4o' } },
  { name: 'messages empty', body: { model: 'gpt-4o', messages: [] } },
  { name: 'messages of the wrong type (string)', body: { model: 'gpt-4o', messages: 'hello' } },
  { name: 'messages of the wrong type (object)', body: { model: 'gpt-4o', messages: { role: 'user', content: 'hi' } } },
  { name: 'a message that is not an object', body: { model: 'gpt-4o', messages: ['hi'] } },
  { name: 'bad role', body: { model: 'gpt-4o', messages: [{ role: 'wizard', content: 'hi' }] } },
  { name: 'role missing', body: { model: 'gpt-4o', messages: [{ content: 'hi' }] } },
  { name: 'content of the wrong type', body: { model: 'gpt-4o', messages: [{ role: 'user', content: 42 }] } },
  { name: 'stream not boolean', body: { model: 'gpt-4o', stream: 'yes', messages: user('hi') } },
  { name: 'model not a string', body: { model: 42, messages: user('hi') } },
];

for (const { name, body } of BAD_BODIES) {
  test(`400 invalid_request_error: ${name}`, async () => {
    const response = await postChat(stack.port, body);
    const error = openAiError(assert, response, 400);
    assert.equal(error.type, 'invalid_request_error');
  });
}

test('400 errors name the offending parameter for messages', async () => {
  const response = await postChat(stack.port, { model: 'gpt-4o' });
  const error = openAiError(assert, response, 400);
  assert.match(`${error.param} ${error.message}`, /messages/);
});

test('a 20 MB body is refused with 413 as an OpenAI error (from nginx)', async () => {
  const big = JSON.stringify({ model: 'gpt-4o', messages: user('x'.repeat(20 * 1024 * 1024)) });
  const response = await postChat(stack.port, big);
  const error = openAiError(assert, response, 413);
  assert.equal(typeof error.type, 'string');
  assert.ok(!stack.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).length > 1024 * 1024),
    'the worker never saw the huge prompt');
});

test('unknown model → 404 model_not_found listing the available models', async () => {
  const response = await postChat(stack.port, { model: 'no-such-model', messages: user('hi') });
  const error = openAiError(assert, response, 404);
  assert.equal(error.code, 'model_not_found');
  assert.equal(error.type, 'invalid_request_error');
  assert.match(error.message, /no-such-model/);
  assert.match(error.message, /gpt-4o/, 'the message lists the available models');
  assert.match(error.message, /claude-3\.5-sonnet/, 'the message lists the available models');
});

test('GET /v1/chat/completions → 405 with Allow: POST', async () => {
  const response = await httpRequest(stack.port, { path: '/v1/chat/completions' });
  openAiError(assert, response, 405);
  assert.match(response.headers.allow ?? '', /POST/);
});

test('GET /chat/completions (no /v1) → 405 with Allow: POST', async () => {
  const response = await httpRequest(stack.port, { path: '/chat/completions' });
  openAiError(assert, response, 405);
  assert.match(response.headers.allow ?? '', /POST/);
});

test('POST /v1/models → 405 with Allow naming GET', async () => {
  const response = await httpRequest(stack.port, { method: 'POST', path: '/v1/models', headers: { 'content-type': 'application/json' }, body: '{}' });
  openAiError(assert, response, 405);
  assert.match(response.headers.allow ?? '', /GET/);
});

for (const [method, urlPath] of [['GET', '/v1/nope'], ['POST', '/v1/nope'], ['POST', '/'], ['GET', '/v2/chat/completions']]) {
  test(`unknown path ${method} ${urlPath} → 404 OpenAI error`, async () => {
    const response = await httpRequest(stack.port, {
      method, path: urlPath, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined,
    });
    openAiError(assert, response, 404);
  });
}

test('a query string does not change the route', async () => {
  const marker = nonce('qs');
  const response = await postChat(stack.port, { model: 'gpt-4o', messages: user(marker) }, { path: '/v1/chat/completions?x=1' });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.choices[0].message.content, marker);
});

test('/chat/completions without /v1 works too', async () => {
  const marker = nonce('nov1');
  const response = await postChat(stack.port, { model: 'gpt-4o', messages: user(marker) }, { path: '/chat/completions' });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.choices[0].message.content, marker);
  assert.ok(response.headers['x-request-id']);
});

test('after all that bad input the stack still serves a good request', async () => {
  const marker = nonce('ok');
  const response = await postChat(stack.port, { model: 'gpt-4o', messages: user(marker) });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.choices[0].message.content, marker);
});
