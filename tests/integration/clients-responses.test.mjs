// The official `openai` SDK (6.49.0, tests/package.json) on the Responses API
// (issue 15, item 6), through real nginx: responses.create, the raw event
// stream, responses.stream() with its text delta events and finalResponse(),
// a function-tool loop kept stateless (the model calls a function, the test
// runs it and sends the whole input again with the call and its
// function_call_output, no previous_response_id), a custom tool,
// max_output_tokens (status "incomplete"), a mid-stream failure
// (response.failed), responses.inputTokens.count, and the typed errors: 400
// (previous_response_id), 401 (a wrong key), 404 (an unknown model;
// responses.retrieve), 429 (maxRetries 0 on a stack with limits-rpm = 1).
// Every body and event is validated against OpenAI's document (validatingFetch).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import OpenAI, {
  AuthenticationError, BadRequestError, NotFoundError, RateLimitError,
} from 'openai';
import {
  useStacks, validatingFetch, nonce, writeFcgiConfig, waitUntil, httpRequest,
} from './harness.mjs';
import { expectApiError } from '../lib/sdk.mjs';

// [0]: open on loopback; [1]: keys required (one key) and limits-rpm = 1.
const [stack, limited] = useStacks({ before, after }, 2, ({ dir }) => [
  {},
  { ctlArgs: ['--fcgi-config', writeFcgiConfig(path.join(dir, 'limited.conf'), { 'limits-rpm': 1 })] },
], { tag: 'resp-sdk' });

let limitedKey;
/** The key of the limited stack, added on first use (top-level hooks may run concurrently in node 20). */
async function limitedKeyOnce() {
  if (!limitedKey) {
    const added = await limited.keys(['add', 'sdk']);
    assert.equal(added.code, 0, added.stderr);
    limitedKey = added.stdout.trim();
    // The responder reads the keys file within a second: wait until it asks for one.
    await waitUntil(async () => (await httpRequest(limited.port, { path: '/v1/models' })).status === 401, 'the responder to require keys');
  }
  return limitedKey;
}

const clientOf = (target, options = {}) => new OpenAI({
  fetch: validatingFetch, baseURL: `${target.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0, ...options,
});
let openai;
const client = () => (openai ??= clientOf(stack));

const WEATHER = {
  type: 'function', name: 'get_weather', description: 'The weather in a city', strict: false,
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

// ---------------------------------------------------------------- create

test('responses.create: a plain answer, a Response with output_text, usage and the request\'s echo', async () => {
  const marker = nonce('rc');
  const response = await client().responses.create({ model: 'gpt-4o', input: `Hello from the SDK ${marker}` });
  assert.equal(response.tool_choice, 'auto');
  assert.equal(response.temperature, null);
  assert.equal(response.max_output_tokens, null);
  assert.equal(response.object, 'response');
  assert.equal(response.status, 'completed');
  assert.match(response.id, /^resp_/);
  assert.equal(response.output_text, `Hello from the SDK ${marker}`);
  assert.equal(response.output.length, 1);
  assert.equal(response.output[0].type, 'message');
  assert.equal(response.output[0].role, 'assistant');
  assert.ok(response.usage.input_tokens > 0 && response.usage.output_tokens > 0);
  assert.equal(response.usage.total_tokens, response.usage.input_tokens + response.usage.output_tokens);
  assert.equal(response.instructions, null);
  const frame = await stack.worker.waitRequest(marker);
  assert.equal(frame.model, 'test/gpt-4o');

  // What the client set is echoed as it was sent (the sampling options also reach the model).
  const echo = { temperature: 0.25, top_p: 0.5, max_output_tokens: 500, tool_choice: 'none', parallel_tool_calls: false, metadata: { run: marker } };
  const echoed = await client().responses.create({ model: 'gpt-4o', input: `echo ${marker}`, tools: [WEATHER], ...echo });
  for (const [name, value] of Object.entries(echo)) assert.deepEqual(echoed[name], value, name);
  const echoFrame = await stack.worker.waitRequest(`echo ${marker}`);
  assert.equal(echoFrame.options.temperature, 0.25);
  assert.equal(echoFrame.options.top_p, 0.5);
});

test('responses.create: instructions and message items of every role reach the model in order', async () => {
  const marker = nonce('roles');
  const response = await client().responses.create({
    model: 'claude-3.5-sonnet',
    instructions: 'be terse',
    input: [
      { type: 'message', role: 'developer', content: 'dev rules' },
      { role: 'user', content: 'first' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'ok', annotations: [] }] },
      { role: 'user', content: [{ type: 'input_text', text: 'second ' }, { type: 'input_text', text: marker }] },
    ],
  });
  assert.equal(response.output_text, `second ${marker}`);
  assert.equal(response.instructions, 'be terse');
  const frame = await stack.worker.waitRequest(marker);
  const texts = frame.messages.map((m) => (typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('')));
  assert.ok(texts.indexOf('be terse') < texts.indexOf('dev rules'), `instructions first: ${JSON.stringify(frame.messages)}`);
  assert.deepEqual(frame.messages.slice(-3).map((m) => m.role), ['user', 'assistant', 'user']);
});

// ---------------------------------------------------------------- streams

test('responses.create({stream: true}): the events in OpenAI\'s order, sequence numbers increasing', async () => {
  const stream = await client().responses.create({ model: 'gpt-4o', input: '[[chunks:3]]', stream: true });
  const events = [];
  for await (const event of stream) events.push(event);
  const types = events.map((e) => e.type);
  const deltas = events.filter((e) => e.type === 'response.output_text.delta');
  assert.deepEqual(deltas.map((e) => e.delta).join(''), 'c1 c2 c3 ');
  const squeezed = types.filter((type, i) => type !== types[i - 1]);
  assert.deepEqual(squeezed.filter((type) => type !== 'response.in_progress'), [
    'response.created', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta',
    'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
  ]);
  assert.ok(events.every((e, i) => i === 0 || e.sequence_number > events[i - 1].sequence_number));
  const completed = events.at(-1).response;
  assert.equal(completed.status, 'completed');
  assert.equal(completed.output[0].content[0].text, 'c1 c2 c3 ');
  assert.ok(completed.usage.output_tokens > 0);
});

test('responses.stream(): text delta events and finalResponse()', async () => {
  const marker = nonce('rs');
  const stream = client().responses.stream({ model: 'gpt-4o', input: `streamed words ${marker}` });
  const deltas = [];
  stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
  let doneText = null;
  stream.on('response.output_text.done', (event) => { doneText = event.text; });
  const final = await stream.finalResponse();
  assert.equal(final.status, 'completed');
  assert.equal(final.output_text, `streamed words ${marker}`);
  assert.ok(deltas.length >= 3, `one delta per word: ${JSON.stringify(deltas)}`);
  assert.equal(deltas.join(''), final.output_text);
  assert.equal(doneText, final.output_text);
});

// ---------------------------------------------------------------- tools

/** The test's side of the loop: runs the function the model called. */
const getWeather = ({ city }) => `sunny in ${city}`;

test('function-tool loop, stateless: the model calls get_weather, the test sends the whole input with function_call_output, the model answers', async () => {
  const marker = nonce('loop');
  const input = [{ role: 'user', content: `[[tool:get_weather:{"city":"Paris-${marker}"}]]` }];
  const first = await client().responses.create({ model: 'gpt-4o', tools: [WEATHER], input });
  assert.equal(first.status, 'completed');
  const call = first.output.find((item) => item.type === 'function_call');
  assert.ok(call, JSON.stringify(first.output));
  assert.equal(call.name, 'get_weather');
  assert.match(call.call_id, /\S/);
  const args = JSON.parse(call.arguments);
  assert.deepEqual(args, { city: `Paris-${marker}` });
  assert.deepEqual(first.tools.map((tool) => tool.name), ['get_weather'], 'the Response echoes its tools');
  const frame = await stack.worker.waitRequest(marker);
  assert.equal(frame.tools[0].function.name, 'get_weather');

  // Stateless: the whole input again, the model's output items, and the result.
  const second = await client().responses.create({
    model: 'gpt-4o', tools: [WEATHER],
    input: [...input, ...first.output, { type: 'function_call_output', call_id: call.call_id, output: getWeather(args) }],
  });
  assert.equal(second.output_text, `tool result: sunny in Paris-${marker}`);
  const followUp = stack.worker.events.filter((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker)).at(-1);
  const assistant = followUp.messages.find((m) => m.role === 'assistant');
  assert.equal(assistant.tool_calls[0].id, call.call_id);
  const tool = followUp.messages.find((m) => m.role === 'tool');
  assert.equal(tool.tool_call_id, call.call_id);
});

test('responses.stream() with a function call: arguments delta/done events, the call in finalResponse()', async () => {
  const marker = nonce('stool');
  const stream = client().responses.stream({ model: 'gpt-4o', tools: [WEATHER], input: `[[tool:get_weather:{"city":"Oslo-${marker}"}]]` });
  const argumentDeltas = [];
  stream.on('response.function_call_arguments.delta', (event) => argumentDeltas.push(event.delta));
  let argumentsDone = null;
  stream.on('response.function_call_arguments.done', (event) => { argumentsDone = event.arguments; });
  const final = await stream.finalResponse();
  const call = final.output.find((item) => item.type === 'function_call');
  assert.ok(call, JSON.stringify(final.output));
  assert.deepEqual(JSON.parse(call.arguments), { city: `Oslo-${marker}` });
  assert.equal(argumentDeltas.join(''), call.arguments);
  assert.equal(argumentsDone, call.arguments);
});

test('a custom tool: offered as taking {"input": string}, the call comes back as custom_tool_call with the raw input', async () => {
  const marker = nonce('custom');
  const response = await client().responses.create({
    model: 'gpt-4o',
    tools: [{ type: 'custom', name: 'run_sql', description: 'Runs one SQL statement' }],
    input: `[[tool:run_sql:{"input":"SELECT '${marker}'"}]]`,
  });
  const call = response.output.find((item) => item.type === 'custom_tool_call');
  assert.ok(call, JSON.stringify(response.output));
  assert.equal(call.name, 'run_sql');
  assert.equal(call.input, `SELECT '${marker}'`);
  const frame = await stack.worker.waitRequest(marker);
  assert.equal(frame.tools[0].function.name, 'run_sql');
  assert.deepEqual(frame.tools[0].function.parameters.required, ['input']);
});

// ---------------------------------------------------------------- limits and failures

test('max_output_tokens: the reply is cut, status "incomplete" with reason max_output_tokens (create and stream)', async () => {
  const cut = await client().responses.create({ model: 'gpt-4o', max_output_tokens: 16, input: '[[chunks:200]]' });
  assert.equal(cut.status, 'incomplete');
  assert.deepEqual(cut.incomplete_details, { reason: 'max_output_tokens' });
  assert.ok(cut.output_text.length > 0 && cut.output_text.length < 200 * 4);
  const stream = client().responses.stream({ model: 'gpt-4o', max_output_tokens: 16, input: '[[chunks:200]]' });
  let incomplete = null;
  stream.on('response.incomplete', (event) => { incomplete = event.response; });
  const final = await stream.finalResponse();
  assert.equal(final.status, 'incomplete');
  assert.equal(incomplete?.incomplete_details?.reason, 'max_output_tokens');
});

test('a model failure mid-stream ends the stream with response.failed; finalResponse() has its error', async () => {
  const stream = client().responses.stream({ model: 'gpt-4o', input: '[[error-after-delta:internal:the model fell over]]' });
  let failed = null;
  stream.on('response.failed', (event) => { failed = event.response; });
  const final = await stream.finalResponse();
  assert.equal(final.status, 'failed');
  assert.ok(failed, 'a response.failed event');
  assert.equal(typeof failed.error.code, 'string');
  assert.match(failed.error.message, /the model fell over/);
});

test('responses.inputTokens.count: the token estimate of the input, more for more text', async () => {
  const short = await client().responses.inputTokens.count({ model: 'gpt-4o', input: 'Tell me a joke.' });
  assert.equal(short.object, 'response.input_tokens');
  assert.ok(Number.isInteger(short.input_tokens) && short.input_tokens > 0, JSON.stringify(short));
  const long = await client().responses.inputTokens.count({
    model: 'gpt-4o', instructions: 'be terse', tools: [WEATHER], input: 'Tell me a joke. '.repeat(50),
  });
  assert.ok(long.input_tokens > short.input_tokens * 10, `${long.input_tokens} vs ${short.input_tokens}`);
});

// ---------------------------------------------------------------- typed errors

test('400 BadRequestError: previous_response_id (nothing is stored; the message says to send the whole input)', async () => {
  const err = await expectApiError(() => client().responses.create({
    model: 'gpt-4o', previous_response_id: 'resp_abc', input: 'continue',
  }), BadRequestError);
  assert.equal(err.status, 400);
  assert.equal(err.type, 'invalid_request_error');
  assert.equal(err.param, 'previous_response_id');
  assert.match(err.message, /input/i);
});

test('404 NotFoundError: an unknown model (model_not_found), and responses.retrieve of any id', async () => {
  const unknown = await expectApiError(() => client().responses.create({ model: 'no-such-model-xyz', input: 'hi' }), NotFoundError);
  assert.equal(unknown.code, 'model_not_found');
  const retrieved = await expectApiError(() => client().responses.retrieve('resp_0123456789'), NotFoundError);
  assert.equal(retrieved.status, 404);
});

test('401 AuthenticationError: a wrong key on a stack that requires keys', async () => {
  await limitedKeyOnce();
  const err = await expectApiError(() => clientOf(limited, { apiKey: 'sk-litellm-not-a-key' }).responses.create({
    model: 'gpt-4o', input: 'hi',
  }), AuthenticationError);
  assert.equal(err.code, 'invalid_api_key');
});

test('429 RateLimitError with maxRetries 0 on a stack with limits-rpm = 1 (the first request passes)', async () => {
  const sdk = clientOf(limited, { apiKey: await limitedKeyOnce() });
  const ok = await sdk.responses.create({ model: 'gpt-4o', input: `first ${nonce('rpm')}` });
  assert.equal(ok.status, 'completed');
  const err = await expectApiError(() => sdk.responses.create({ model: 'gpt-4o', input: 'second' }), RateLimitError);
  assert.equal(err.code, 'rate_limit_exceeded');
  assert.ok(Number(err.headers.get('retry-after')) >= 1);
});
