// The validation of the Responses API (issue 15, item 5), on its own: no
// gateway. OpenAI's document (tests/spec/) accepts a Response, every event of
// a text and a function-call stream and an input token count shaped as
// OpenAI sends them, and rejects each spoiled variant (the document is strict:
// instructions, tools, temperature, top_p, logprobs, sequence_number,
// cache_write_tokens... are required); the stream rules of spec-guard.mjs
// (response.created first, increasing sequence_number, `event:` = type,
// nothing after the terminal event, no [DONE], a terminal event at the end)
// catch a fake server's malformed streams through openStream, validatingFetch
// and the openai SDK's responses.stream(), so that a violation by the gateway
// can fail the suite. clients-responses.test.mjs and codex.test.mjs then get
// every /v1/responses body and event validated by the same helpers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeServer } from '../lib/fake-server.mjs';
import OpenAI from 'openai';
import { load } from '../spec/openapi.mjs';
import {
  httpRequest, openStream, validatingFetch, drainSpecViolations, SpecViolation,
} from './harness.mjs';

const spec = await load();

// ---------------------------------------------------------------- what OpenAI sends (its API reference's shapes, filled in as the document requires)

const MESSAGE = {
  type: 'message', id: 'msg_1', role: 'assistant', status: 'completed',
  content: [{ type: 'output_text', text: 'Hi there', annotations: [], logprobs: [] }],
};
const FUNCTION_CALL = { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' };
const USAGE = {
  input_tokens: 36, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
  output_tokens: 87, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 123,
};
const RESPONSE = {
  id: 'resp_1', object: 'response', created_at: 1741476542, status: 'completed', completed_at: 1741476543,
  error: null, incomplete_details: null, instructions: null, max_output_tokens: null, model: 'gpt-4.1-2025-04-14',
  output: [MESSAGE], parallel_tool_calls: true, previous_response_id: null,
  reasoning: { effort: null, summary: null }, store: false, temperature: 1, text: { format: { type: 'text' } },
  tool_choice: 'auto', tools: [], top_p: 1, truncation: 'disabled', usage: USAGE, metadata: {},
};
const IN_PROGRESS = { ...RESPONSE, status: 'in_progress', completed_at: null, output: [] };
delete IN_PROGRESS.usage;

/** A text answer, then a function call, as a stream (sequence numbers added by numbered()). */
const TEXT_EVENTS = [
  { type: 'response.created', response: IN_PROGRESS },
  { type: 'response.in_progress', response: IN_PROGRESS },
  { type: 'response.output_item.added', output_index: 0, item: { ...MESSAGE, status: 'in_progress', content: [] } },
  { type: 'response.content_part.added', item_id: 'msg_1', output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } },
  { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hi ', logprobs: [] },
  { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'there', logprobs: [] },
  { type: 'response.output_text.done', item_id: 'msg_1', output_index: 0, content_index: 0, text: 'Hi there', logprobs: [] },
  { type: 'response.content_part.done', item_id: 'msg_1', output_index: 0, content_index: 0, part: MESSAGE.content[0] },
  { type: 'response.output_item.done', output_index: 0, item: MESSAGE },
  { type: 'response.output_item.added', output_index: 1, item: { ...FUNCTION_CALL, status: 'in_progress', arguments: '' } },
  { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 1, delta: '{"city":"Paris"}' },
  { type: 'response.function_call_arguments.done', item_id: 'fc_1', output_index: 1, name: 'get_weather', arguments: '{"city":"Paris"}' },
  { type: 'response.output_item.done', output_index: 1, item: FUNCTION_CALL },
  { type: 'response.completed', response: { ...RESPONSE, output: [MESSAGE, FUNCTION_CALL] } },
];
const numbered = (events, from = 0) => events.map((event, i) => ({ ...event, sequence_number: from + i }));
const OPENAI_STREAM = numbered(TEXT_EVENTS);
const TERMINAL_EVENTS = {
  failed: { type: 'response.failed', sequence_number: 2, response: { ...RESPONSE, status: 'failed', output: [], error: { code: 'server_error', message: 'The model failed' } } },
  incomplete: { type: 'response.incomplete', sequence_number: 2, response: { ...RESPONSE, status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } } },
  error: { type: 'error', sequence_number: 2, code: 'rate_limit_exceeded', message: 'Rate limit reached', param: null },
};

test('spec: an OpenAI-shaped Response, every event of a text + function-call stream, each terminal event and an input token count pass', () => {
  assert.deepEqual(spec.validate('Response', RESPONSE), []);
  assert.deepEqual(spec.validate('Response', { ...RESPONSE, output: [FUNCTION_CALL] }), []);
  for (const event of [...OPENAI_STREAM, ...Object.values(TERMINAL_EVENTS)]) {
    assert.deepEqual(spec.validate('ResponseStreamEvent', event), [], event.type);
  }
  assert.deepEqual(spec.validate('TokenCountsResource', { object: 'response.input_tokens', input_tokens: 12 }), []);
  assert.equal(Object.keys(spec.streamEvents).length, 58, 'ResponseStreamEvent is a union of 58 events');
});

const event = (type) => structuredClone(OPENAI_STREAM.find((e) => e.type === type));
const REJECTED = [
  ['Response', 'no instructions key', RESPONSE, (v) => { delete v.instructions; }],
  ['Response', 'no tools', RESPONSE, (v) => { delete v.tools; }],
  ['Response', 'no temperature', RESPONSE, (v) => { delete v.temperature; }],
  ['Response', 'no top_p', RESPONSE, (v) => { delete v.top_p; }],
  ['Response', 'no parallel_tool_calls', RESPONSE, (v) => { delete v.parallel_tool_calls; }],
  ['Response', 'object "chat.completion"', RESPONSE, (v) => { v.object = 'chat.completion'; }],
  ['Response', 'status "done"', RESPONSE, (v) => { v.status = 'done'; }],
  ['Response', 'usage without cache_write_tokens', RESPONSE, (v) => { delete v.usage.input_tokens_details.cache_write_tokens; }],
  ['Response', 'usage null (absent, or an object)', RESPONSE, (v) => { v.usage = null; }],
  ['Response', 'user null (the document says string)', RESPONSE, (v) => { v.user = null; }],
  ['Response', 'output_text without annotations', RESPONSE, (v) => { delete v.output[0].content[0].annotations; }],
  ['Response', 'a function_call without call_id', RESPONSE, (v) => { v.output = [{ ...FUNCTION_CALL, call_id: undefined }]; delete v.output[0].call_id; }],
  ['Response', 'function_call arguments as an object', RESPONSE, (v) => { v.output = [{ ...FUNCTION_CALL, arguments: { city: 'Paris' } }]; }],
  ['ResponseStreamEvent', 'a text delta without logprobs', event('response.output_text.delta'), (v) => { delete v.logprobs; }],
  ['ResponseStreamEvent', 'a text delta without sequence_number', event('response.output_text.delta'), (v) => { delete v.sequence_number; }],
  ['ResponseStreamEvent', 'a text delta without item_id', event('response.output_text.delta'), (v) => { delete v.item_id; }],
  ['ResponseStreamEvent', 'response.created without its response', event('response.created'), (v) => { delete v.response; }],
  ['ResponseStreamEvent', 'output_item.done whose item lacks its type', event('response.output_item.done'), (v) => { delete v.item.type; }],
  ['ResponseStreamEvent', 'function_call_arguments.done without name', event('response.function_call_arguments.done'), (v) => { delete v.name; }],
  ['ResponseStreamEvent', 'an unknown type ("keepalive")', { type: 'keepalive', sequence_number: 3 }, () => {}],
  ['ResponseStreamEvent', 'a chat-style {"error": {...}} event', { error: { message: 'x', type: 'server_error', param: null, code: null } }, () => {}],
  ['ResponseStreamEvent', 'an error event without message', TERMINAL_EVENTS.error, (v) => { delete v.message; }],
  ['TokenCountsResource', 'object "input_tokens"', { object: 'response.input_tokens', input_tokens: 12 }, (v) => { v.object = 'input_tokens'; }],
];

for (const [schema, what, base, spoil] of REJECTED) {
  test(`spec: ${schema} rejects ${what}`, () => {
    const value = structuredClone(base);
    spoil(value);
    assert.notDeepEqual(spec.validate(schema, value), [], `${what} must be a violation`);
  });
}

// ---------------------------------------------------------------- the helpers catch a malformed Responses stream

const sse = (events, { named = true } = {}) => events.map((e) => (typeof e === 'string' ? e
  : `${named ? `event: ${e.type}\n` : ''}data: ${JSON.stringify(e)}\n\n`)).join('');

/** Streams the fake server serves on POST /v1/responses?case=NAME; the problem each must be caught with. */
const STREAMS = {
  good: { body: sse(OPENAI_STREAM) },
  'good-unnamed': { body: sse(OPENAI_STREAM, { named: false }) },
  'good-failed': { body: sse([...OPENAI_STREAM.slice(0, 2), TERMINAL_EVENTS.failed]) },
  'bad-event': { problem: /as ResponseTextDeltaEvent:[\s\S]*logprobs/, body: sse(OPENAI_STREAM.map((e) => (e.type === 'response.output_text.delta' ? { ...e, logprobs: undefined } : e))) },
  'no-created': { problem: /the first event is response\.in_progress/, body: sse(OPENAI_STREAM.slice(1)) },
  'sequence': { problem: /sequence_number 4 after 4/, body: sse(OPENAI_STREAM.map((e) => (e.sequence_number === 5 ? { ...e, sequence_number: 4 } : e))) },
  'event-name': { problem: /event: response\.output_text\.done but its data's type is response\.output_text\.delta/, body: sse(OPENAI_STREAM).replace('event: response.output_text.delta', 'event: response.output_text.done') },
  'no-terminal': { problem: /ended without response\.completed/, body: sse(OPENAI_STREAM.slice(0, -1)) },
  'done': { problem: /\[DONE\] in a Responses stream/, body: `${sse(OPENAI_STREAM)}data: [DONE]\n\n` },
  'after-terminal': { problem: /an event after the terminal response\.completed/, body: sse([...OPENAI_STREAM, { ...TERMINAL_EVENTS.error, sequence_number: 99 }]) },
  'keepalive': { problem: /ResponseStreamEvent|anyOf/, body: sse([OPENAI_STREAM[0], { type: 'keepalive', sequence_number: 1 }, ...OPENAI_STREAM.slice(1).map((e) => ({ ...e, sequence_number: e.sequence_number + 1 }))]) },
};
const JSON_BODIES = {
  '/v1/responses?case=json-good': { body: JSON.stringify(RESPONSE) },
  '/v1/responses?case=json-bad': { body: JSON.stringify({ ...RESPONSE, tools: undefined, top_p: undefined }), problem: /tools/ },
  '/v1/responses/input_tokens': { body: JSON.stringify({ object: 'response.input_tokens', input_tokens: 'many' }), problem: /input_tokens/ },
  '/v1/responses/resp_1': { status: 404, body: JSON.stringify({ error: { message: 'No response found', type: 'invalid_request_error', code: null } }), problem: /param/ },
};

/** The fake gateway: each stream and JSON body above at its own URL. */
function fakeResponses() {
  return fakeServer((req, res) => {
    const which = new URL(req.url, 'http://x').searchParams.get('case');
    const stream = req.url.startsWith('/v1/responses?') ? STREAMS[which] : undefined;
    const json = JSON_BODIES[req.url];
    if (stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(stream.body);
    } else if (json) {
      res.writeHead(json.status ?? 200, { 'content-type': 'application/json' });
      res.end(json.body);
    } else {
      res.writeHead(500);
      res.end();
    }
  });
}

test('harness: openStream accepts OpenAI\'s Responses streams and catches each broken one (schema and stream rules)', async () => {
  const fake = await fakeResponses();
  try {
    for (const [name, { problem }] of Object.entries(STREAMS)) {
      const stream = await openStream(fake.port, {}, { path: `/v1/responses?case=${name}` });
      if (!problem) {
        await stream.readToEnd();
        assert.deepEqual(drainSpecViolations(), [], name);
        continue;
      }
      await assert.rejects(stream.readToEnd(), (err) => err instanceof SpecViolation && problem.test(err.message), name);
      assert.ok(drainSpecViolations().length >= 1, `${name}: recorded`);
    }
  } finally {
    await fake.close();
  }
});

test('harness: httpRequest checks Response bodies, input token counts and errors on /v1/responses paths', async () => {
  const fake = await fakeResponses();
  try {
    for (const [urlPath, { problem, status = 200 }] of Object.entries(JSON_BODIES)) {
      const method = urlPath === '/v1/responses/resp_1' ? 'GET' : 'POST';
      const request = httpRequest(fake.port, { method, path: urlPath, body: method === 'POST' ? '{}' : undefined });
      if (!problem) {
        assert.equal((await request).status, status);
        continue;
      }
      await assert.rejects(request, (err) => err instanceof SpecViolation && problem.test(err.message), urlPath);
    }
    drainSpecViolations();
  } finally {
    await fake.close();
  }
});

test('harness: validatingFetch under the openai SDK — responses.stream() of a valid stream gives finalResponse() and records nothing; a broken stream is recorded', async () => {
  const fake = await fakeResponses();
  try {
    const client = (name) => new OpenAI({
      baseURL: `http://127.0.0.1:${fake.port}/v1`, apiKey: 'unused', maxRetries: 0, defaultQuery: { case: name },
      fetch: validatingFetch,
    });
    const stream = client('good').responses.stream({ model: 'gpt-4o', input: 'hi' });
    const deltas = [];
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    assert.equal(final.output_text, 'Hi there');
    assert.deepEqual(deltas, ['Hi ', 'there']);
    assert.equal(final.output[1].type, 'function_call');
    assert.deepEqual(drainSpecViolations(), []);

    for (const name of ['bad-event', 'no-terminal', 'sequence']) {
      const broken = client(name).responses.stream({ model: 'gpt-4o', input: 'hi' });
      await broken.finalResponse().catch(() => {}); // the SDK may or may not notice: the guard does
      const recorded = drainSpecViolations();
      assert.ok(recorded.length >= 1 && recorded.every((v) => v instanceof SpecViolation), name);
      assert.match(recorded[0].message, STREAMS[name].problem);
    }
  } finally {
    await fake.close();
  }
});
