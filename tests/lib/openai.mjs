// openai.mjs: assertions on OpenAI shapes (completions, streams, error
// objects, x-ratelimit-* headers) and request bodies.

import { sseData } from './http.mjs';

/** Asserts the body is {"error":{"message","type","param","code"}} and returns the error. */
export function openAiError(assert, response, status) {
  assert.equal(response.status, status, `HTTP status; body: ${response.text}`);
  assert.match(String(response.headers['content-type']), /application\/json/, 'content-type of an error');
  assert.ok(response.headers['x-request-id'], 'x-request-id header on an error');
  assert.ok(response.json && typeof response.json === 'object', `error body is JSON: ${response.text}`);
  const error = response.json.error;
  assert.ok(error && typeof error === 'object', `body has "error": ${response.text}`);
  for (const key of ['message', 'type', 'param', 'code']) {
    assert.ok(key in error, `error.${key} is present in ${response.text}`);
  }
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0, 'error.message is not empty');
  assert.equal(typeof error.type, 'string');
  return error;
}

/** Asserts a 401 invalid_api_key as the responder sends it (no retry); returns the error. */
export function assertInvalidKey(assert, response) {
  const error = openAiError(assert, response, 401);
  assert.equal(error.code, 'invalid_api_key');
  assert.equal(error.type, 'authentication_error');
  assert.equal(response.headers['x-should-retry'], 'false');
  return error;
}


/** The x-ratelimit-* and retry headers of a response (lower-case names; absent ones left out). */
export function rateLimitHeaders(headers) {
  const picked = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('x-ratelimit-') || name === 'retry-after' || name === 'retry-after-ms' || name === 'x-should-retry') {
      picked[name] = value;
    }
  }
  return picked;
}

/**
 * A Go duration as time.Duration.String() prints it, which is what OpenAI's
 * x-ratelimit-reset-* headers carry: "0s", "850ms", "1.5s", "12s", "6m0s",
 * "1h0m0s" (minutes always with seconds, hours always with minutes, no
 * trailing zeros in a fraction).
 */
export const GO_DURATION = /^(?:0s|[1-9]\d*ms|(?:(?:[1-9]\d*h)?(?:\d+m))?\d+(?:\.\d*[1-9])?s)$/;

/** Milliseconds of a GO_DURATION text. */
export function goDurationMs(text) {
  if (!GO_DURATION.test(text)) throw new Error(`not a Go duration: ${JSON.stringify(text)}`);
  if (text.endsWith('ms')) return Number(text.slice(0, -2));
  const match = text.match(/^(?:(\d+)h)?(?:(\d+)m)?([\d.]+)s$/);
  return ((Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * 60 + Number(match[3])) * 1000;
}

/** The request's (non-stream) body asking `text` of `model`, with extra fields. */
export function chatBody(text, { model = 'gpt-4o', ...extra } = {}) {
  return { model, messages: [{ role: 'user', content: text }], ...extra };
}


/** Asserts a non-stream chat.completion body; returns choices[0]. */
export function assertCompletion(assert, body) {
  assert.ok(body && typeof body === 'object', 'completion body is an object');
  assert.equal(body.object, 'chat.completion');
  assert.equal(typeof body.id, 'string');
  assert.ok(body.id.length > 0, 'completion id');
  assert.ok(Number.isInteger(body.created), 'created is an integer');
  assert.equal(typeof body.model, 'string');
  assert.ok(Array.isArray(body.choices) && body.choices.length === 1, 'one choice');
  const choice = body.choices[0];
  assert.equal(choice.index, 0);
  assert.equal(choice.message.role, 'assistant');
  assert.ok(body.usage, 'usage present');
  for (const key of ['prompt_tokens', 'completion_tokens', 'total_tokens']) {
    assert.ok(Number.isInteger(body.usage[key]), `usage.${key} is an integer`);
  }
  assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
  return choice;
}

/**
 * Asserts an SSE chat.completion.chunk stream that ends normally; returns
 * {chunks, content, finishReason, toolCalls} (tool call deltas merged by index).
 */
export function assertStreamBody(assert, text) {
  const events = sseData(text);
  assert.ok(events.length >= 3, `at least role, final and [DONE] events; got ${text}`);
  assert.equal(events.at(-1), '[DONE]', 'the stream ends with data: [DONE]');
  assert.ok(/data: \[DONE\]\n\n$/.test(text), 'the body ends with "data: [DONE]\\n\\n"');
  const chunks = events.slice(0, -1);
  for (const chunk of chunks) {
    assert.notEqual(chunk, '[DONE]', '[DONE] only once, at the end');
    assert.equal(chunk.error, undefined, `no error event in a good stream: ${JSON.stringify(chunk)}`);
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.equal(chunk.id, chunks[0].id, 'every chunk has the same id');
    assert.ok(Array.isArray(chunk.choices));
  }
  const first = chunks[0];
  assert.equal(first.choices[0].delta.role, 'assistant', 'first chunk has delta.role assistant');
  const withChoices = chunks.filter((c) => c.choices.length > 0);
  const final = withChoices.at(-1);
  assert.ok(final.choices[0].finish_reason, 'the last chunk with a choice has finish_reason');
  for (const chunk of withChoices.slice(0, -1)) {
    assert.equal(chunk.choices[0].finish_reason ?? null, null, 'finish_reason only in the final chunk');
  }
  let content = '';
  const toolCalls = [];
  for (const chunk of withChoices) {
    const delta = chunk.choices[0].delta || {};
    if (typeof delta.content === 'string') content += delta.content;
    for (const call of delta.tool_calls || []) {
      const index = call.index ?? 0;
      toolCalls[index] ??= { id: '', type: '', function: { name: '', arguments: '' } };
      if (call.id) toolCalls[index].id += call.id;
      if (call.type) toolCalls[index].type = call.type;
      if (call.function?.name) toolCalls[index].function.name += call.function.name;
      if (call.function?.arguments) toolCalls[index].function.arguments += call.function.arguments;
    }
  }
  return { chunks, content, finishReason: final.choices[0].finish_reason, toolCalls };
}

/** Asserts an SSE stream that ends with an error event (and no [DONE]); returns {content, error}. */
export function assertStreamError(assert, text) {
  const events = sseData(text);
  assert.ok(!events.includes('[DONE]'), `no [DONE] after an error; got ${text}`);
  const last = events.at(-1);
  assert.ok(last && last.error, `the stream ends with an error event; got ${text}`);
  for (const key of ['message', 'type', 'param', 'code']) assert.ok(key in last.error, `error.${key} in ${JSON.stringify(last)}`);
  let content = '';
  for (const chunk of events.slice(0, -1)) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    content += chunk.choices?.[0]?.delta?.content ?? '';
  }
  return { content, error: last.error };
}
