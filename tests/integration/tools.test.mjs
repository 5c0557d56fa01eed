// Tool calls end to end: non-stream, stream, and the round trip with the tool result.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { validatingFetch, useStack, postChat, openStream, assertCompletion, assertStreamBody, nonce } from './harness.mjs';

const stack = useStack({ before, after });

const TOOLS = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
}];

const askWeather = (marker) => `What is the weather in Paris? ${marker} [[tool:get_weather:{"city":"Paris"}]]`;

test('non-stream tool call → message.tool_calls and finish_reason tool_calls', async () => {
  const marker = nonce('tool');
  const response = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: askWeather(marker) }], tools: TOOLS });
  assert.equal(response.status, 200, response.text);
  const choice = assertCompletion(assert, response.json);
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.ok(Array.isArray(choice.message.tool_calls), `tool_calls present: ${response.text}`);
  assert.equal(choice.message.tool_calls.length, 1);
  const call = choice.message.tool_calls[0];
  assert.match(call.id, /^call_/);
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.equal(typeof call.function.arguments, 'string', 'arguments is JSON text');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
  const request = await stack.worker.waitRequest(marker);
  assert.ok(Array.isArray(request.tools), 'the request frame carries tools');
  assert.equal(request.tools[0].function.name, 'get_weather');
  assert.deepEqual(request.tools[0].function.parameters, TOOLS[0].function.parameters);
});

test('stream tool call → delta.tool_calls, finish_reason tool_calls, [DONE]', async () => {
  const marker = nonce('toolsse');
  const stream = await openStream(stack.port, {
    model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: askWeather(marker) }], tools: TOOLS,
  });
  assert.equal(stream.status, 200);
  const { toolCalls, finishReason, chunks } = assertStreamBody(assert, await stream.readToEnd());
  assert.equal(finishReason, 'tool_calls');
  assert.equal(toolCalls.length, 1, `one tool call in ${JSON.stringify(chunks)}`);
  assert.match(toolCalls[0].id, /^call_/);
  assert.equal(toolCalls[0].type, 'function');
  assert.equal(toolCalls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(toolCalls[0].function.arguments), { city: 'Paris' });
  const first = chunks.find((c) => c.choices[0]?.delta?.tool_calls);
  assert.equal(first.choices[0].delta.tool_calls[0].index, 0);
});

test('round trip: the tool result goes back and the model answers with it', async () => {
  const marker = nonce('round');
  const first = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: askWeather(marker) }], tools: TOOLS });
  assert.equal(first.status, 200, first.text);
  const assistant = first.json.choices[0].message;
  const call = assistant.tool_calls[0];
  const messages = [
    { role: 'user', content: askWeather(marker) },
    { role: 'assistant', content: null, tool_calls: assistant.tool_calls },
    { role: 'tool', tool_call_id: call.id, content: '22 C and sunny' },
  ];
  const second = await postChat(stack.port, { model: 'gpt-4o', messages, tools: TOOLS });
  assert.equal(second.status, 200, second.text);
  const choice = assertCompletion(assert, second.json);
  assert.equal(choice.message.content, 'tool result: 22 C and sunny');
  assert.equal(choice.finish_reason, 'stop');
  // The request frame carried the assistant's tool call and the tool message with its id.
  const frame = await stack.worker.waitEvent((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker) &&
    e.messages.some((m) => m.role === 'tool'), 'the round-trip request frame');
  assert.deepEqual(frame.messages.map((m) => m.role), ['user', 'assistant', 'tool']);
  assert.equal(frame.messages[1].tool_calls[0].id, call.id);
  assert.equal(frame.messages[1].tool_calls[0].function.name, 'get_weather');
  assert.equal(frame.messages[2].tool_call_id, call.id);
});

test('SDK: tool call and round trip through the openai client', async () => {
  const client = new OpenAI({ fetch: validatingFetch, baseURL: `http://127.0.0.1:${stack.port}/v1`, apiKey: 'unused', maxRetries: 0 });
  const marker = nonce('sdktool');
  const messages = [{ role: 'user', content: askWeather(marker) }];
  const first = await client.chat.completions.create({ model: 'gpt-4o', messages, tools: TOOLS });
  assert.equal(first.choices[0].finish_reason, 'tool_calls');
  const call = first.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, 'get_weather');
  messages.push(first.choices[0].message);
  messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify({ temp: 22 }) });
  const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, tools: TOOLS, stream: true });
  let content = '';
  for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(content, 'tool result: {"temp":22}');
});

test('tool_choice naming a function sends only that tool, as required', async () => {
  const marker = nonce('choice');
  const toolChoice = { type: 'function', function: { name: 'get_weather' } };
  const response = await postChat(stack.port, {
    model: 'gpt-4o',
    messages: [{ role: 'user', content: askWeather(marker) }],
    tools: [{ type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } }, ...TOOLS],
    tool_choice: toolChoice,
  });
  assert.equal(response.status, 200, response.text);
  const request = await stack.worker.waitRequest(marker);
  // VS Code has no "call this tool" mode: only that tool, and Required.
  assert.equal(request.tool_choice, 'required');
  assert.deepEqual(request.tools.map((tool) => tool.function.name), ['get_weather']);
});
