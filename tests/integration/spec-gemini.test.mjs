// The Gemini validation itself (tests/spec/gemini.schema.json through
// tests/spec/gemini.mjs, the strict stream reader tests/lib/gemini-stream.mjs,
// and lib/spec-guard.mjs's /v1beta routes), without the gateway: what Google
// sends (its reference's shapes, GEMINI-API.md's measured minimal stream)
// passes; spoiled bodies and every framing Gemini CLI's parser stalls on are
// rejected; the route picks the schema; and the harness helpers and the
// @google/genai SDK given validatingFetch fail a fake server that answers
// wrong, so that the guard every Gemini test relies on can fail.
// (tests/integration/gemini-cli.test.mjs shows the reader agrees with the CLI's
// own parser on these framings.)

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fakeServer } from '../lib/fake-server.mjs';
import { GoogleGenAI } from '@google/genai';
import { GEMINI_SDK_VERSION, GEMINI_SCHEMA_FILE, errorProblems, loadGemini, usageProblems } from '../spec/gemini.mjs';
import { GeminiStreamReader, readGeminiStream, streamText } from '../lib/gemini-stream.mjs';
import {
  checkResponse, drainSpecViolations, httpRequest, openStream, responseSchema, SpecViolation, validatingFetch,
} from './harness.mjs';

const gemini = loadGemini();

// ---------------------------------------------------------------- what Google sends

const USAGE = { promptTokenCount: 7, candidatesTokenCount: 3, totalTokenCount: 10 };
const RESPONSE = {
  candidates: [{ content: { role: 'model', parts: [{ text: 'agent says X' }] }, finishReason: 'STOP', index: 0 }],
  usageMetadata: USAGE,
  modelVersion: 'gemini-2.5-pro',
  responseId: 'abc123',
};
const CALL_RESPONSE = {
  ...RESPONSE,
  candidates: [{
    content: { role: 'model', parts: [{ functionCall: { id: 'call_1', name: 'run_shell_command', args: { command: 'echo hi' } }, thoughtSignature: 'c2ln' }] },
    finishReason: 'STOP',
    index: 0,
  }],
};
const ERROR = { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'MODEL_CAPACITY_EXHAUSTED' }] } };
const MODEL = {
  name: 'models/copilot/gpt-4o', version: '1', displayName: 'Copilot gpt-4o', inputTokenLimit: 128000, outputTokenLimit: 16384,
  supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
};

/** The stream text of these chunks: `data: JSON` + blank line each (GEMINI-API.md 3: what the CLI and both SDKs accept). */
const frames = (...chunks) => chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('');
const CHUNK_1 = { candidates: [{ content: { role: 'model', parts: [{ text: 'agen' }] }, index: 0 }] };
const CHUNK_2 = { candidates: [{ content: { role: 'model', parts: [{ text: 't says X' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: USAGE, modelVersion: 'm' };
const GOOD_STREAM = frames(CHUNK_1, CHUNK_2);

test(`the schema compiles in ajv's strict mode and cites @google/genai ${GEMINI_SDK_VERSION} and Google's reference`, () => {
  const text = fs.readFileSync(GEMINI_SCHEMA_FILE, 'utf8');
  assert.match(gemini.schema.$comment, new RegExp(`@google/genai ${GEMINI_SDK_VERSION.replaceAll('.', '\\.')}`));
  assert.match(gemini.schema.$comment, /Apache-2\.0/);
  assert.match(gemini.schema.$comment, /ai\.google\.dev\/api/);
  const pinned = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')).devDependencies['@google/genai'];
  assert.equal(pinned, GEMINI_SDK_VERSION, 'tests/package.json pins the SDK the schema was written from');
  assert.ok(text.length > 0);
});

test('what Google sends passes: a text response, a function call, a count, a model, the model list, an error, the minimal stream', () => {
  assert.deepEqual(gemini.validate('GenerateContentResponse', RESPONSE), []);
  assert.deepEqual(gemini.validate('GenerateContentResponse', CALL_RESPONSE), []);
  assert.deepEqual(gemini.validate('CountTokensResponse', { totalTokens: 31 }), []);
  assert.deepEqual(gemini.validate('Model', MODEL), []);
  assert.deepEqual(gemini.validate('ListModelsResponse', { models: [MODEL], nextPageToken: 'p2' }), []);
  assert.deepEqual(gemini.validate('ErrorResponse', ERROR), []);
  assert.deepEqual(errorProblems(ERROR, 429), []);
  assert.deepEqual(usageProblems(USAGE), []);
  const read = readGeminiStream(GOOD_STREAM);
  assert.deepEqual(read.problems, []);
  assert.equal(read.frames.length, 2);
  assert.equal(streamText(read.frames), 'agent says X');
  // A last chunk with no parts after the text (what a throwaway server sent; the CLI accepts it).
  const ending = { candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'STOP', index: 0 }], usageMetadata: USAGE };
  assert.deepEqual(readGeminiStream(frames(CHUNK_1, ending)).problems, []);
  // A function-call turn: the call whole in one part, STOP.
  assert.deepEqual(readGeminiStream(frames(CALL_RESPONSE)).problems, []);
});

test('spoiled bodies fail the schema', () => {
  const spoil = (value, edit) => { const copy = structuredClone(value); edit(copy); return copy; };
  const cases = [
    ['GenerateContentResponse', spoil(RESPONSE, (r) => { r.candidates[0].content.role = 'assistant'; }), /must be equal to constant/],
    ['GenerateContentResponse', spoil(RESPONSE, (r) => { delete r.candidates[0].finishReason; }), /finishReason/],
    ['GenerateContentResponse', spoil(RESPONSE, (r) => { r.candidates[0].finishReason = 'TOOL_CALLS'; }), /allowed values/],
    ['GenerateContentResponse', spoil(RESPONSE, (r) => { delete r.usageMetadata.promptTokenCount; }), /promptTokenCount/],
    ['GenerateContentResponse', spoil(RESPONSE, (r) => { r.candidates = []; }), /fewer than 1/],
    ['GenerateContentResponse', spoil(RESPONSE, (r) => { r.candidates[0].content.parts[0].functionCall = { name: 'x', args: {} }; }), /exactly one/],
    ['GenerateContentResponse', spoil(CALL_RESPONSE, (r) => { r.candidates[0].content.parts[0].functionCall.args = '{"command":"x"}'; }), /must be object/],
    ['GenerateContentResponse', spoil(CALL_RESPONSE, (r) => { delete r.candidates[0].content.parts[0].functionCall.name; }), /name/],
    ['GenerateContentResponse', spoil(RESPONSE, (r) => { r.candidates[0].content.parts = [{ executableCode: { code: 'x' } }]; }), /exactly one/],
    ['CountTokensResponse', { totalTokens: -1 }, /must be >= 0/],
    ['CountTokensResponse', { total_tokens: 3 }, /totalTokens/],
    ['Model', spoil(MODEL, (m) => { m.name = 'copilot/gpt-4o'; }), /pattern/],
    ['Model', spoil(MODEL, (m) => { delete m.supportedGenerationMethods; }), /supportedGenerationMethods/],
    ['ListModelsResponse', { data: [MODEL] }, /models/],
    ['ErrorResponse', { error: { message: 'x', type: 'invalid_request_error', param: null, code: null } }, /status|must be integer/],
    ['ErrorResponse', spoil(ERROR, (e) => { e.error.status = 'RATE_LIMITED'; }), /allowed values/],
    ['ErrorResponse', spoil(ERROR, (e) => { e.error.details = [{ reason: 'X' }]; }), /@type/],
  ];
  for (const [schema, value, expected] of cases) {
    const problems = gemini.validate(schema, value);
    assert.ok(problems.some((p) => expected.test(p)), `${schema} ${JSON.stringify(value).slice(0, 200)}: ${problems.join('; ') || 'passed'}`);
  }
  assert.deepEqual(errorProblems(ERROR, 503), ['error.code 429 is not the HTTP status 503']);
  assert.match(errorProblems({ error: { ...ERROR.error, code: 503 } }, 503)[0], /RESOURCE_EXHAUSTED for code 503; google.rpc gives UNAVAILABLE/);
  assert.match(usageProblems({ ...USAGE, totalTokenCount: 11 })[0], /not the sum/);
});

// ---------------------------------------------------------------- the strict reader

test('the reader takes blank-line heartbeats before the first frame and between frames, fed in any slices', () => {
  const text = `\n\n${frames(CHUNK_1)}\n\n\n${frames(CHUNK_2)}`;
  const reader = new GeminiStreamReader();
  const problems = [];
  for (const char of text) problems.push(...reader.push(char)); // one character at a time
  problems.push(...reader.end(true));
  assert.deepEqual(problems, []);
  assert.equal(reader.frames.length, 2);
  assert.equal(reader.heartbeats, 5);
});

test('the reader refuses every framing Gemini CLI\'s parser stalls on, and broken streams', () => {
  const text1 = `data: ${JSON.stringify(CHUNK_1)}`;
  const cases = [
    ['an SSE comment heartbeat', `: keep-alive\n\n${GOOD_STREAM}`, /SSE comment/],
    ['an event: line', `event: message\n${GOOD_STREAM}`, /SSE event line/],
    ['an id: line', `id: 1\n${GOOD_STREAM}`, /SSE id line/],
    ['data: without its space', `data:${JSON.stringify(CHUNK_1)}\n\n${frames(CHUNK_2)}`, /without its space/],
    ['a frame of two data lines', `${text1}\ndata: {}\n\n${frames(CHUNK_2)}`, /ONE data line/],
    ['CRLF line ends', GOOD_STREAM.replaceAll('\n', '\r\n'), /CR, U\+2028 or U\+2029/],
    ['a raw U+2028 in the JSON', frames(CHUNK_1, CHUNK_2).replace('t says X', 't says\u2028X'), /U\+2028/],
    ['a JSON array stream (Google without ?alt=sse)', JSON.stringify([CHUNK_1, CHUNK_2]), /neither `data: ` nor a blank line|inside a line/],
    ['no finishReason', frames(CHUNK_1), /without a chunk carrying a finishReason/],
    ['a frame after the finishReason', frames(CHUNK_2, CHUNK_1), /after the stream's end \(finishReason STOP\)/],
    ['a last chunk without usage', frames(CHUNK_1, { ...CHUNK_2, usageMetadata: undefined }), /no usageMetadata\.promptTokenCount, candidatesTokenCount, totalTokenCount/],
    ['usage that does not add up', frames(CHUNK_1, { ...CHUNK_2, usageMetadata: { ...USAGE, totalTokenCount: 99 } }), /not the sum/],
    ['the last frame without its blank line', GOOD_STREAM.slice(0, -1), /not followed by a blank line/],
    ['a chunk of the wrong role', frames({ candidates: [{ content: { role: 'assistant', parts: [{ text: 'x' }] } }] }, CHUNK_2), /constant/],
    ['data that is not JSON', `data: [DONE]\n\n${GOOD_STREAM}`, /data is not JSON/],
    ['data that is not an object', `data: [1]\n\n${GOOD_STREAM}`, /not a JSON object/],
    ['a frame after an error frame', frames(CHUNK_1, ERROR, CHUNK_2), /after the stream's end \(error\)/],
    ['an error frame of the wrong shape', frames(CHUNK_1, { error: { message: 'x', type: 'server_error' } }), /error frame/],
  ];
  for (const [what, text, expected] of cases) {
    const { problems } = readGeminiStream(text);
    assert.ok(problems.some((p) => expected.test(p)), `${what}: ${problems.join('; ') || 'accepted'}`);
  }
  // An error frame after text ends a stream properly (the failure after the head).
  assert.deepEqual(readGeminiStream(frames(CHUNK_1, { error: { code: 502, message: 'the model call failed', status: 'INTERNAL' } })).problems, []);
  // A stream cut off by the client is not judged for its end.
  assert.deepEqual(readGeminiStream(frames(CHUNK_1), { complete: false }).problems, []);
});

// ---------------------------------------------------------------- routes

test('the route picks the schema: every /v1beta/models route, {model} with a slash, the query string ignored', () => {
  assert.equal(responseSchema('POST', '/v1beta/models/gemini-2.5-pro:generateContent', 200), 'gemini:GenerateContentResponse');
  assert.equal(responseSchema('POST', '/v1beta/models/copilot/gpt-4o:generateContent?key=k', 200), 'gemini:GenerateContentResponse');
  assert.equal(responseSchema('POST', '/v1beta/models/copilot/gpt-4o:countTokens', 200), 'gemini:CountTokensResponse');
  assert.equal(responseSchema('GET', '/v1beta/models?pageSize=50', 200), 'gemini:ListModelsResponse');
  assert.equal(responseSchema('GET', '/v1beta/models/copilot/gpt-4o', 200), 'gemini:Model');
  for (const status of [400, 401, 404, 413, 429, 503]) {
    assert.equal(responseSchema('POST', '/v1beta/models/x:streamGenerateContent?alt=sse', status), 'gemini:ErrorResponse');
  }
  assert.equal(responseSchema('GET', '/v1/models', 200), 'ListModelsResponse', 'the OpenAI routes are untouched');
});

test('checkResponse: a Gemini error must carry its HTTP status as code; an OpenAI-shaped error fails; a JSON-array stream fails', () => {
  const json = (status, body, path = '/v1beta/models/m:generateContent') => () => checkResponse({ method: 'POST', path, status, contentType: 'application/json', text: JSON.stringify(body) });
  assert.doesNotThrow(json(429, ERROR));
  assert.throws(json(503, ERROR), /error\.code 429 is not the HTTP status 503/);
  assert.throws(json(400, { error: { message: 'x', type: 'invalid_request_error', param: null, code: 'invalid_json' } }), SpecViolation);
  assert.throws(json(200, { ...RESPONSE, usageMetadata: { ...USAGE, totalTokenCount: 1 } }), /not the sum/);
  assert.throws(() => checkResponse({
    method: 'POST', path: '/v1beta/models/m:streamGenerateContent', status: 200, contentType: 'application/json', text: JSON.stringify([CHUNK_1, CHUNK_2]),
  }), /JSON array stream/);
  assert.throws(() => checkResponse({ method: 'GET', path: '/v1beta/models', status: 200, contentType: 'application/json', text: JSON.stringify({ object: 'list', data: [] }) }), SpecViolation);
  drainSpecViolations();
});

// ---------------------------------------------------------------- the helpers and the SDK fail on a fake server

let servers = [];
after(async () => { for (const s of servers) await s.close(); servers = []; });

const sseServer = (text) => fakeServer((req, res) => { res.writeHead(200, { 'content-type': 'text/event-stream' }); res.end(text); });

test('openStream on a Gemini stream with an SSE comment rejects with a SpecViolation', async () => {
  const server = await sseServer(`: keep-alive\n\n${GOOD_STREAM}`);
  servers.push(server);
  const stream = await openStream(server.port, { contents: [] }, { path: '/v1beta/models/m:streamGenerateContent?alt=sse' });
  await assert.rejects(stream.readToEnd(), (err) => err instanceof SpecViolation && /SSE comment/.test(err.message));
  assert.equal(drainSpecViolations().length, 1);
});

test('httpRequest rejects an OpenAI-shaped error on a /v1beta route', async () => {
  const server = await fakeServer((req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'no such model', type: 'invalid_request_error', param: 'model', code: 'model_not_found' } }));
  });
  servers.push(server);
  await assert.rejects(httpRequest(server.port, { method: 'POST', path: '/v1beta/models/m:generateContent', body: '{}' }), SpecViolation);
  assert.equal(drainSpecViolations().length, 1);
});

test(`@google/genai ${GEMINI_SDK_VERSION} given validatingFetch: it reads a stream with an SSE comment without complaint, the guard records it`, async () => {
  const server = await sseServer(`: keep-alive\n\n${GOOD_STREAM}`);
  servers.push(server);
  const ai = new GoogleGenAI({ apiKey: 'unused', httpOptions: { baseUrl: `http://127.0.0.1:${server.port}`, fetch: validatingFetch } });
  let text = '';
  for await (const chunk of await ai.models.generateContentStream({ model: 'm', contents: 'hi' })) text += chunk.text ?? '';
  assert.equal(text, 'agent says X', 'SDK 2.x skips the comment (Gemini CLI\'s bundled 1.30.0 would stall on it)');
  const violations = drainSpecViolations();
  assert.equal(violations.length, 1, 'the guard recorded it (the afterEach hook would fail the test)');
  assert.match(violations[0].message, /SSE comment/);
});

test(`@google/genai ${GEMINI_SDK_VERSION} given validatingFetch: a whole response that breaks the schema is recorded though the SDK returns it`, async () => {
  const server = await fakeServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ candidates: [{ content: { role: 'assistant', parts: [{ text: 'hi' }] }, finishReason: 'STOP' }] }));
  });
  servers.push(server);
  const ai = new GoogleGenAI({ apiKey: 'unused', httpOptions: { baseUrl: `http://127.0.0.1:${server.port}`, fetch: validatingFetch } });
  const response = await ai.models.generateContent({ model: 'm', contents: 'hi' });
  assert.equal(response.text, 'hi');
  const violations = drainSpecViolations();
  assert.equal(violations.length, 1);
  assert.match(violations[0].message, /usageMetadata|constant/);
});
