// LangChain's `@langchain/openai` ChatOpenAI against the real gateway:
// invoke, stream (with usage), bindTools with a tool-calling round trip (the
// tool really runs), streamed tool-call chunks merged by LangChain, and
// withStructuredOutput both ways (json_schema response format; a forced
// function call). The test worker plays the model, scripted to call tools.
// LangChain's fetch validates every response against OpenAI's OpenAPI
// document (harness validatingFetch).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ChatOpenAI } from '@langchain/openai';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { useStack, nonce, validatingFetch } from './harness.mjs';

const stack = useStack({ before, after });

function chat(options = {}) {
  return new ChatOpenAI({
    model: 'gpt-4o',
    apiKey: 'unused',
    maxRetries: 0,
    useResponsesApi: false,
    configuration: { baseURL: `${stack.baseUrl}/v1`, fetch: validatingFetch },
    ...options,
  });
}

const weatherCalls = [];
const getWeather = tool(async ({ city }) => {
  weatherCalls.push(city);
  return `19 C in ${city}`;
}, {
  name: 'get_weather',
  description: 'Current weather of a city',
  schema: z.object({ city: z.string() }),
});

test('langchain: invoke', async () => {
  const marker = nonce('lc');
  const reply = await chat().invoke([new SystemMessage('be brief'), new HumanMessage(`Hello ${marker}`)]);
  assert.equal(reply.content, `Hello ${marker}`);
  assert.equal(reply.response_metadata.finish_reason, 'stop');
  assert.ok(reply.usage_metadata.input_tokens > 0);
  assert.equal(reply.usage_metadata.total_tokens, reply.usage_metadata.input_tokens + reply.usage_metadata.output_tokens);
  const frame = await stack.worker.waitRequest(marker);
  assert.deepEqual(frame.messages.map((m) => m.role), ['system', 'user']);
});

test('langchain: stream, chunk by chunk, with usage at the end', async () => {
  const stream = await chat().stream('[[chunks:5]]');
  const pieces = [];
  let merged;
  for await (const chunk of stream) {
    if (chunk.content) pieces.push(chunk.content);
    merged = merged ? merged.concat(chunk) : chunk;
  }
  assert.deepEqual(pieces, ['c1 ', 'c2 ', 'c3 ', 'c4 ', 'c5 ']);
  assert.equal(merged.content, 'c1 c2 c3 c4 c5 ');
  assert.ok(merged.usage_metadata && merged.usage_metadata.output_tokens > 0, `usage: ${JSON.stringify(merged.usage_metadata)}`);
});

test('langchain: bindTools round trip: the model calls the tool, the tool runs, the model answers with its result', async () => {
  const marker = nonce('lctool');
  const model = chat().bindTools([getWeather]);
  const messages = [new HumanMessage(`Weather in Paris? ${marker} [[tool:get_weather:{"city":"Paris"}]]`)];
  const first = await model.invoke(messages);
  assert.equal(first.tool_calls.length, 1, JSON.stringify(first));
  assert.equal(first.tool_calls[0].name, 'get_weather');
  assert.deepEqual(first.tool_calls[0].args, { city: 'Paris' });
  assert.match(first.tool_calls[0].id, /^call_/);
  assert.equal(first.response_metadata.finish_reason, 'tool_calls');
  messages.push(first);
  const before = weatherCalls.length;
  messages.push(await getWeather.invoke(first.tool_calls[0]));
  assert.deepEqual(weatherCalls.slice(before), ['Paris']);
  const second = await model.invoke(messages);
  assert.equal(second.content, 'tool result: 19 C in Paris');
  const frame = await stack.worker.waitEvent((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker) &&
    e.messages.some((m) => m.role === 'tool'), 'the second request');
  assert.equal(frame.tools[0].function.name, 'get_weather');
  assert.equal(frame.messages.at(-1).tool_call_id, first.tool_calls[0].id);
});

test('langchain: streamed tool-call chunks merge into one tool call', async () => {
  const model = chat().bindTools([getWeather]);
  let merged;
  for await (const chunk of await model.stream('[[tool:get_weather:{"city":"Berlin"}]]')) {
    merged = merged ? merged.concat(chunk) : chunk;
  }
  assert.equal(merged.tool_calls.length, 1, JSON.stringify(merged.tool_call_chunks));
  assert.equal(merged.tool_calls[0].name, 'get_weather');
  assert.deepEqual(merged.tool_calls[0].args, { city: 'Berlin' });
  assert.match(merged.tool_calls[0].id, /^call_/);
});

test('langchain: several tool calls in one turn', async () => {
  const model = chat().bindTools([getWeather]);
  const reply = await model.invoke('[[tools:[{"name":"get_weather","arguments":{"city":"Rome"}},{"name":"get_weather","arguments":{"city":"Milan"}}]]]');
  assert.deepEqual(reply.tool_calls.map((c) => c.args.city), ['Rome', 'Milan']);
  assert.equal(new Set(reply.tool_calls.map((c) => c.id)).size, 2);
});

const Weather = z.object({ city: z.string(), celsius: z.number() });

test('langchain: withStructuredOutput (jsonSchema: response_format json_schema)', async () => {
  const model = chat().withStructuredOutput(Weather, { method: 'jsonSchema', name: 'weather' });
  const result = await model.invoke('[[reply:{"city":"Paris","celsius":20}]]');
  assert.deepEqual(result, { city: 'Paris', celsius: 20 });
});

test('langchain: withStructuredOutput (functionCalling: a forced tool call)', async () => {
  const marker = nonce('lcfc');
  const model = chat().withStructuredOutput(Weather, { method: 'functionCalling', name: 'weather' });
  const result = await model.invoke(`${marker} [[tool:weather:{"city":"Oslo","celsius":3}]]`);
  assert.deepEqual(result, { city: 'Oslo', celsius: 3 });
  const frame = await stack.worker.waitRequest(marker);
  assert.equal(frame.tool_choice, 'required', 'the named tool_choice became required');
  assert.deepEqual(frame.tools.map((t) => t.function.name), ['weather']);
});
