// GET /v1/models, /models, /health and model resolution, through real nginx.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, httpRequest, postChat, waitUntil, TestWorker } from './harness.mjs';

const stack = useStack({ before, after });

const WORKER_MODELS = ['test/claude-3.5-sonnet', 'test/gpt-4o'];

for (const urlPath of ['/v1/models', '/models']) {
  test(`GET ${urlPath} lists the worker's models in the OpenAI list shape`, async () => {
    const response = await httpRequest(stack.port, { path: urlPath });
    assert.equal(response.status, 200, response.text);
    assert.match(response.headers['content-type'], /application\/json/);
    assert.ok(response.headers['x-request-id']);
    assert.equal(response.json.object, 'list');
    assert.ok(Array.isArray(response.json.data));
    assert.deepEqual(response.json.data.map((m) => m.id).sort(), WORKER_MODELS);
    for (const model of response.json.data) {
      assert.equal(model.object, 'model');
      assert.ok(Number.isInteger(model.created), 'created is an integer');
      assert.equal(typeof model.owned_by, 'string');
    }
  });
}

for (const urlPath of ['/health', '/v1/health']) {
  test(`GET ${urlPath} reports one window, its models and the default`, async () => {
    const response = await httpRequest(stack.port, { path: urlPath });
    assert.equal(response.status, 200, response.text);
    assert.match(response.headers['content-type'], /application\/json/);
    assert.ok(response.headers['x-request-id']);
    const health = response.json;
    assert.equal(health.status, 'ok');
    assert.equal(health.windows, 1);
    assert.deepEqual([...health.models].sort(), WORKER_MODELS);
    assert.equal(health.default_model, 'test/gpt-4o');
    assert.equal(health.in_flight, 0);
    assert.equal(typeof health.version, 'string');
    assert.ok(health.version.length > 0);
  });
}

const RESOLUTION = [
  { name: 'exact id', model: 'test/claude-3.5-sonnet', expected: 'test/claude-3.5-sonnet' },
  { name: 'family', model: 'claude-3.5-sonnet', expected: 'test/claude-3.5-sonnet' },
  { name: 'family of the default', model: 'gpt-4o', expected: 'test/gpt-4o' },
  { name: '"default"', model: 'default', expected: 'test/gpt-4o' },
  { name: 'omitted', model: undefined, expected: 'test/gpt-4o' },
];

for (const { name, model, expected } of RESOLUTION) {
  test(`model resolution: ${name} → ${expected}`, async () => {
    const body = { messages: [{ role: 'user', content: '[[model]]' }] };
    if (model !== undefined) body.model = model;
    const response = await postChat(stack.port, body);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.choices[0].message.content, expected);
  });
}

test('a models frame from the worker changes /v1/models and routing', async () => {
  stack.worker.command('models o1,gpt-4o');
  try {
    await waitUntil(async () => {
      const response = await httpRequest(stack.port, { path: '/v1/models' });
      return JSON.stringify(response.json?.data?.map((m) => m.id).sort()) === JSON.stringify(['test/gpt-4o', 'test/o1']);
    }, '/v1/models to show the new model list');
    const gone = await postChat(stack.port, { model: 'claude-3.5-sonnet', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(gone.status, 404, gone.text);
    const added = await postChat(stack.port, { model: 'o1', messages: [{ role: 'user', content: '[[model]]' }] });
    assert.equal(added.status, 200, added.text);
    assert.equal(added.json.choices[0].message.content, 'test/o1');
    const health = await httpRequest(stack.port, { path: '/health' });
    assert.equal(health.json.default_model, 'test/gpt-4o', 'the default the worker announced');
  } finally {
    stack.worker.command('models gpt-4o,claude-3.5-sonnet');
    await waitUntil(async () => {
      const response = await httpRequest(stack.port, { path: '/v1/models' });
      return JSON.stringify(response.json?.data?.map((m) => m.id).sort()) === JSON.stringify(WORKER_MODELS);
    }, '/v1/models to show the original models');
  }
});

test('a second window adds its models; requests route to the window that offers the model', async () => {
  const second = new TestWorker(stack.paths.worker, [
    '--pipe', stack.pipe, '--label', 'second', '--models', 'gemini-2.0', '--default', 'gemini-2.0',
  ]);
  try {
    await stack.waitWindows((n) => n === 2, '/health windows == 2');
    const models = await httpRequest(stack.port, { path: '/v1/models' });
    assert.ok(models.json.data.some((m) => m.id === 'second/gemini-2.0'), models.text);
    const response = await postChat(stack.port, { model: 'gemini-2.0', messages: [{ role: 'user', content: '[[model]]' }] });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.choices[0].message.content, 'second/gemini-2.0');
    await second.waitEvent((e) => e.event === 'request' && e.model === 'second/gemini-2.0', 'the second window to serve it');
    assert.ok(!stack.worker.has((e) => e.event === 'request' && e.model === 'second/gemini-2.0'), 'the first window did not');
  } finally {
    await second.stop();
  }
  await stack.waitWindows((n) => n === 1, '/health windows back to 1');
  const models = await httpRequest(stack.port, { path: '/v1/models' });
  assert.deepEqual(models.json.data.map((m) => m.id).sort(), WORKER_MODELS, 'the second window models are gone');
});
