// The OpenAPI validation itself: OpenAI's document (tests/spec/) checked by
// ajv, proven to accept what OpenAI sends and to reject what it never would;
// the harness helpers proven to fail a test on a violation (against a fake
// server that answers wrong on purpose); and the gateway's own responses,
// with the fields they carry beyond OpenAI's schemas listed and pinned.
//
// Every other test file is validated through the same helpers: see
// "OpenAI spec validation" in harness.mjs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fakeServer } from '../lib/fake-server.mjs';
import { load, SCHEMAS } from '../spec/openapi.mjs';
import {
  useStack, httpRequest, postChat, openStream, curl, validatingFetch, drainSpecViolations, SpecViolation, sseData,
} from './harness.mjs';

const stack = useStack({ before, after });
const spec = await load();

// ---------------------------------------------------------------- the validator

/** What OpenAI itself sends (shapes from its API reference). */
const OPENAI_COMPLETION = {
  id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
  object: 'chat.completion',
  created: 1741569952,
  model: 'gpt-4.1-2025-04-14',
  choices: [{
    index: 0,
    message: { role: 'assistant', content: 'Hello! How can I assist you today?', refusal: null, annotations: [] },
    logprobs: null,
    finish_reason: 'stop',
  }],
  usage: {
    prompt_tokens: 19, completion_tokens: 10, total_tokens: 29,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  },
  service_tier: 'default',
  system_fingerprint: 'fp_4d6e8c4e1d',
};
const OPENAI_CHUNK = {
  id: 'chatcmpl-123', object: 'chat.completion.chunk', created: 1694268190, model: 'gpt-4o-mini',
  system_fingerprint: 'fp_44709d6fcb',
  choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
  usage: null,
};
const OPENAI_TOOL_CHUNK = {
  ...OPENAI_CHUNK,
  choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_abc', type: 'function', function: { name: 'f', arguments: '' } }] }, logprobs: null, finish_reason: null }],
};
const OPENAI_USAGE_CHUNK = { ...OPENAI_CHUNK, choices: [], usage: { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 } };
const OPENAI_ERROR = { error: { message: 'The model `gpt-5o` does not exist', type: 'invalid_request_error', param: null, code: 'model_not_found' } };
const OPENAI_MODELS = { object: 'list', data: [{ id: 'gpt-4o', object: 'model', created: 1715367049, owned_by: 'system' }] };

test('spec: OpenAI-shaped responses pass (completion, chunks with null finish_reason/logprobs/usage, usage chunk, error, models)', () => {
  assert.deepEqual(spec.validate('CreateChatCompletionResponse', OPENAI_COMPLETION), []);
  for (const chunk of [OPENAI_CHUNK, OPENAI_TOOL_CHUNK, OPENAI_USAGE_CHUNK]) {
    assert.deepEqual(spec.validate('CreateChatCompletionStreamResponse', chunk), []);
  }
  assert.deepEqual(spec.validate('ErrorResponse', OPENAI_ERROR), []);
  assert.deepEqual(spec.validate('ListModelsResponse', OPENAI_MODELS), []);
  assert.deepEqual(spec.validate('Model', OPENAI_MODELS.data[0]), []);
});

const REJECTED = [
  ['CreateChatCompletionResponse', 'no choices', (v) => { delete v.choices; }],
  ['CreateChatCompletionResponse', 'an unknown finish_reason', (v) => { v.choices[0].finish_reason = 'done'; }],
  ['CreateChatCompletionResponse', 'finish_reason null in a completion', (v) => { v.choices[0].finish_reason = null; }],
  ['CreateChatCompletionResponse', 'no logprobs key in a choice', (v) => { delete v.choices[0].logprobs; }],
  ['CreateChatCompletionResponse', 'usage.total_tokens a string', (v) => { v.usage.total_tokens = '29'; }],
  ['CreateChatCompletionResponse', 'object chat.completion.chunk', (v) => { v.object = 'chat.completion.chunk'; }],
  ['CreateChatCompletionResponse', 'system_fingerprint null (the schema says string)', (v) => { v.system_fingerprint = null; }],
  ['CreateChatCompletionResponse', 'a tool call without id', (v) => { v.choices[0].message.tool_calls = [{ type: 'function', function: { name: 'f', arguments: '{}' } }]; }],
  ['CreateChatCompletionStreamResponse', 'a choice without delta', (v) => { delete v.choices[0].delta; }],
  ['CreateChatCompletionStreamResponse', 'a tool_calls fragment without index', (v) => { v.choices[0].delta.tool_calls = [{ id: 'x' }]; }],
  ['CreateChatCompletionStreamResponse', 'created a float', (v) => { v.created = 1.5; }],
  ['ErrorResponse', 'an error without param', (v) => { delete v.error.param; }],
  ['ErrorResponse', 'a bare message', (v) => { v.error = 'boom'; }],
  ['ListModelsResponse', 'object "models"', (v) => { v.object = 'models'; }],
  ['Model', 'no owned_by', (v) => { delete v.owned_by; }],
];

for (const [schema, what, spoil] of REJECTED) {
  test(`spec: ${schema} rejects ${what}`, () => {
    const base = { CreateChatCompletionResponse: OPENAI_COMPLETION, CreateChatCompletionStreamResponse: OPENAI_CHUNK, ErrorResponse: OPENAI_ERROR, ListModelsResponse: OPENAI_MODELS, Model: OPENAI_MODELS.data[0] }[schema];
    const value = structuredClone(base);
    spoil(value);
    assert.notDeepEqual(spec.validate(schema, value), [], `${what} must be a violation`);
  });
}

test('spec: the extraction gave 3.0-style nullable its meaning exactly where the 3.1 document still uses it; only tool definitions forbid extra fields', () => {
  assert.deepEqual(spec.notes.nullable.map((where) => where.replace('#/components/schemas/CreateChatCompletionStreamResponse/properties', '…')).sort(), [
    '…/choices/items/properties/finish_reason',
    '…/choices/items/properties/logprobs',
    '…/choices/items/properties/logprobs/properties/content',
    '…/choices/items/properties/logprobs/properties/refusal',
    '…/usage',
  ]);
  // Only tool definitions (which a Response echoes from its request) forbid extra fields.
  assert.deepEqual(spec.notes.additionalPropertiesFalse.map((where) => where.replace('#/components/schemas/', '')).sort(), [
    'ComparisonFilter', 'CompoundFilter', 'ImageGenTool/properties/input_image_mask', 'MCPTool/properties/require_approval/anyOf/0/oneOf/0', 'MCPToolFilter',
  ], 'no response or event schema we validate with sets additionalProperties: false, only some tool definitions');
  assert.deepEqual(spec.notes.recursiveRef, ['#/components/schemas/CompoundFilter/properties/filters/items/oneOf/1']);
  assert.equal(spec.info.openapi, '3.1.0');
  assert.deepEqual(SCHEMAS, ['CreateChatCompletionResponse', 'CreateChatCompletionStreamResponse', 'ListModelsResponse', 'Model', 'ErrorResponse',
    'Response', 'ResponseStreamEvent', 'TokenCountsResource']);
});

// ---------------------------------------------------------------- the harness fails a test on a violation

/** A fake gateway that answers whatever `routes[path]` says. */
function fakeRoutes(routes) {
  return fakeServer((req, res) => {
    const route = routes[req.url.split('?')[0]];
    if (!route) { res.writeHead(500); res.end(); return; }
    res.writeHead(route.status ?? 200, { 'content-type': route.type ?? 'application/json' });
    res.end(route.body);
  });
}

const BAD_ROUTES = {
  '/v1/models': { body: JSON.stringify({ object: 'list' }) },
  '/v1/chat/completions': {
    type: 'text/event-stream',
    body: `data: ${JSON.stringify(OPENAI_CHUNK)}\n\n: keep-alive\n\ndata: ${JSON.stringify({ ...OPENAI_CHUNK, choices: [{ index: 0 }] })}\n\ndata: [DONE]\n\n`,
  },
  '/chat/completions': { status: 400, body: JSON.stringify({ error: { message: 'bad' } }) },
  '/v1/models/x': { status: 404, type: 'text/html', body: '<html>not found</html>' },
};

test('harness: httpRequest, openStream, curl and validatingFetch each catch a violation', async () => {
  const fake = await fakeRoutes(BAD_ROUTES);
  try {
    await assert.rejects(httpRequest(fake.port, { path: '/v1/models' }), (err) => err instanceof SpecViolation && /data/.test(err.message));
    const stream = await openStream(fake.port, {});
    await assert.rejects(stream.readToEnd(), (err) => err instanceof SpecViolation && /SSE event 2/.test(err.message) && /delta/.test(err.message));
    await assert.rejects(postChat(fake.port, {}, { path: '/chat/completions' }), (err) => err instanceof SpecViolation && /param/.test(err.message));
    await assert.rejects(httpRequest(fake.port, { path: '/v1/models/x' }), (err) => err instanceof SpecViolation && /not JSON/.test(err.message));
    await assert.rejects(curl(['-sS', '-i', `http://127.0.0.1:${fake.port}/v1/models`]), SpecViolation);
    assert.equal(drainSpecViolations().length, 5, 'each was recorded, for the afterEach hook');

    // validatingFetch only records (the SDKs would turn a throw into a connection error)...
    const json = await validatingFetch(`http://127.0.0.1:${fake.port}/v1/models`);
    assert.deepEqual(await json.json(), { object: 'list' }, 'the body still reaches the client');
    const sse = await validatingFetch(`http://127.0.0.1:${fake.port}/v1/chat/completions`, { method: 'POST', body: '{}' });
    assert.equal(sseData(await sse.text()).length, 3);
    const recorded = drainSpecViolations();
    assert.equal(recorded.length, 2, recorded.map((v) => v.message).join('\n'));
    assert.match(recorded[0].message, /GET \/v1\/models → 200/);
    assert.match(recorded[1].message, /POST \/v1\/chat\/completions → 200, SSE event 2/);
    // ...and the afterEach hook of this file would fail the test had they not been drained.
  } finally {
    await fake.close();
  }
});

// ---------------------------------------------------------------- the gateway's responses

/** Fields of our responses that OpenAI's schemas do not describe (allowed; pinned here and in tests/spec/README.md). */
const EXTRA_MODEL_FIELDS = ['/family', '/max_input_tokens', '/name', '/version'];

test('gateway: GET /v1/models and /v1/models/{id} are valid; the only extra fields are name, family, version, max_input_tokens', async () => {
  const list = await httpRequest(stack.port, { path: '/v1/models' }); // validated by the harness
  assert.equal(list.status, 200);
  assert.deepEqual(spec.validate('ListModelsResponse', list.json), []);
  const extras = new Set(spec.undocumented('ListModelsResponse', list.json).map((p) => p.replace(/^\/data\/\d+/, '')));
  assert.deepEqual([...extras].sort(), EXTRA_MODEL_FIELDS);
  const one = await httpRequest(stack.port, { path: '/v1/models/test/gpt-4o' });
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(spec.undocumented('Model', one.json).sort(), EXTRA_MODEL_FIELDS);
});

test('gateway: completions, chunks (text, tool calls, usage) and errors carry no field beyond OpenAI\'s schemas', async () => {
  const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
  const completion = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there' }] });
  assert.deepEqual(spec.undocumented('CreateChatCompletionResponse', completion.json), []);
  const called = await postChat(stack.port, { model: 'gpt-4o', tools, messages: [{ role: 'user', content: '[[tool:f:{"a":1}]]' }] });
  assert.deepEqual(spec.undocumented('CreateChatCompletionResponse', called.json), []);
  for (const body of [
    { stream_options: { include_usage: true }, messages: [{ role: 'user', content: '[[chunks:2]]' }] },
    { tools, messages: [{ role: 'user', content: '[[tool:f:{"a":1}]]' }] },
    { functions: [tools[0].function], messages: [{ role: 'user', content: '[[tool:f:{"a":1}]]' }] },
    { messages: [{ role: 'user', content: '[[error-after-delta:internal]]' }] },
  ]) {
    const stream = await openStream(stack.port, { model: 'gpt-4o', stream: true, ...body });
    for (const event of sseData(await stream.readToEnd())) {
      if (event === '[DONE]') continue;
      const schema = event.error ? 'ErrorResponse' : 'CreateChatCompletionStreamResponse';
      assert.deepEqual(spec.undocumented(schema, event), [], JSON.stringify(event));
    }
  }
  for (const [response, status] of [
    [await postChat(stack.port, '{"model":'), 400],
    [await postChat(stack.port, { model: 'nope', messages: [{ role: 'user', content: 'x' }] }), 404],
    [await httpRequest(stack.port, { path: '/v1/chat/completions' }), 405],
    [await httpRequest(stack.port, { path: '/v1/nothing-here' }), 404],
    [await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: '[[error:internal:boom]]' }] }), 502],
  ]) {
    assert.equal(response.status, status, response.text);
    assert.deepEqual(spec.undocumented('ErrorResponse', response.json), [], response.text);
  }
});
