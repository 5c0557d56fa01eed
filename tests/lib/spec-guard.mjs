// spec-guard.mjs: OpenAI spec validation.
//
// Every response the suite gets from the gateway is checked against OpenAI's
// own OpenAPI document (tests/spec/openai-openapi.yaml, via tests/spec/openapi.mjs):
// chat completions, every SSE chunk (and error event) of a stream, model
// lists, models, and every error (ErrorResponse); the Responses API's
// Response bodies, every ResponseStreamEvent of its streams (with the
// stream rules below) and input token counts. httpRequest/postChat,
// openRequest/openStream, curl and validatingFetch (the `fetch` handed to the
// openai SDK, LangChain and the AI SDK) all check what they receive.
//
// A violation is recorded, and the helper that received it throws it
// (httpRequest and curl reject; readUntil/readToEnd reject). An afterEach hook
// also fails the running test if any violation was recorded during it, so a
// violation fails the test that produced it even when a client library
// swallowed it (validatingFetch only records: a throwing fetch would turn into
// an SDK "connection error").

import fs from 'node:fs';
import { afterEach, after } from 'node:test';
import { load as loadOpenApi } from '../spec/openapi.mjs';

const openApi = await loadOpenApi();

/** A response that does not match OpenAI's schema. */
export class SpecViolation extends Error {
  constructor(where, problems, value) {
    const body = typeof value === 'string' ? value : JSON.stringify(value);
    super(`${where}: not what OpenAI's OpenAPI document allows:\n  ${problems.join('\n  ')}\n  body: ${String(body).slice(0, 1500)}`);
    this.name = 'SpecViolation';
    this.where = where;
    this.problems = problems;
  }
}

const recordedViolations = [];
/** Fields our responses carry that OpenAI's schemas do not describe: "Schema /path" → count. */
export const undocumentedFields = new Map();

function recordViolation(where, problems, value) {
  const violation = new SpecViolation(where, problems, value);
  recordedViolations.push(violation);
  return violation;
}

/** Removes and returns the violations recorded so far (for the validator's own tests). */
export function drainSpecViolations() {
  return recordedViolations.splice(0);
}

function takeViolations() {
  const found = recordedViolations.splice(0);
  if (found.length) throw new Error(`${found.length} response(s) violated OpenAI's OpenAPI schema:\n${found.map((v) => v.message).join('\n')}`);
}

// node --test runs each file in its own process: these hooks apply to every test of the file.
afterEach(takeViolations);
after(() => {
  const file = process.env.LITELLM_SPEC_EXTRAS;
  if (file && undocumentedFields.size) {
    fs.appendFileSync(file, JSON.stringify({ file: process.argv[1], fields: Object.fromEntries(undocumentedFields) }) + '\n');
  }
  takeViolations();
});

const CHAT_PATH = /^\/(?:v1\/)?chat\/completions$/;
const MODELS_PATH = /^\/(?:v1\/)?models$/;
const MODEL_PATH = /^\/(?:v1\/)?models\/.+$/;
// The Responses API.
const RESPONSES_PATH = /^\/(?:v1\/)?responses$/;
const RESPONSES_INPUT_TOKENS_PATH = /^\/(?:v1\/)?responses\/input_tokens$/;
const RESPONSE_PATH = /^\/(?:v1\/)?responses\/[^/]+$/;

/** The OpenAI schema a (JSON) response must satisfy, or null when OpenAI's API has no such response. */
export function responseSchema(method, urlPath, status) {
  const pathOnly = String(urlPath).split('?')[0];
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) return null;
  if (status >= 400) return 'ErrorResponse';
  if (status >= 300) return null;
  if (method === 'POST' && CHAT_PATH.test(pathOnly)) return 'CreateChatCompletionResponse';
  if (method === 'GET' && MODELS_PATH.test(pathOnly)) return 'ListModelsResponse';
  if (method === 'GET' && MODEL_PATH.test(pathOnly)) return 'Model';
  if (method === 'POST' && RESPONSES_PATH.test(pathOnly)) return 'Response';
  if (method === 'POST' && RESPONSES_INPUT_TOKENS_PATH.test(pathOnly)) return 'TokenCountsResource';
  if (method === 'GET' && RESPONSE_PATH.test(pathOnly)) return 'Response';
  return null;
}

/** Which event stream a path answers: 'chat' (chunks, [DONE]), 'responses' (ResponseStreamEvent) or null. */
function streamKind(urlPath) {
  const pathOnly = String(urlPath).split('?')[0];
  if (CHAT_PATH.test(pathOnly)) return 'chat';
  if (RESPONSES_PATH.test(pathOnly)) return 'responses';
  return null;
}

/** The events that end a Responses stream. */
const RESPONSES_TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed', 'error']);

/**
 * The rules of a Responses stream beyond each event's schema (OpenAI's
 * streaming guide; the openai SDK's ResponseStream and Codex depend on them):
 * the first event is response.created (or an error); sequence_number
 * increases; an `event:` name, when sent, is the data's `type`; nothing follows
 * the terminal event (response.completed / incomplete / failed, or error); a
 * stream that ends without one is broken (Codex retries it).
 */
function responsesStreamRules() {
  let previous = null;
  let first = true;
  let terminal = null;
  return {
    /** Problems of one event ([] if none). */
    event(name, value) {
      const problems = [];
      const type = value && typeof value === 'object' ? value.type : undefined;
      if (first && type !== 'response.created' && type !== 'error') problems.push(`the first event is ${type}, not response.created`);
      first = false;
      if (terminal) problems.push(`an event after the terminal ${terminal}`);
      if (name !== null && name !== type) problems.push(`event: ${name} but its data's type is ${type}`);
      const seq = value?.sequence_number;
      if (Number.isInteger(seq) && previous !== null && seq <= previous) problems.push(`sequence_number ${seq} after ${previous}: not increasing`);
      if (Number.isInteger(seq)) previous = seq;
      if (RESPONSES_TERMINAL.has(type)) terminal = type;
      return problems;
    },
    /** Problems of a stream that ended normally. */
    end() {
      return terminal ? [] : ['the stream ended without response.completed, response.incomplete, response.failed or error'];
    },
  };
}

/** Validates one JSON value against `schema`; returns a recorded SpecViolation or null. */
export function checkValue(where, schema, value) {
  let problems = openApi.validate(schema, value);
  // A union's errors list every branch: name the event's own schema instead.
  const branch = schema === 'ResponseStreamEvent' && problems.length ? openApi.streamEvents[value?.type] : undefined;
  if (branch) problems = [`as ${branch}:`, ...openApi.validate(branch, value)];
  for (const field of openApi.undocumented(schema, value)) {
    const key = `${schema} ${field.replace(/\/\d+(?=\/|$)/g, '/*')}`;
    undocumentedFields.set(key, (undocumentedFields.get(key) ?? 0) + 1);
  }
  return problems.length ? recordViolation(where, problems, value) : null;
}

/**
 * A validator for one response, fed its text as it arrives:
 * {push(text), end(complete), violations}. JSON bodies are checked at the end;
 * SSE streams event by event: on chat completions every `data:` a
 * chat.completion.chunk or an error object, `[DONE]` last; on /v1/responses
 * every `data:` a ResponseStreamEvent, under responsesStreamRules().
 */
export function responseValidator({ method = 'GET', path: urlPath, status, contentType = '' }) {
  const where = `${method} ${urlPath} → ${status}`;
  const violations = [];
  const note = (v) => { if (v) violations.push(v); };
  const isSse = /^text\/event-stream/i.test(contentType);
  const kind = streamKind(urlPath);
  const rules = kind === 'responses' ? responsesStreamRules() : null;
  let text = '';
  let checkedUpTo = 0;
  let events = 0;
  let done = false;
  const checkEvent = (block) => {
    const data = [];
    let name = null;
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      else if (line.startsWith('event:')) name = line.slice(6).trim();
    }
    if (!data.length) return; // a comment (": keep-alive") or an empty block
    const payload = data.join('\n');
    const at = `${where}, SSE event ${++events}`;
    if (rules) {
      let value;
      try { value = JSON.parse(payload); } catch {
        note(recordViolation(at, [payload === '[DONE]' ? 'data: [DONE] in a Responses stream (not a ResponseStreamEvent)' : 'data is not JSON'], payload));
        return;
      }
      const problems = rules.event(name, value);
      if (problems.length) note(recordViolation(at, problems, value));
      note(checkValue(at, 'ResponseStreamEvent', value));
      return;
    }
    if (done) { note(recordViolation(at, ['an event after data: [DONE]'], payload)); return; }
    if (payload === '[DONE]') { done = true; return; }
    let value;
    try { value = JSON.parse(payload); } catch { note(recordViolation(at, ['data is neither JSON nor [DONE]'], payload)); return; }
    note(checkValue(at, value && typeof value === 'object' && 'error' in value ? 'ErrorResponse' : 'CreateChatCompletionStreamResponse', value));
  };
  const scan = () => {
    for (;;) {
      const rest = text.slice(checkedUpTo);
      const match = /\r?\n\r?\n/.exec(rest);
      if (!match) return;
      checkEvent(rest.slice(0, match.index));
      checkedUpTo += match.index + match[0].length;
    }
  };
  return {
    violations,
    push(chunk) {
      text += chunk;
      if (isSse) scan();
    },
    /** complete: the response ended normally (not cut off by the client). */
    end(complete = true) {
      if (isSse) {
        scan();
        if (complete && text.slice(checkedUpTo).trim() !== '') checkEvent(text.slice(checkedUpTo));
        if (status === 200 && !kind) note(recordViolation(where, ['an event stream where OpenAI answers JSON'], text.slice(0, 300)));
        if (rules && complete && status === 200) {
          const problems = rules.end();
          if (problems.length) note(recordViolation(where, problems, text.slice(-300)));
        }
        return violations;
      }
      if (!complete) return violations;
      const schema = responseSchema(method, urlPath, status);
      if (!schema) return violations;
      let value;
      try { value = JSON.parse(text); } catch {
        note(recordViolation(where, [`the body is not JSON (content-type ${contentType || 'none'})`], text.slice(0, 500)));
        return violations;
      }
      if (!/^application\/json/i.test(contentType)) note(recordViolation(where, [`content-type ${contentType || 'none'}, not application/json`], value));
      note(checkValue(where, schema, value));
      return violations;
    },
  };
}

/** Validates a whole response at once; throws the first violation. */
export function checkResponse({ method, path: urlPath, status, contentType, text }) {
  const validator = responseValidator({ method, path: urlPath, status, contentType });
  validator.push(text);
  const violations = validator.end(true);
  if (violations.length) throw violations[0];
}

/**
 * A `fetch` that validates what it receives (give it to the openai SDK,
 * LangChain's ChatOpenAI `configuration.fetch`, the AI SDK's providers). It
 * only records violations (the afterEach hook fails the test): were it to
 * throw, the SDKs would report a connection error instead.
 */
export async function validatingFetch(input, init = {}) {
  const response = await fetch(input, init);
  const url = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url);
  const method = String(init.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET')).toUpperCase();
  const validator = responseValidator({
    method, path: url.pathname + url.search, status: response.status, contentType: response.headers.get('content-type') ?? '',
  });
  if (!response.body) {
    validator.end(true);
    return response;
  }
  const decoder = new TextDecoder();
  const body = response.body.pipeThrough(new TransformStream({
    transform(chunk, controller) {
      validator.push(decoder.decode(chunk, { stream: true }));
      controller.enqueue(chunk);
    },
    flush() {
      validator.push(decoder.decode());
      validator.end(true);
    },
  }));
  const wrapped = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  Object.defineProperty(wrapped, 'url', { value: response.url });
  return wrapped;
}

