// The stack with no VS Code window connected: 503 no_vscode_connected until
// a worker connects, and again after it leaves.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { InternalServerError } from 'openai';
import { validatingFetch, useStack, postChat, httpRequest, openAiError, nonce } from './harness.mjs';

const stack = useStack({ before, after }, { worker: false });
const COMMAND_NAME = 'VSCode LiteLLM: Start LM Proxy Server';

const chat = (extra = {}) => ({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...extra });

test('no window: /health is degraded (still HTTP 200)', async () => {
  const response = await httpRequest(stack.port, { path: '/health' });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.status, 'degraded');
  assert.equal(response.json.windows, 0);
  assert.deepEqual(response.json.models, []);
  assert.equal(response.json.default_model, null);
});

test('probes: liveliness 200 (and /health/liveness), readiness 503 naming the command, no key needed', async () => {
  for (const path of ['/health/liveliness', '/health/liveness']) {
    const alive = await httpRequest(stack.port, { path });
    assert.equal(alive.status, 200, alive.text);
    assert.equal(alive.json.status, 'alive');
  }
  const ready = await httpRequest(stack.port, { path: '/health/readiness' });
  assert.equal(ready.status, 503, ready.text);
  assert.equal(ready.json.status, 'not ready');
  assert.equal(ready.json.windows, 0);
  assert.ok(ready.json.message.includes(COMMAND_NAME), ready.json.message);
});

test('no window: /v1/models is an empty list', async () => {
  const response = await httpRequest(stack.port, { path: '/v1/models' });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.object, 'list');
  assert.deepEqual(response.json.data, []);
});

for (const stream of [false, true]) {
  test(`no window: chat completion (stream ${stream}) → 503 no_vscode_connected naming the command`, async () => {
    const response = await postChat(stack.port, chat({ stream }));
    const error = openAiError(assert, response, 503);
    assert.equal(error.code, 'no_vscode_connected');
    assert.ok(error.message.includes(COMMAND_NAME), `the message names "${COMMAND_NAME}": ${error.message}`);
  });
}

test('no window: the SDK gets InternalServerError 503 with code no_vscode_connected', async () => {
  const client = new OpenAI({ fetch: validatingFetch, baseURL: `http://127.0.0.1:${stack.port}/v1`, apiKey: 'unused', maxRetries: 0 });
  let caught = null;
  try {
    await client.chat.completions.create(chat());
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof InternalServerError, `InternalServerError, got ${caught}`);
  assert.equal(caught.status, 503);
  assert.equal(caught.code, 'no_vscode_connected');
  assert.equal(caught.type, 'server_error');
  assert.ok(caught.message.includes(COMMAND_NAME));
});

test('a worker connects → requests succeed; it leaves → 503 again', async () => {
  await stack.startWorker();
  const marker = nonce('up');
  const ok = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: marker }] });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.choices[0].message.content, marker);
  const ready = await httpRequest(stack.port, { path: '/health/readiness' });
  assert.equal(ready.status, 200, ready.text);
  assert.equal(ready.json.status, 'ready');
  assert.ok(ready.json.windows === 1 && ready.json.models > 0, ready.text);
  await stack.stopWorker();
  await stack.waitWindows((n) => n === 0, '/health windows == 0 after the worker left');
  const response = await postChat(stack.port, chat());
  const error = openAiError(assert, response, 503);
  assert.equal(error.code, 'no_vscode_connected');
  assert.equal((await httpRequest(stack.port, { path: '/health/readiness' })).status, 503, 'not ready again');
});
