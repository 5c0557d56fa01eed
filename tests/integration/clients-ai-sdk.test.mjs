// The Vercel AI SDK (`ai` 6, with `@ai-sdk/openai-compatible`) against the
// real gateway: generateText, streamText (text deltas, usage), tools with a
// multi-step loop (stopWhen: stepCountIs), in both, with the tools really
// executed, and generateObject with structured outputs (response_format
// json_schema). The test worker plays the model, scripted to call tools. The
// provider's fetch validates every response against OpenAI's OpenAPI
// document (harness validatingFetch).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, streamText, generateObject, tool, stepCountIs } from 'ai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { z } from 'zod';
import { useStack, nonce, validatingFetch } from './harness.mjs';

const stack = useStack({ before, after });

function provider(options = {}) {
  return createOpenAICompatible({
    name: 'vscode-litellm',
    baseURL: `${stack.baseUrl}/v1`,
    apiKey: 'unused',
    includeUsage: true,
    fetch: validatingFetch,
    ...options,
  });
}
const model = (id = 'gpt-4o', options) => provider(options).chatModel(id);

/** Tools whose executions are recorded. */
function tools(calls) {
  return {
    get_weather: tool({
      description: 'Current weather of a city',
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }) => { calls.push(['get_weather', city]); return `17 C in ${city}`; },
    }),
    get_time: tool({
      description: 'Time in a zone',
      inputSchema: z.object({ zone: z.string() }),
      execute: async ({ zone }) => { calls.push(['get_time', zone]); return `10:30 ${zone}`; },
    }),
  };
}

const SEQUENCE = '[[tool-seq:[{"name":"get_weather","arguments":{"city":"Bern"}},{"name":"get_time","arguments":{"zone":"CET"}}]]]';

test('ai-sdk: generateText', async () => {
  const marker = nonce('ai');
  const result = await generateText({ model: model(), prompt: `Hello ${marker}`, maxRetries: 0 });
  assert.equal(result.text, `Hello ${marker}`);
  assert.equal(result.finishReason, 'stop');
  assert.ok(result.usage.inputTokens > 0 && result.usage.outputTokens > 0, JSON.stringify(result.usage));
  assert.equal(result.response.modelId, 'test/gpt-4o');
});

test('ai-sdk: streamText, delta by delta, with usage', async () => {
  const result = streamText({ model: model('claude-3.5-sonnet'), prompt: '[[chunks:4]]', maxRetries: 0 });
  const deltas = [];
  for await (const delta of result.textStream) deltas.push(delta);
  assert.deepEqual(deltas, ['c1 ', 'c2 ', 'c3 ', 'c4 ']);
  assert.equal(await result.text, 'c1 c2 c3 c4 ');
  assert.equal(await result.finishReason, 'stop');
  const usage = await result.usage;
  assert.ok(usage.outputTokens > 0, JSON.stringify(usage));
});

test('ai-sdk: generateText with tools, a multi-step loop (tool, tool, answer)', async () => {
  const calls = [];
  const result = await generateText({
    model: model(), tools: tools(calls), stopWhen: stepCountIs(5), prompt: SEQUENCE, maxRetries: 0,
  });
  assert.deepEqual(calls, [['get_weather', 'Bern'], ['get_time', 'CET']]);
  assert.equal(result.steps.length, 3, 'two tool steps and the answer');
  assert.deepEqual(result.steps.map((s) => s.finishReason), ['tool-calls', 'tool-calls', 'stop']);
  assert.equal(result.text, 'tool results: 17 C in Bern | 10:30 CET');
});

test('ai-sdk: generateText with two tool calls in one step', async () => {
  const calls = [];
  const result = await generateText({
    model: model(),
    tools: tools(calls),
    stopWhen: stepCountIs(3),
    prompt: '[[tools:[{"name":"get_weather","arguments":{"city":"Riga"}},{"name":"get_time","arguments":{"zone":"EET"}}]]]',
    maxRetries: 0,
  });
  assert.deepEqual(calls.sort(), [['get_time', 'EET'], ['get_weather', 'Riga']]);
  assert.equal(result.steps[0].toolCalls.length, 2);
  assert.equal(result.text, 'tool results: 17 C in Riga | 10:30 EET');
});

test('ai-sdk: streamText with tools, a multi-step loop, streamed tool-call parts', async () => {
  const marker = nonce('aistream');
  const calls = [];
  const result = streamText({
    model: model(), tools: tools(calls), stopWhen: stepCountIs(5), prompt: `${marker} ${SEQUENCE}`, maxRetries: 0,
  });
  const kinds = new Set();
  const toolCalls = [];
  for await (const part of result.fullStream) {
    kinds.add(part.type);
    if (part.type === 'tool-call') toolCalls.push([part.toolName, part.input]);
    if (part.type === 'error') throw part.error;
  }
  assert.deepEqual(toolCalls, [['get_weather', { city: 'Bern' }], ['get_time', { zone: 'CET' }]]);
  assert.deepEqual(calls, [['get_weather', 'Bern'], ['get_time', 'CET']]);
  assert.ok(kinds.has('tool-input-start') && kinds.has('tool-input-delta'), `streamed tool input: ${[...kinds]}`);
  assert.equal(await result.text, 'tool results: 17 C in Bern | 10:30 CET');
  assert.equal((await result.steps).length, 3);
  const last = await stack.worker.waitEvent((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker) &&
    e.messages.filter((m) => m.role === 'tool').length === 2, 'the third request, with both tool results');
  assert.deepEqual(last.messages.map((m) => m.role), ['user', 'assistant', 'tool', 'assistant', 'tool']);
});

test('ai-sdk: generateObject with structured outputs (response_format json_schema)', async () => {
  const marker = nonce('aiobj');
  const result = await generateObject({
    model: model('gpt-4o', { supportsStructuredOutputs: true }),
    schema: z.object({ city: z.string(), celsius: z.number() }),
    prompt: `${marker} [[reply:{"city":"Vienna","celsius":12}]]`,
    maxRetries: 0,
  });
  assert.deepEqual(result.object, { city: 'Vienna', celsius: 12 });
  const frame = await stack.worker.waitRequest(marker);
  assert.ok(frame.messages.some((m) => m.role === 'system' && m.content.includes('"celsius"')), 'the schema reached the model');
});
