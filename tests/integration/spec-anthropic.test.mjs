// The Anthropic validation itself (tests/spec/anthropic-messages.schema.json
// through tests/spec/anthropic.mjs and lib/spec-guard.mjs), without the
// gateway: what Anthropic's docs show passes; spoiled bodies, malformed events
// and events out of order are rejected; the route picks the schema; and the
// harness helpers fail on a violation (against a fake server that answers
// wrong on purpose), so that the guard every other test relies on can fail.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fakeServer } from '../lib/fake-server.mjs';
import Anthropic from '@anthropic-ai/sdk';
import { ANTHROPIC_SDK_VERSION, loadAnthropic } from '../spec/anthropic.mjs';
import {
  checkResponse, drainSpecViolations, httpRequest, openStream, responseSchema, responseValidator, SpecViolation, validatingFetch,
} from './harness.mjs';

const anthropic = loadAnthropic();

// ---------------------------------------------------------------- what Anthropic sends (its docs' examples)

const MESSAGE = {
  id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [{ type: 'text', text: 'Hi! My name is Claude.' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 2095, output_tokens: 503, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
};
const TOOL_MESSAGE = {
  ...MESSAGE,
  content: [
    { type: 'text', text: 'I will check the weather.' },
    { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { location: 'San Francisco, CA' } },
  ],
  stop_reason: 'tool_use',
};
const ERROR = { type: 'error', error: { type: 'not_found_error', message: 'The requested resource could not be found.' }, request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy' };
const MODELS = {
  data: [{ type: 'model', id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' }],
  has_more: false, first_id: 'claude-sonnet-4-5-20250929', last_id: 'claude-sonnet-4-5-20250929',
};

/** An SSE text from [name, data] pairs (name null: a data-only frame). */
const sse = (events) => events.map(([name, data]) => `${name === null ? '' : `event: ${name}\n`}data: ${JSON.stringify(data)}\n\n`).join('');
const START = ['message_start', { type: 'message_start', message: { ...MESSAGE, content: [], stop_reason: null, usage: { input_tokens: 25, output_tokens: 1 } } }];
const TEXT_STREAM = [
  START,
  ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
  ['ping', { type: 'ping' }],
  ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: '!' } }],
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 15 } }],
  ['message_stop', { type: 'message_stop' }],
];
const TOOL_STREAM = [
  START,
  ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me check.' } }],
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', input: {} } }],
  ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"location":' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: ' "San Francisco, CA"}' } }],
  ['content_block_stop', { type: 'content_block_stop', index: 1 }],
  ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 89 } }],
  ['message_stop', { type: 'message_stop' }],
];

/** Runs a whole response through the guard; returns the violations' problems (and drains them). */
function problemsOf({ method = 'POST', path = '/v1/messages', status = 200, contentType = 'text/event-stream', text, requestHeaders = {}, headers }) {
  const validator = responseValidator({ method, path, status, contentType, requestHeaders, headers });
  validator.push(text);
  const violations = validator.end(true);
  assert.equal(drainSpecViolations().length, violations.length, 'every violation is recorded (the afterEach hook fails the test with it)');
  return violations.flatMap((v) => v.problems);
}

test(`the schema compiles in ajv's strict mode and cites @anthropic-ai/sdk ${ANTHROPIC_SDK_VERSION}`, async () => {
  assert.match(anthropic.schema.$comment, new RegExp(`@anthropic-ai/sdk ${ANTHROPIC_SDK_VERSION.replaceAll('.', '\\.')}`));
  assert.match(anthropic.schema.$comment, /platform\.claude\.com\/docs/);
  const pkg = JSON.parse(fs.readFileSync(new URL('../node_modules/@anthropic-ai/sdk/package.json', import.meta.url), 'utf8'));
  assert.equal(pkg.version, ANTHROPIC_SDK_VERSION, 'the SDK installed is the one the schema was written from');
});

test('what Anthropic documents passes: Message (text, tool_use), error, count_tokens, model list, every stream event', () => {
  assert.deepEqual(anthropic.validate('CompleteMessage', MESSAGE), []);
  assert.deepEqual(anthropic.validate('CompleteMessage', TOOL_MESSAGE), []);
  assert.deepEqual(anthropic.validate('ErrorResponse', ERROR), []);
  assert.deepEqual(anthropic.validate('MessageTokensCount', { input_tokens: 14 }), []);
  assert.deepEqual(anthropic.validate('ModelList', MODELS), []);
  assert.deepEqual(problemsOf({ text: sse(TEXT_STREAM) }), []);
  assert.deepEqual(problemsOf({ text: sse(TOOL_STREAM) }), []);
  assert.deepEqual(problemsOf({ status: 200, contentType: 'application/json', text: JSON.stringify(TOOL_MESSAGE) }), []);
});

const REJECTED = [
  ['CompleteMessage', 'no usage', (v) => { delete v.usage; }],
  ['CompleteMessage', 'type chat.completion', (v) => { v.type = 'chat.completion'; }],
  ['CompleteMessage', 'an unknown stop_reason', (v) => { v.stop_reason = 'stop'; }],
  ['CompleteMessage', 'stop_reason null in a non-stream Message', (v) => { v.stop_reason = null; }],
  ['CompleteMessage', 'usage.output_tokens a string', (v) => { v.usage.output_tokens = '5'; }],
  ['CompleteMessage', 'a tool_use block whose input is a JSON string', (v) => { v.content = [{ type: 'tool_use', id: 't', name: 'f', input: '{}' }]; }],
  ['CompleteMessage', 'a content block of an unknown type', (v) => { v.content = [{ type: 'output_text', text: 'x' }]; }],
  ['CompleteMessage', 'no stop_sequence key', (v) => { delete v.stop_sequence; }],
  ['ErrorResponse', 'an OpenAI error body', (v) => { v.error = { message: 'x', type: 'invalid_request_error', param: null, code: null }; delete v.type; }],
  ['ErrorResponse', 'an error type Anthropic does not have', (v) => { v.error.type = 'model_not_found'; }],
  ['ErrorResponse', 'no request_id', (v) => { delete v.request_id; }],
  ['MessageTokensCount', 'input_tokens negative', (v) => { v.input_tokens = -1; }],
  ['ModelList', 'an OpenAI model object', (v) => { v.data = [{ id: 'gpt-4o', object: 'model', created: 1, owned_by: 'x' }]; }],
  ['ModelList', 'created_at not a date-time', (v) => { v.data[0].created_at = 'yesterday'; }],
  ['ModelList', 'no has_more', (v) => { delete v.has_more; }],
];
const SAMPLES = { CompleteMessage: MESSAGE, ErrorResponse: ERROR, MessageTokensCount: { input_tokens: 1 }, ModelList: MODELS };

for (const [schema, what, spoil] of REJECTED) {
  test(`rejected: ${schema} with ${what}`, () => {
    const value = structuredClone(SAMPLES[schema]);
    spoil(value);
    assert.notDeepEqual(anthropic.validate(schema, value), [], `${what} is rejected`);
  });
}

// ---------------------------------------------------------------- streams: names, shapes, order

const replace = (events, index, event) => events.map((e, i) => (i === index ? event : e));
const without = (events, index) => events.filter((_, i) => i !== index);
const BAD_STREAMS = [
  ['a malformed event: a text_delta without text',
    replace(TEXT_STREAM, 3, ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta' } }]), /text/],
  ['a data-only frame (no event: line)', replace(TEXT_STREAM, 3, [null, TEXT_STREAM[3][1]]), /no `event:` line/],
  ['an event name that is not its type', replace(TEXT_STREAM, 3, ['content_block_start', TEXT_STREAM[3][1]]), /type is "content_block_delta"/],
  ['an event type the API does not have', replace(TEXT_STREAM, 2, ['keepalive', { type: 'keepalive' }]), /not an event of the Messages API/],
  ['a delta before message_start', [TEXT_STREAM[3], ...TEXT_STREAM], /before message_start/],
  ['a second message_start', [...TEXT_STREAM.slice(0, 2), START, ...TEXT_STREAM.slice(2)], /second message_start/],
  ['a block index that skips one', replace(TEXT_STREAM, 1, ['content_block_start', { ...TEXT_STREAM[1][1], index: 1 }]), /index 1, expected 0/],
  ['a delta of the wrong kind for its block', replace(TEXT_STREAM, 3, ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{}' } }]), /input_json_delta in a text block/],
  ['a block never stopped', without(TEXT_STREAM, 5), /still open/],
  ['tool input pieces that are not JSON', replace(TOOL_STREAM, 7, ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: ' "San Francisco' } }]), /do not join into a JSON object/],
  ['stop_reason tool_use without a tool_use block', replace(TEXT_STREAM, 6, ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 3 } }]), /without a tool_use block/],
  ['stop_reason stop_sequence without the sequence', replace(TEXT_STREAM, 6, ['message_delta', { type: 'message_delta', delta: { stop_reason: 'stop_sequence', stop_sequence: null }, usage: { output_tokens: 3 } }]), /without the stop_sequence/],
  ['message_stop without message_delta', without(TEXT_STREAM, 6), /without a message_delta/],
  ['a stream that ends without message_stop', TEXT_STREAM.slice(0, -1), /without message_stop/],
  ['an event after message_stop', [...TEXT_STREAM, ['ping', { type: 'ping' }]], /after message_stop/],
  ['message_start whose message already has content', replace(TEXT_STREAM, 0, ['message_start', { type: 'message_start', message: MESSAGE }]), /content|stop_reason/],
];

for (const [what, events, expected] of BAD_STREAMS) {
  test(`stream rejected: ${what}`, () => {
    const problems = problemsOf({ text: sse(events) });
    assert.ok(problems.some((p) => expected.test(p)), `${what}: ${JSON.stringify(problems)}`);
  });
}

test('an error event ends a stream properly, at the start or after text', () => {
  const error = ['error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }];
  assert.deepEqual(problemsOf({ text: sse([START, error]) }), []);
  assert.deepEqual(problemsOf({ text: sse([...TEXT_STREAM.slice(0, 4), error]) }), []);
  assert.notDeepEqual(problemsOf({ text: sse([...TEXT_STREAM.slice(0, 4), ['error', { type: 'error', error: { message: 'no type' } }]]) }), []);
});

// ---------------------------------------------------------------- routes, statuses, request-id

test('the route picks the schema: messages and count_tokens always, /v1/models only with anthropic-version', () => {
  assert.equal(responseSchema('POST', '/v1/messages?beta=true', 200), 'anthropic:CompleteMessage');
  assert.equal(responseSchema('POST', '/v1/messages/count_tokens?beta=true', 200), 'anthropic:MessageTokensCount');
  assert.equal(responseSchema('POST', '/v1/messages', 429), 'anthropic:ErrorResponse');
  assert.equal(responseSchema('GET', '/v1/models?limit=1000', 200, { 'Anthropic-Version': '2023-06-01' }), 'anthropic:ModelList');
  assert.equal(responseSchema('GET', '/v1/models/claude-x', 200, new Headers({ 'anthropic-version': '2023-06-01' })), 'anthropic:ModelInfo');
  assert.equal(responseSchema('GET', '/v1/models', 200), 'ListModelsResponse');
  assert.equal(responseSchema('GET', '/v1/models', 401), 'ErrorResponse');
  assert.equal(responseSchema('POST', '/v1/chat/completions', 200), 'CreateChatCompletionResponse');
});

test('errors: the type must be the status\'s, request_id the request-id header, and the header must be there', () => {
  const json = (status, body, headers) => problemsOf({ status, contentType: 'application/json', text: JSON.stringify(body), headers });
  assert.deepEqual(json(404, ERROR, { 'request-id': ERROR.request_id }), []);
  assert.ok(json(429, ERROR, { 'request-id': ERROR.request_id }).some((p) => /status 429 with error type not_found_error/.test(p)));
  assert.ok(json(404, ERROR, { 'request-id': 'req_other' }).some((p) => /is not the request-id header/.test(p)));
  assert.ok(json(404, ERROR, { 'x-request-id': 'x' }).some((p) => /no request-id header/.test(p)));
  assert.ok(json(400, { error: { message: 'x', type: 'invalid_request_error', param: null, code: null } }).some((p) => /required property 'type'/.test(p)),
    'an OpenAI error body on /v1/messages is a violation');
  assert.ok(problemsOf({ path: '/v1/messages/count_tokens', text: sse(TEXT_STREAM) }).some((p) => /event stream where Anthropic answers JSON/.test(p)));
  const models = { method: 'GET', path: '/v1/models', status: 200, contentType: 'application/json', text: JSON.stringify(MODELS) };
  assert.doesNotThrow(() => checkResponse({ ...models, requestHeaders: { 'anthropic-version': '2023-06-01' } }), 'an Anthropic model list passes with anthropic-version');
  assert.throws(() => checkResponse(models), SpecViolation, 'and is not what OpenAI lists without it');
  drainSpecViolations();
});

// ---------------------------------------------------------------- the helpers fail on a fake server

let servers = [];
after(async () => { for (const s of servers) await s.close(); servers = []; });

const MALFORMED = [...TEXT_STREAM.slice(0, 3), ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', txt: 'Hello' } }], ...TEXT_STREAM.slice(4)];

test('openStream on a stream with a malformed event rejects with a SpecViolation', async () => {
  const server = await fakeServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_fake' });
    res.end(sse(MALFORMED));
  });
  servers.push(server);
  const stream = await openStream(server.port, { model: 'm', max_tokens: 10, messages: [], stream: true }, { path: '/v1/messages' });
  await assert.rejects(stream.readToEnd(), (err) => err instanceof SpecViolation && /content_block_delta/.test(err.message) && /text/.test(err.message));
  assert.equal(drainSpecViolations().length, 1);
});

test('httpRequest rejects an OpenAI-shaped error on /v1/messages', async () => {
  const server = await fakeServer((req, res) => {
    res.writeHead(400, { 'content-type': 'application/json', 'request-id': 'req_fake' });
    res.end(JSON.stringify({ error: { message: 'bad', type: 'invalid_request_error', param: null, code: null } }));
  });
  servers.push(server);
  await assert.rejects(httpRequest(server.port, { method: 'POST', path: '/v1/messages', body: '{}' }), SpecViolation);
  assert.equal(drainSpecViolations().length, 1);
});

test('the Anthropic SDK given validatingFetch: a malformed event is recorded even though the SDK swallows it', async () => {
  const server = await fakeServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_fake' });
    res.end(sse(MALFORMED));
  });
  servers.push(server);
  const client = new Anthropic({ fetch: validatingFetch, baseURL: `http://127.0.0.1:${server.port}`, apiKey: 'unused', maxRetries: 0 });
  // The SDK's accumulator takes the missing text as undefined: no error, a corrupt text.
  const message = await client.messages.stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
  assert.equal(message.content[0].text, 'undefined!');
  const violations = drainSpecViolations();
  assert.equal(violations.length, 1, 'the guard recorded the malformed event (the afterEach hook would fail the test)');
  assert.match(violations[0].message, /must have required property 'text'/);
});
