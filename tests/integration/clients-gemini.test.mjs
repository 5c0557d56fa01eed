// Google's own SDK (`@google/genai`, pinned in tests/package.json) against the
// real stack, through nginx (issue 18, item 9): models.generateContent with a
// systemInstruction, generateContentStream, countTokens, a function-calling
// round trip (functionCall → functionResponse) plain and streamed,
// models.list and models.get, and its errors (400, 401 on a stack with a key,
// 404, 429 for a shared limit and for a VS Code quota refusal, 503 on a stack
// with no VS Code window) surfacing as the SDK's ApiError with the HTTP status.
//
// Every response the SDK receives is validated through validatingFetch
// against tests/spec/gemini.schema.json, and every stream is read by the
// strict Gemini stream reader (lib/spec-guard.mjs, lib/gemini-stream.mjs).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ApiError, GoogleGenAI, FunctionCallingConfigMode } from '@google/genai';
import { validatingFetch, useStacks, writeFcgiConfig, nonce, httpRequest, waitUntil } from './harness.mjs';

const [stack, keyed, limited, windowless] = useStacks({ before, after }, 4, ({ dir }) => [
  {},
  {},
  { ctlArgs: ['--fcgi-config', writeFcgiConfig(path.join(dir, 'limited.conf'), { 'limits-rpm': 1 })] },
  { worker: false },
], { tag: 'lgemini' });

/** An SDK client of `on` (default: the first stack); every response validated; the SDK retries nothing by default. */
function client(on = stack, apiKey = 'unused') {
  return new GoogleGenAI({ apiKey, httpOptions: { baseUrl: on.baseUrl, fetch: validatingFetch } });
}

/** Runs fn, expects the SDK's ApiError with `status`; returns it and its parsed body. */
async function expectApiError(fn, status) {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected an ApiError, got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.status, status, err.message);
    // The body is the message (a stream's error frame: after "got status: STATUS. ").
    let body;
    try { body = JSON.parse(err.message.slice(err.message.indexOf('{'))); } catch { body = undefined; }
    assert.equal(body?.error?.code, status, `the SDK's message is Google's error body: ${err.message}`);
    return { err, body };
  }
  assert.fail(`expected an ApiError ${status}, but the call succeeded`);
}

const WEATHER_TOOL = {
  functionDeclarations: [{
    name: 'get_weather',
    description: 'The weather in a city',
    parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  }],
};

/** A real tool: the weather the test knows for a city. */
const weatherOf = ({ city }) => ({ city, forecast: `sunny in ${city}`, celsius: 21 });

// ---------------------------------------------------------------- generateContent

test('models.generateContent: the worker\'s text, STOP, usage that adds up; the systemInstruction reached the model', async () => {
  const marker = nonce('gen');
  const response = await client().models.generateContent({
    model: 'gpt-4o', contents: `Hello from the Google SDK ${marker}`, config: { systemInstruction: `be terse ${marker}` },
  });
  assert.equal(response.text, `Hello from the Google SDK ${marker}`);
  assert.equal(response.candidates[0].finishReason, 'STOP');
  assert.equal(response.candidates[0].content.role, 'model');
  const usage = response.usageMetadata;
  assert.ok(usage.promptTokenCount > 0 && usage.candidatesTokenCount > 0, JSON.stringify(usage));
  assert.equal(usage.totalTokenCount, usage.promptTokenCount + usage.candidatesTokenCount);
  const frame = await stack.worker.waitRequest(marker);
  assert.equal(frame.model, 'test/gpt-4o');
  assert.ok(JSON.stringify(frame.messages).includes(`be terse ${marker}`), 'the system instruction reached the model');
});

test('models.generateContent: a gateway id with a slash (copilot-style test/gpt-4o) and a multi-turn history', async () => {
  const marker = nonce('hist');
  const response = await client().models.generateContent({
    model: 'test/gpt-4o',
    contents: [
      { role: 'user', parts: [{ text: 'first' }] },
      { role: 'model', parts: [{ text: 'an earlier answer' }] },
      { role: 'user', parts: [{ text: `[[reply:second ${marker}]]` }] },
    ],
  });
  assert.equal(response.text, `second ${marker}`);
  const frame = await stack.worker.waitRequest(marker);
  assert.deepEqual(frame.messages.map((m) => m.role), ['user', 'assistant', 'user']);
});

test('models.generateContentStream: several chunks joined into the worker\'s text, the last with STOP and usage', async () => {
  const marker = nonce('stream');
  const chunks = [];
  for await (const chunk of await client().models.generateContentStream({ model: 'gpt-4o', contents: `[[chunks:5]] ${marker}` })) chunks.push(chunk);
  assert.ok(chunks.length >= 2, `${chunks.length} chunks`);
  assert.equal(chunks.map((c) => c.text ?? '').join(''), 'c1 c2 c3 c4 c5 ');
  const last = chunks.at(-1);
  assert.equal(last.candidates[0].finishReason, 'STOP');
  assert.ok(last.usageMetadata.promptTokenCount > 0);
  assert.ok(chunks.slice(0, -1).every((c) => !c.candidates?.[0]?.finishReason), 'only the last chunk ends the turn');
});

// JSON allows U+2028/U+2029 raw, but a raw one stalls Gemini CLI's parser
// (gemini-cli.test.mjs): the gateway writes them as \u2028/\u2029.
test('generateContentStream: U+2028 and U+2029 in the model\'s text reach the client intact, escaped in the data line (a raw one stalls Gemini CLI\'s parser)', async () => {
  const marker = nonce('sep');
  const text = `line\u2028separator\u2029paragraph ${marker}`;
  let received = '';
  for await (const chunk of await client().models.generateContentStream({ model: 'gpt-4o', contents: `[[reply:${text}]]` })) received += chunk.text ?? '';
  assert.equal(received, text);
  // The strict reader (validatingFetch) refuses a raw U+2028/U+2029 in a data line: the afterEach hook fails this test on one.
});

// ---------------------------------------------------------------- countTokens

test('models.countTokens: the token estimator\'s count, never a fake 0, growing with the text', async () => {
  const ai = client();
  const short = await ai.models.countTokens({ model: 'gpt-4o', contents: 'Hello there' });
  const long = await ai.models.countTokens({ model: 'gpt-4o', contents: 'Hello there '.repeat(200) });
  assert.ok(short.totalTokens > 0, JSON.stringify(short));
  assert.ok(long.totalTokens > 200 && long.totalTokens > short.totalTokens, `${long.totalTokens} for 200 repeats vs ${short.totalTokens}`);
  assert.ok(!stack.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages ?? '').includes('Hello there Hello there')), 'counting sends nothing to the model');
});

// ---------------------------------------------------------------- function calling

test('function calling: the model calls get_weather, the SDK\'s functionCalls carry it whole, the functionResponse goes back, the model answers from it', async () => {
  const ai = client();
  const marker = nonce('fc');
  const prompt = `[[tool:get_weather:{"city":"Paris-${marker}"}]]`;
  const config = { tools: [WEATHER_TOOL], toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.AUTO } } };
  const first = await ai.models.generateContent({ model: 'gpt-4o', contents: prompt, config });
  assert.equal(first.functionCalls?.length, 1, JSON.stringify(first.candidates));
  const [call] = first.functionCalls;
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(call.args, { city: `Paris-${marker}` });
  assert.ok(call.id, 'the call carries its id');
  assert.equal(first.candidates[0].finishReason, 'STOP', 'Gemini ends function-call turns with STOP');
  const frame = await stack.worker.waitRequest(marker);
  assert.deepEqual(frame.tools.map((t) => t.function.name), ['get_weather']);

  const second = await ai.models.generateContent({
    model: 'gpt-4o',
    contents: [
      { role: 'user', parts: [{ text: prompt }] },
      first.candidates[0].content,
      { role: 'user', parts: [{ functionResponse: { id: call.id, name: call.name, response: weatherOf(call.args) } }] },
    ],
    config,
  });
  assert.match(second.text, new RegExp(`^tool result: .*sunny in Paris-${marker}`));
  const followUp = stack.worker.events.filter((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker)).at(-1);
  const toolMessage = followUp.messages.find((m) => m.role === 'tool');
  assert.ok(toolMessage, `the functionResponse reached the model as a tool result: ${JSON.stringify(followUp.messages)}`);
  assert.equal(toolMessage.tool_call_id, call.id, 'paired with the call by id');
});

test('function calling streamed: the functionCall arrives whole in one chunk; the follow-up stream answers; a name-only functionResponse pairs by position', async () => {
  const ai = client();
  const marker = nonce('fcs');
  const prompt = `[[tool:get_weather:{"city":"Oslo-${marker}"}]]`;
  const config = { tools: [WEATHER_TOOL] };
  const calls = [];
  let content = null;
  for await (const chunk of await ai.models.generateContentStream({ model: 'gpt-4o', contents: prompt, config })) {
    for (const call of chunk.functionCalls ?? []) calls.push(call);
    if (chunk.candidates?.[0]?.content?.parts?.length) content = chunk.candidates[0].content;
  }
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0].args, { city: `Oslo-${marker}` });
  // langchain-google-genai's way: the functionResponse without an id (Gemini pairs by name and order).
  let text = '';
  for await (const chunk of await ai.models.generateContentStream({
    model: 'gpt-4o',
    contents: [
      { role: 'user', parts: [{ text: prompt }] },
      content,
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: weatherOf(calls[0].args) } }] },
    ],
    config,
  })) text += chunk.text ?? '';
  assert.match(text, new RegExp(`^tool result: .*sunny in Oslo-${marker}`));
});

// ---------------------------------------------------------------- models

test('models.list and models.get: the window\'s models in Google\'s shape (name models/<id>, generation methods)', async () => {
  const ai = client();
  const models = [];
  for await (const model of await ai.models.list()) models.push(model);
  const names = models.map((m) => m.name);
  assert.ok(names.includes('models/test/gpt-4o'), names.join(', '));
  const gpt = models.find((m) => m.name === 'models/test/gpt-4o');
  assert.ok(gpt.inputTokenLimit > 0);
  assert.ok(gpt.supportedActions.includes('generateContent') && gpt.supportedActions.includes('streamGenerateContent') && gpt.supportedActions.includes('countTokens'));
  const one = await ai.models.get({ model: 'test/gpt-4o' });
  assert.equal(one.name, 'models/test/gpt-4o');
  await expectApiError(() => ai.models.get({ model: 'no-such-model-here' }), 404);
});

// ---------------------------------------------------------------- errors

test('errors: 400 INVALID_ARGUMENT for a malformed body, 404 NOT_FOUND listing the models, as ApiError with the status', async () => {
  const ai = client();
  const bad = await expectApiError(() => ai.models.generateContent({ model: 'gpt-4o', contents: [{ role: 'robot', parts: [{ text: 'hi' }] }] }), 400);
  assert.equal(bad.body.error.status, 'INVALID_ARGUMENT');
  assert.match(bad.body.error.message, /role/);
  const missing = await expectApiError(() => ai.models.generateContent({ model: 'gemini-9-ultra', contents: 'hi' }), 404);
  assert.equal(missing.body.error.status, 'NOT_FOUND');
  assert.match(missing.body.error.message, /test\/gpt-4o/, 'the message lists the available models');
  await expectApiError(async () => {
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-9-ultra', contents: 'hi' })) assert.fail(`a chunk: ${JSON.stringify(chunk)}`);
  }, 404);
});

test('errors: 401 UNAUTHENTICATED on a stack with a key, for a wrong key; the right key works (x-goog-api-key)', async () => {
  const added = await keyed.keys(['add', 'gemini-client']);
  const key = /sk-litellm-[A-Za-z0-9_-]+/.exec(added.stdout)?.[0];
  assert.ok(key, added.stdout);
  await waitUntil(async () => (await httpRequest(keyed.port, {
    method: 'POST', path: '/v1beta/models/gpt-4o:generateContent', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
  })).status === 401, 'the keyed stack to require its key');
  const wrong = await expectApiError(() => client(keyed, 'sk-litellm-wrong').models.generateContent({ model: 'gpt-4o', contents: 'hi' }), 401);
  assert.equal(wrong.body.error.status, 'UNAUTHENTICATED');
  const marker = nonce('key');
  const response = await client(keyed, key).models.generateContent({ model: 'gpt-4o', contents: `[[reply:keyed ${marker}]]` });
  assert.equal(response.text, `keyed ${marker}`);
});

test('errors: 429 RESOURCE_EXHAUSTED for a shared limit (limits-rpm = 1) and for a VS Code quota refusal (a terminal ErrorInfo)', async () => {
  const ai = client(limited);
  await ai.models.generateContent({ model: 'gpt-4o', contents: 'the one request of this minute' });
  const limit = await expectApiError(() => ai.models.generateContent({ model: 'gpt-4o', contents: 'one too many' }), 429);
  assert.equal(limit.body.error.status, 'RESOURCE_EXHAUSTED');

  const quota = await expectApiError(() => client().models.generateContent({ model: 'gpt-4o', contents: '[[error:rate_limited:You have exceeded your premium request allowance.]]' }), 429);
  assert.equal(quota.body.error.status, 'RESOURCE_EXHAUSTED');
  assert.match(quota.body.error.message, /premium request allowance/);
  assert.ok(quota.body.error.details.some((d) => d['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo'), JSON.stringify(quota.body));
  // Streamed: the refusal comes before the head (it waits briefly for the first frame), so it keeps its status.
  await expectApiError(async () => {
    for await (const chunk of await client().models.generateContentStream({ model: 'gpt-4o', contents: '[[error:rate_limited:quota gone]]' })) assert.fail(JSON.stringify(chunk));
  }, 429);
});

test('errors: 503 UNAVAILABLE with no VS Code window connected', async () => {
  const gone = await expectApiError(() => client(windowless).models.generateContent({ model: 'gpt-4o', contents: 'hi' }), 503);
  assert.equal(gone.body.error.status, 'UNAVAILABLE');
  assert.match(gone.body.error.message, /VS Code/);
});

test('errors: a failure after the head is the stream\'s last data: {"error"} frame, which the SDK raises as ApiError', async () => {
  const texts = [];
  await expectApiError(async () => {
    for await (const chunk of await client().models.generateContentStream({ model: 'gpt-4o', contents: '[[error-after-delta:internal]]' })) texts.push(chunk.text);
  }, 502);
  assert.deepEqual(texts, ['partial '], 'the text before the failure arrived');
});
