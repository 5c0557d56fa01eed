// The official `openai` npm SDK against the real gateway, in its high-level
// helpers too: create (non-stream, stream), chat.completions.stream() with
// its events and finalChatCompletion(), runTools with real functions the
// loop calls (one call, several in a turn, a multi-step sequence, streaming),
// and parse() with a zod response format. The test worker plays the model,
// scripted to call tools. The SDK's fetch validates every response against
// OpenAI's OpenAPI document (harness validatingFetch).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { useStack, nonce, validatingFetch } from './harness.mjs';

const stack = useStack({ before, after });
let client;
const openai = () => (client ??= new OpenAI({
  baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0, fetch: validatingFetch,
}));

const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

test('openai: chat.completions.create, non-stream', async () => {
  const marker = nonce('oa');
  const completion = await openai().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `Hi ${marker}` }] });
  assert.equal(completion.choices[0].message.content, `Hi ${marker}`);
  assert.equal(completion.choices[0].finish_reason, 'stop');
  assert.equal(completion.usage.total_tokens, completion.usage.prompt_tokens + completion.usage.completion_tokens);
});

test('openai: chat.completions.create, stream with include_usage', async () => {
  const stream = await openai().chat.completions.create({
    model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: '[[chunks:4]]' }],
  });
  let content = '';
  let usage = null;
  for await (const chunk of stream) {
    content += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(content, 'c1 c2 c3 c4 ');
  assert.ok(usage && usage.completion_tokens > 0);
});

test('openai: chat.completions.stream() events and finalChatCompletion()', async () => {
  const runner = openai().chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: '[[chunks:3]]' }] });
  const deltas = [];
  runner.on('content', (delta) => deltas.push(delta));
  const final = await runner.finalChatCompletion();
  assert.deepEqual(deltas, ['c1 ', 'c2 ', 'c3 ']);
  assert.equal(final.choices[0].message.content, 'c1 c2 c3 ');
  assert.equal(final.choices[0].finish_reason, 'stop');
  assert.equal(final.object, 'chat.completion');
  assert.equal(await runner.finalContent(), 'c1 c2 c3 ');
});

test('openai: chat.completions.stream() with a tool call: arguments events and the final tool_calls', async () => {
  const runner = openai().chat.completions.stream({
    model: 'gpt-4o', tools: [WEATHER], messages: [{ role: 'user', content: '[[tool:get_weather:{"city":"Lyon"}]]' }],
  });
  const done = [];
  runner.on('tool_calls.function.arguments.done', (event) => done.push(event));
  const final = await runner.finalChatCompletion();
  const choice = final.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.tool_calls.length, 1);
  assert.match(choice.message.tool_calls[0].id, /^call_/);
  assert.equal(choice.message.tool_calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(choice.message.tool_calls[0].function.arguments), { city: 'Lyon' });
  assert.equal(done.length, 1, 'one arguments.done event');
  assert.equal(done[0].name, 'get_weather');
  assert.deepEqual(JSON.parse(done[0].arguments), { city: 'Lyon' });
});

/** A runTools tool whose function records its calls. */
function recordingTool(name, result, calls) {
  return {
    type: 'function',
    function: {
      name,
      description: `${name} (test)`,
      parameters: { type: 'object', properties: { city: { type: 'string' }, zone: { type: 'string' } } },
      parse: JSON.parse,
      function: async (args) => { calls.push({ name, args }); return result(args); },
    },
  };
}

test('openai: runTools calls the real function and sends its result back (non-stream)', async () => {
  const marker = nonce('run');
  const calls = [];
  const runner = openai().chat.completions.runTools({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: `weather? ${marker} [[tool:get_weather:{"city":"Paris"}]]` }],
    tools: [recordingTool('get_weather', ({ city }) => `22 C in ${city}`, calls)],
  });
  assert.equal(await runner.finalContent(), 'tool result: 22 C in Paris');
  assert.deepEqual(calls, [{ name: 'get_weather', args: { city: 'Paris' } }]);
  const messages = runner.messages;
  assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'tool', 'assistant']);
  const frame = await stack.worker.waitEvent((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker) &&
    e.messages.some((m) => m.role === 'tool'), 'the second request of the loop');
  assert.equal(frame.messages.at(-1).content, '22 C in Paris');
  assert.equal(frame.messages.at(-1).tool_call_id, frame.messages.at(-2).tool_calls[0].id);
});

test('openai: runTools with two calls in one turn calls both functions', async () => {
  const calls = [];
  const runner = openai().chat.completions.runTools({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: '[[tools:[{"name":"get_weather","arguments":{"city":"Oslo"}},{"name":"get_time","arguments":{"zone":"CET"}}]]]' }],
    tools: [
      recordingTool('get_weather', ({ city }) => `cold in ${city}`, calls),
      recordingTool('get_time', ({ zone }) => `noon ${zone}`, calls),
    ],
  });
  assert.equal(await runner.finalContent(), 'tool results: cold in Oslo | noon CET');
  assert.deepEqual(calls.map((c) => c.name).sort(), ['get_time', 'get_weather']);
});

test('openai: runTools streaming, a multi-step sequence of tool calls', async () => {
  const calls = [];
  const runner = openai().chat.completions.runTools({
    model: 'gpt-4o',
    stream: true,
    messages: [{ role: 'user', content: '[[tool-seq:[{"name":"get_weather","arguments":{"city":"Nice"}},{"name":"get_time","arguments":{"zone":"UTC"}}]]]' }],
    tools: [
      recordingTool('get_weather', ({ city }) => `mild in ${city}`, calls),
      recordingTool('get_time', ({ zone }) => `9:00 ${zone}`, calls),
    ],
  });
  let streamed = '';
  runner.on('content', (delta) => { streamed += delta; });
  assert.equal(await runner.finalContent(), 'tool results: mild in Nice | 9:00 UTC');
  assert.deepEqual(calls.map((c) => c.name), ['get_weather', 'get_time'], 'one call per step, in order');
  assert.ok(streamed.endsWith('tool results: mild in Nice | 9:00 UTC'), streamed);
  assert.equal(runner.messages.filter((m) => m.role === 'tool').length, 2);
});

test('openai: parse() with a zod response format (json_schema) gets a parsed object', async () => {
  const marker = nonce('parse');
  const Answer = z.object({ city: z.string(), temperature: z.number() });
  const completion = await openai().chat.completions.parse({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: `${marker} [[reply:{"city":"Paris","temperature":21}]]` }],
    response_format: zodResponseFormat(Answer, 'answer'),
  });
  assert.deepEqual(completion.choices[0].message.parsed, { city: 'Paris', temperature: 21 });
  const frame = await stack.worker.waitRequest(marker);
  assert.ok(frame.messages.some((m) => m.role === 'system' && m.content.includes('"temperature"')),
    'the schema reached the model as an instruction');
});
