// spec-guard.mjs: OpenAI and Anthropic spec validation.
//
// Every response the suite gets from the gateway is checked against OpenAI's
// own OpenAPI document (tests/spec/openai-openapi.yaml, via tests/spec/openapi.mjs):
// chat completions, every SSE chunk (and error event) of a stream, model
// lists, models, and every error (ErrorResponse); the Responses API's
// Response bodies, every ResponseStreamEvent of its streams (with the
// stream rules below) and input token counts. httpRequest/postChat,
// openRequest/openStream, curl and validatingFetch (the `fetch` handed to the
// openai SDK, LangChain, the AI SDK and the Anthropic SDK) all check what they
// receive.
//
// Anthropic's Messages API routes are checked against
// tests/spec/anthropic-messages.schema.json instead (tests/spec/anthropic.mjs):
// POST /v1/messages (a Message, or a stream whose every event is validated as
// it arrives: its `event:` name equal to its data's type, its schema, and the
// order of the events), POST /v1/messages/count_tokens (MessageTokensCount),
// GET /v1/models and /v1/models/{id} when the request carried
// `anthropic-version` (the model list, ModelInfo), and their errors
// (ErrorResponse, the error type of the status, the `request-id` header).
//
// Google's Gemini API routes (/v1beta/models...) are checked against
// tests/spec/gemini.schema.json (tests/spec/gemini.mjs): generateContent (a
// whole GenerateContentResponse), streamGenerateContent (read by the strict
// reader of gemini-stream.mjs: one `data:` line per frame, blank lines
// between, nothing else; each chunk validated, the last with its finishReason
// and usage), countTokens (CountTokensResponse), the model list and a model,
// and every error (ErrorResponse, error.code = the HTTP status).
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
import { ERROR_TYPE_BY_STATUS, EVENT_SCHEMAS, StreamChecker, loadAnthropic, messageProblems } from '../spec/anthropic.mjs';
import { errorProblems as geminiErrorProblems, loadGemini, usageProblems as geminiUsageProblems } from '../spec/gemini.mjs';
import { GeminiStreamReader } from './gemini-stream.mjs';

const openApi = await loadOpenApi();
const anthropic = loadAnthropic();
const gemini = loadGemini();

/** A response that does not match OpenAI's schema (or, on an Anthropic route, Anthropic's). */
export class SpecViolation extends Error {
  constructor(where, problems, value, spec = "OpenAI's OpenAPI document") {
    const body = typeof value === 'string' ? value : JSON.stringify(value);
    super(`${where}: not what ${spec} allows:\n  ${problems.join('\n  ')}\n  body: ${String(body).slice(0, 1500)}`);
    this.name = 'SpecViolation';
    this.where = where;
    this.problems = problems;
  }
}

const recordedViolations = [];
/** Fields our responses carry that OpenAI's schemas do not describe: "Schema /path" → count. */
export const undocumentedFields = new Map();

function recordViolation(where, problems, value, spec) {
  const violation = new SpecViolation(where, problems, value, spec);
  recordedViolations.push(violation);
  return violation;
}

/** Removes and returns the violations recorded so far (for the validator's own tests). */
export function drainSpecViolations() {
  return recordedViolations.splice(0);
}

function takeViolations() {
  const found = recordedViolations.splice(0);
  if (found.length) throw new Error(`${found.length} response(s) violated OpenAI's, Anthropic's or Google's schema:\n${found.map((v) => v.message).join('\n')}`);
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
const MESSAGES_PATH = /^\/(?:v1\/)?messages$/;
const COUNT_TOKENS_PATH = /^\/(?:v1\/)?messages\/count_tokens$/;
const ANTHROPIC_PREFIX = 'anthropic:';
const ANTHROPIC_SPEC = "Anthropic's Messages API (tests/spec/anthropic-messages.schema.json)";
// The Responses API.
const RESPONSES_PATH = /^\/(?:v1\/)?responses$/;
const RESPONSES_INPUT_TOKENS_PATH = /^\/(?:v1\/)?responses\/input_tokens$/;
const RESPONSE_PATH = /^\/(?:v1\/)?responses\/[^/]+$/;
// Google's Gemini API: {model} may hold '/' (copilot/gpt-4o); the method follows its last ':'.
const GEMINI_PREFIX = 'gemini:';
const GEMINI_SPEC = "Google's Gemini API (tests/spec/gemini.schema.json)";
const GEMINI_ROUTE = /^\/v1beta\/models(?:\/|$)/;
const GEMINI_MODELS_PATH = /^\/v1beta\/models\/?$/;
const GEMINI_METHOD_PATH = /^\/v1beta\/models\/.+:(generateContent|streamGenerateContent|countTokens)$/;
const GEMINI_MODEL_PATH = /^\/v1beta\/models\/[^:]+$/;
const GEMINI_SCHEMA_BY_METHOD = { generateContent: 'GenerateContentResponse', countTokens: 'CountTokensResponse' };

/** Is this one of Google's Gemini API routes (/v1beta/models...)? */
export function isGeminiRoute(urlPath) {
  return GEMINI_ROUTE.test(String(urlPath).split('?')[0]);
}

/** The Gemini method a POST path names (generateContent, streamGenerateContent, countTokens), or null. */
export function geminiMethod(urlPath) {
  return GEMINI_METHOD_PATH.exec(String(urlPath).split('?')[0])?.[1] ?? null;
}

/** Request headers in any form (object, Headers, [name, value] pairs) as an object with lower-case names. */
export function headerObject(headers) {
  const out = {};
  if (!headers) return out;
  const entries = typeof headers.entries === 'function' && !Array.isArray(headers) ? [...headers.entries()]
    : Array.isArray(headers) ? headers : Object.entries(headers);
  for (const [name, value] of entries) if (value !== undefined && value !== null) out[String(name).toLowerCase()] = String(value);
  return out;
}

/**
 * Does this request get Anthropic's API? POST /v1/messages and
 * /v1/messages/count_tokens always (a query string such as ?beta=true is
 * ignored); GET /v1/models and /v1/models/{id} when it carried anthropic-version.
 */
export function isAnthropicRoute(method, urlPath, requestHeaders = {}) {
  const pathOnly = String(urlPath).split('?')[0];
  if (MESSAGES_PATH.test(pathOnly) || COUNT_TOKENS_PATH.test(pathOnly)) return true;
  return (MODELS_PATH.test(pathOnly) || MODEL_PATH.test(pathOnly)) && 'anthropic-version' in headerObject(requestHeaders);
}

/**
 * The schema a (JSON) response must satisfy, or null when the API has no such
 * response: an OpenAI component name, or `anthropic:Name` on an Anthropic route.
 */
export function responseSchema(method, urlPath, status, requestHeaders = {}) {
  const pathOnly = String(urlPath).split('?')[0];
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) return null;
  // The gateway's own documents (status, probes) are no API's: their schema is tests/spec/status.schema.json.
  if (/^\/health(?:\/|$)/.test(pathOnly)) return null;
  if (isGeminiRoute(pathOnly)) {
    if (status >= 400) return `${GEMINI_PREFIX}ErrorResponse`;
    if (status >= 300) return null;
    if (method === 'POST' && GEMINI_SCHEMA_BY_METHOD[geminiMethod(pathOnly)]) return `${GEMINI_PREFIX}${GEMINI_SCHEMA_BY_METHOD[geminiMethod(pathOnly)]}`;
    if (method === 'GET' && GEMINI_MODELS_PATH.test(pathOnly)) return `${GEMINI_PREFIX}ListModelsResponse`;
    if (method === 'GET' && GEMINI_MODEL_PATH.test(pathOnly)) return `${GEMINI_PREFIX}Model`;
    return null;
  }
  if (isAnthropicRoute(method, urlPath, requestHeaders)) {
    if (status >= 400) return `${ANTHROPIC_PREFIX}ErrorResponse`;
    if (status >= 300) return null;
    if (method === 'POST' && MESSAGES_PATH.test(pathOnly)) return `${ANTHROPIC_PREFIX}CompleteMessage`;
    if (method === 'POST' && COUNT_TOKENS_PATH.test(pathOnly)) return `${ANTHROPIC_PREFIX}MessageTokensCount`;
    if (method === 'GET' && MODELS_PATH.test(pathOnly)) return `${ANTHROPIC_PREFIX}ModelList`;
    if (method === 'GET' && MODEL_PATH.test(pathOnly)) return `${ANTHROPIC_PREFIX}ModelInfo`;
    return null;
  }
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
  if (schema.startsWith(GEMINI_PREFIX)) {
    const problems = gemini.validate(schema.slice(GEMINI_PREFIX.length), value);
    return problems.length ? recordViolation(where, problems, value, GEMINI_SPEC) : null;
  }
  if (schema.startsWith(ANTHROPIC_PREFIX)) {
    const name = schema.slice(ANTHROPIC_PREFIX.length);
    const problems = anthropic.validate(name, value);
    if (!problems.length && name === 'CompleteMessage') problems.push(...messageProblems(value));
    return problems.length ? recordViolation(where, problems, value, ANTHROPIC_SPEC) : null;
  }
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
 * every `data:` a ResponseStreamEvent, under responsesStreamRules(); on
 * Anthropic's routes every event named, its data of the schema of its type,
 * in the order of the Messages API.
 * requestHeaders: what the request carried (anthropic-version picks Anthropic's
 * model list); headers: the response's, when known (the request-id check).
 */
export function responseValidator({ method = 'GET', path: urlPath, status, contentType = '', requestHeaders = {}, headers }) {
  if (isGeminiRoute(urlPath)) return geminiResponseValidator({ method, path: urlPath, status, contentType });
  const where = `${method} ${urlPath} → ${status}`;
  const violations = [];
  const note = (v) => { if (v) violations.push(v); };
  const isSse = /^text\/event-stream/i.test(contentType);
  const pathOnly = String(urlPath).split('?')[0];
  const anthropicRoute = isAnthropicRoute(method, urlPath, requestHeaders);
  const messagesRoute = anthropicRoute && MESSAGES_PATH.test(pathOnly);
  const stream = new StreamChecker();
  const kind = messagesRoute ? 'messages' : streamKind(urlPath);
  const rules = kind === 'responses' ? responsesStreamRules() : null;
  let text = '';
  let checkedUpTo = 0;
  let events = 0;
  let done = false;
  const checkResponsesEvent = (at, name, data) => {
    const payload = data.join('\n');
    let value;
    try { value = JSON.parse(payload); } catch {
      note(recordViolation(at, [payload === '[DONE]' ? 'data: [DONE] in a Responses stream (not a ResponseStreamEvent)' : 'data is not JSON'], payload));
      return;
    }
    const problems = rules.event(name ?? null, value);
    if (problems.length) note(recordViolation(at, problems, value));
    note(checkValue(at, 'ResponseStreamEvent', value));
  };
  const checkOpenAiEvent = (at, data) => {
    const payload = data.join('\n');
    if (done) { note(recordViolation(at, ['an event after data: [DONE]'], payload)); return; }
    if (payload === '[DONE]') { done = true; return; }
    let value;
    try { value = JSON.parse(payload); } catch { note(recordViolation(at, ['data is neither JSON nor [DONE]'], payload)); return; }
    note(checkValue(at, value && typeof value === 'object' && 'error' in value ? 'ErrorResponse' : 'CreateChatCompletionStreamResponse', value));
  };
  const checkAnthropicEvent = (at, name, data) => {
    const payload = data.join('\n');
    const fail = (problems, value = payload) => note(recordViolation(at, problems, value, ANTHROPIC_SPEC));
    if (name === undefined) { fail(['a data-only frame: no `event:` line (the Anthropic SDK drops it; Claude Code then falls back to a non-stream request)']); return; }
    let value;
    try { value = JSON.parse(payload); } catch { fail([`event: ${name} whose data is not JSON`]); return; }
    if (!value || typeof value !== 'object' || value.type !== name) { fail([`event: ${name} whose data's type is ${JSON.stringify(value?.type)}`], value); return; }
    const schema = EVENT_SCHEMAS[name];
    if (!schema) { fail([`event: ${name} is not an event of the Messages API`], value); return; }
    const problems = anthropic.validate(schema, value);
    if (problems.length) { fail(problems, value); return; }
    const order = stream.event(name, value);
    if (order.length) fail(order, value);
  };
  const checkEvent = (block) => {
    const data = [];
    let name;
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      else if (line.startsWith('event:')) name = line.slice(6).replace(/^ /, '');
    }
    if (!data.length && name === undefined) return; // a comment (": keep-alive") or an empty block
    const at = `${where}, SSE event ${++events}${name !== undefined ? ` (${name})` : ''}`;
    if (messagesRoute) checkAnthropicEvent(at, name, data);
    else if (rules && data.length) checkResponsesEvent(at, name, data);
    else if (data.length) checkOpenAiEvent(at, data);
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
  const checkHead = () => {
    if (!anthropicRoute || !headers) return;
    const head = headerObject(headers);
    // docs, errors: "Every API response includes a unique request-id header."
    if (!head['request-id']) note(recordViolation(where, ['no request-id header on an Anthropic route'], head, ANTHROPIC_SPEC));
  };
  return {
    violations,
    push(chunk) {
      text += chunk;
      if (isSse) scan();
    },
    /** complete: the response ended normally (not cut off by the client). */
    end(complete = true) {
      checkHead();
      if (isSse) {
        scan();
        if (complete && text.slice(checkedUpTo).trim() !== '') checkEvent(text.slice(checkedUpTo));
        if (messagesRoute && status === 200) {
          const problems = stream.end(complete);
          if (problems.length) note(recordViolation(where, problems, text.slice(-300), ANTHROPIC_SPEC));
        } else if (rules && status === 200) {
          const problems = complete ? rules.end() : [];
          if (problems.length) note(recordViolation(where, problems, text.slice(-300)));
        } else if (status === 200 && !kind) {
          note(recordViolation(where, [`an event stream where ${anthropicRoute ? 'Anthropic' : 'OpenAI'} answers JSON`], text.slice(0, 300), anthropicRoute ? ANTHROPIC_SPEC : undefined));
        }
        return violations;
      }
      if (!complete) return violations;
      const schema = responseSchema(method, urlPath, status, requestHeaders);
      if (!schema) return violations;
      const spec = anthropicRoute ? ANTHROPIC_SPEC : undefined;
      let value;
      try { value = JSON.parse(text); } catch {
        note(recordViolation(where, [`the body is not JSON (content-type ${contentType || 'none'})`], text.slice(0, 500), spec));
        return violations;
      }
      if (!/^application\/json/i.test(contentType)) note(recordViolation(where, [`content-type ${contentType || 'none'}, not application/json`], value, spec));
      const violation = checkValue(where, schema, value);
      note(violation);
      if (!violation && anthropicRoute && status >= 400) {
        const problems = [];
        const expected = ERROR_TYPE_BY_STATUS[status];
        if (expected && value.error.type !== expected) problems.push(`status ${status} with error type ${value.error.type}; the docs give ${expected}`);
        const head = headers ? headerObject(headers) : null;
        if (head?.['request-id'] && value.request_id !== head['request-id']) problems.push(`request_id ${JSON.stringify(value.request_id)} is not the request-id header ${head['request-id']}`);
        if (problems.length) note(recordViolation(where, problems, value, ANTHROPIC_SPEC));
      }
      return violations;
    },
  };
}

/**
 * responseValidator for Google's Gemini API routes: a 200 on
 * streamGenerateContent must be an event stream read by the strict reader
 * (gemini-stream.mjs), each problem recorded as it is found; any other body
 * is JSON of the route's schema (a JSON-array stream, what Google sends
 * without ?alt=sse, is refused: Gemini CLI and both SDK parsers fail on it);
 * an error's code is its HTTP status, a whole response's usage adds up.
 */
function geminiResponseValidator({ method, path: urlPath, status, contentType }) {
  const where = `${method} ${urlPath} → ${status}`;
  const violations = [];
  const note = (problems, value) => { if (problems.length) violations.push(recordViolation(where, problems, value, GEMINI_SPEC)); };
  const streamRoute = method === 'POST' && geminiMethod(urlPath) === 'streamGenerateContent' && status === 200;
  const reader = streamRoute ? new GeminiStreamReader() : null;
  let text = '';
  return {
    violations,
    push(chunk) {
      text += chunk;
      if (reader && /^text\/event-stream/i.test(contentType)) note(reader.push(chunk), chunk);
    },
    end(complete = true) {
      if (reader) {
        if (!/^text\/event-stream/i.test(contentType)) note([`content-type ${contentType || 'none'} on a stream: Gemini's clients read text/event-stream (a JSON array stream fails Gemini CLI and both SDK parsers)`], text.slice(0, 300));
        else note(reader.end(complete), text.slice(-300));
        return violations;
      }
      if (!complete) return violations;
      const schema = responseSchema(method, urlPath, status);
      if (!schema) return violations;
      let value;
      try { value = JSON.parse(text); } catch {
        note([`the body is not JSON (content-type ${contentType || 'none'})`], text.slice(0, 500));
        return violations;
      }
      if (!/^application\/json/i.test(contentType)) note([`content-type ${contentType || 'none'}, not application/json`], value);
      const violation = checkValue(where, schema, value);
      if (violation) violations.push(violation);
      else if (status >= 400) note(geminiErrorProblems(value, status), value);
      else if (schema === `${GEMINI_PREFIX}GenerateContentResponse`) note(geminiUsageProblems(value.usageMetadata), value);
      return violations;
    },
  };
}

/** Validates a whole response at once; throws the first violation. */
export function checkResponse({ method, path: urlPath, status, contentType, text, requestHeaders, headers }) {
  const validator = responseValidator({ method, path: urlPath, status, contentType, requestHeaders, headers });
  validator.push(text);
  const violations = validator.end(true);
  if (violations.length) throw violations[0];
}

/**
 * A `fetch` that validates what it receives (give it to the openai SDK,
 * LangChain's ChatOpenAI `configuration.fetch`, the AI SDK's providers, the
 * Anthropic SDK). It only records violations (the afterEach hook fails the
 * test): were it to throw, the SDKs would report a connection error instead.
 */
export async function validatingFetch(input, init = {}) {
  const response = await fetch(input, init);
  const url = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url);
  const method = String(init.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET')).toUpperCase();
  const requestHeaders = headerObject(init.headers ?? (typeof input === 'object' && 'headers' in input ? input.headers : undefined));
  const validator = responseValidator({
    method, path: url.pathname + url.search, status: response.status, contentType: response.headers.get('content-type') ?? '',
    requestHeaders, headers: response.headers,
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
