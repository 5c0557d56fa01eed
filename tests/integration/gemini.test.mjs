// Google's Gemini API through real nginx, with raw HTTP:
// POST /v1beta/models/{model}:generateContent, :streamGenerateContent (with
// and without ?alt=sse), :countTokens, GET /v1beta/models; a function-call
// round trip; errors in Google's shape that keep their HTTP status (and the
// last `data: {"error":...}` chunk after the head; nginx's own refusals
// too); the blank-line heartbeat of a silent model; keys (x-goog-api-key,
// ?key=, Bearer; a ?key= never in nginx's access log) and one rate-limit
// budget shared with chat completions.
//
// Every stream is read with the strict rules Gemini CLI's bundled parser
// needs (GEMINI-API.md 3.1): exactly one `data: ` line per chunk, each
// followed by a blank line, bare blank lines as heartbeats, nothing else.
// The suite's http helpers validate against OpenAI's document, which these
// answers do not follow by design, so this file speaks HTTP itself.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { useStacks, writeFcgiConfig, postChat, openAiError, nonce, withTimeout, waitUntil } from './harness.mjs';
import { readGeminiStream } from '../lib/gemini-stream.mjs';

const LIMITED_RPM = 4;

// [0]: a plain stack; [1]: keys and a global RPM; [2]: no VS Code window.
const [stack, limited, empty] = useStacks({ before, after }, 3, ({ dir }) => {
  const config = writeFcgiConfig(path.join(dir, 'limited.conf'), { 'limits-rpm': LIMITED_RPM });
  return [{}, { ctlArgs: ['--fcgi-config', config] }, { worker: false }];
}, { tag: 'lgem' });

const GEMINI_HEADERS = {
  'content-type': 'application/json',
  'x-goog-api-key': 'any-key-on-an-open-loopback-gateway',
  'x-goog-api-client': 'google-genai-sdk/1.30.0 gl-node/v20',
};

/**
 * One request: {status, headers, text, json, chunks}. `onBytes(text so far,
 * response)` sees a stream as it arrives (the heartbeat test waits on it).
 */
function geminiRequest(port, { method = 'POST', path: urlPath, headers = {}, body, onBytes } = {}) {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return withTimeout(new Promise((resolve, reject) => {
    let responded = false;
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, agent: false, headers: { ...GEMINI_HEADERS, ...headers } }, (res) => {
      responded = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
        onBytes?.(text, res);
      });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        const chunks = /^text\/event-stream/.test(res.headers['content-type'] ?? '') ? strictChunks(text) : undefined;
        resolve({ status: res.statusCode, headers: res.headers, text, json, chunks });
      });
      res.on('error', reject);
    });
    // nginx may answer 413 before reading the whole body and close.
    req.on('error', (err) => { if (!responded) reject(err); });
    if (payload !== undefined) req.write(payload);
    req.end();
  }), `${method} ${urlPath}`);
}

/**
 * The stream as Gemini CLI's parser reads it, by the suite's one strict
 * reader (tests/lib/gemini-stream.mjs): bare blank lines (heartbeats) and
 * `data: <one line of JSON>` followed by a blank line; anything else (a
 * comment, an `event:` line, a second data line, a missing separator, a CR)
 * fails. Returns the chunks' JSON and how many heartbeats came.
 */
function strictChunks(text) {
  const { frames, heartbeats, problems } = readGeminiStream(text);
  assert.deepEqual(problems, [], `the stream as Gemini CLI reads it:\n${text.slice(0, 2000)}`);
  frames.heartbeats = heartbeats;
  return frames;
}

/** A GenerateContentResponse's parts, and its finish if it has one. */
function candidateOf(response) {
  assert.equal(response.candidates?.length, 1, JSON.stringify(response));
  const [candidate] = response.candidates;
  assert.equal(candidate.content.role, 'model');
  assert.ok(Array.isArray(candidate.content.parts));
  assert.equal(candidate.index, 0);
  assert.equal(typeof response.modelVersion, 'string');
  assert.equal(typeof response.responseId, 'string');
  return candidate;
}

/** A whole stream: text joined, calls, the last chunk's finish and usage. */
function assertStream(chunks) {
  assert.ok(chunks.length > 0, 'at least one chunk');
  let text = '';
  const calls = [];
  chunks.forEach((chunk, i) => {
    const candidate = candidateOf(chunk);
    const last = i === chunks.length - 1;
    assert.equal(candidate.finishReason !== undefined, last, 'finishReason on the last chunk only');
    assert.equal(chunk.usageMetadata !== undefined, last, 'usageMetadata on the last chunk only');
    for (const part of candidate.content.parts) {
      if (part.functionCall) calls.push(part.functionCall);
      else text += part.text;
    }
  });
  const final = chunks.at(-1);
  const usage = final.usageMetadata;
  assert.ok(usage.promptTokenCount > 0 && usage.candidatesTokenCount >= 0);
  assert.equal(usage.totalTokenCount, usage.promptTokenCount + usage.candidatesTokenCount);
  return { text, calls, finishReason: final.candidates[0].finishReason, usage };
}

/** Google's error object, code = the HTTP status. */
function geminiError(response, status, name) {
  assert.equal(response.status, status, response.text);
  assert.match(response.headers['content-type'] ?? '', /^application\/json/);
  const error = response.json?.error;
  assert.ok(error, response.text);
  assert.equal(error.code, status);
  assert.equal(error.status, name);
  assert.ok(typeof error.message === 'string' && error.message.length > 0);
  assert.ok(Array.isArray(error.details));
  return error;
}

const user = (...texts) => ({ contents: [{ role: 'user', parts: texts.map((text) => ({ text })) }] });
const action = (model, name, query = '') => `/v1beta/models/${model}:${name}${query}`;

test('generateContent: one GenerateContentResponse; systemInstruction and generationConfig reach the model', async () => {
  const marker = nonce('gen');
  const response = await geminiRequest(stack.port, {
    path: action('gpt-4o', 'generateContent'),
    body: {
      ...user('<session_context>ctx</session_context>', marker),
      systemInstruction: { role: 'user', parts: [{ text: 'Be brief.' }] },
      generationConfig: { temperature: 1, topP: 0.95, topK: 64, thinkingConfig: { includeThoughts: true, thinkingBudget: 8192 } },
      safetySettings: [],
    },
  });
  assert.equal(response.status, 200, response.text);
  const candidate = candidateOf(response.json);
  assert.equal(candidate.finishReason, 'STOP');
  assert.ok(candidate.content.parts.map((p) => p.text).join('').includes(marker), response.text);
  assert.equal(response.json.modelVersion, 'test/gpt-4o');
  const usage = response.json.usageMetadata;
  assert.equal(usage.totalTokenCount, usage.promptTokenCount + usage.candidatesTokenCount);
  const request = await stack.worker.waitRequest(marker);
  assert.deepEqual(request.messages[0], { role: 'system', content: 'Be brief.' });
});

test('streamGenerateContent?alt=sse: data: lines only, text as it comes, STOP and usage last', async () => {
  const response = await geminiRequest(stack.port, {
    path: action('gpt-4o', 'streamGenerateContent', '?alt=sse'),
    body: user('[[deltas:["Hel","lo ","world"]]]'),
  });
  assert.equal(response.status, 200, response.text);
  assert.match(response.headers['content-type'], /^text\/event-stream/);
  const { text, calls, finishReason } = assertStream(response.chunks);
  assert.equal(text, 'Hello world');
  assert.deepEqual(calls, []);
  assert.equal(finishReason, 'STOP');
  assert.ok(response.chunks.length >= 3, 'a chunk per part');
});

test('streamGenerateContent without alt=sse, and a model id with a slash: the same stream', async () => {
  const response = await geminiRequest(stack.port, {
    path: action('test/claude-3.5-sonnet', 'streamGenerateContent'),
    body: user('[[model]]'),
  });
  assert.equal(response.status, 200, response.text);
  const { text } = assertStream(response.chunks);
  assert.equal(text, 'test/claude-3.5-sonnet');
  assert.equal(response.chunks[0].modelVersion, 'test/claude-3.5-sonnet');
});

test('maxOutputTokens ends the reply with MAX_TOKENS; stopSequences cut it', async () => {
  const cut = await geminiRequest(stack.port, {
    path: action('gpt-4o', 'streamGenerateContent', '?alt=sse'),
    body: { ...user('[[reply:one two three four five six seven]]'), generationConfig: { maxOutputTokens: 2 } },
  });
  const first = assertStream(cut.chunks);
  assert.equal(first.finishReason, 'MAX_TOKENS');
  assert.ok(first.text.length <= 8, first.text);
  const stopped = await geminiRequest(stack.port, {
    path: action('gpt-4o', 'generateContent'),
    body: { ...user('[[deltas:["say ","ST","OP now"]]]'), generationConfig: { stopSequences: ['STOP'] } },
  });
  const candidate = candidateOf(stopped.json);
  assert.equal(candidate.content.parts[0].text, 'say ');
  assert.equal(candidate.finishReason, 'STOP');
});

test('countTokens: {totalTokens} from the estimator, more for a longer prompt, no model call', async () => {
  const short = await geminiRequest(stack.port, { path: action('gpt-4o', 'countTokens'), body: user('hi') });
  assert.equal(short.status, 200, short.text);
  assert.deepEqual(Object.keys(short.json), ['totalTokens']);
  assert.ok(short.json.totalTokens > 0);
  const long = await geminiRequest(stack.port, {
    path: action('gpt-4o', 'countTokens'),
    body: { generateContentRequest: { model: 'models/gpt-4o', ...user('hi '.repeat(500)) } },
  });
  assert.ok(long.json.totalTokens > short.json.totalTokens + 100, long.text);
});

test('GET /v1beta/models and /v1beta/models/{id}: Google\'s list shape', async () => {
  const list = await geminiRequest(stack.port, { method: 'GET', path: '/v1beta/models' });
  assert.equal(list.status, 200, list.text);
  const names = list.json.models.map((m) => m.name);
  assert.ok(names.includes('models/test/gpt-4o'), names.join());
  for (const model of list.json.models) {
    assert.ok(model.inputTokenLimit > 0 && model.outputTokenLimit > 0);
    assert.deepEqual(model.supportedGenerationMethods, ['generateContent', 'streamGenerateContent', 'countTokens']);
    assert.equal(typeof model.displayName, 'string');
  }
  const one = await geminiRequest(stack.port, { method: 'GET', path: '/v1beta/models/test/gpt-4o' });
  assert.equal(one.json.name, 'models/test/gpt-4o');
  geminiError(await geminiRequest(stack.port, { method: 'GET', path: '/v1beta/models/gemini-9-ultra' }), 404, 'NOT_FOUND');
});

test('function-call round trip: a whole functionCall with its id, the functionResponse paired by it', async () => {
  const tools = [
    { functionDeclarations: [{ name: 'run_shell_command', description: 'Runs bash.', parametersJsonSchema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } }] },
    { googleSearch: {} },
  ];
  const tag = nonce('tool');
  const ask = `[[tool:run_shell_command:{"command":"echo hi"}]] ${tag}`;
  const turn1 = await geminiRequest(stack.port, { path: action('gpt-4o', 'streamGenerateContent', '?alt=sse'), body: { ...user(ask), tools } });
  assert.equal(turn1.status, 200, turn1.text);
  const { calls, finishReason } = assertStream(turn1.chunks);
  assert.equal(finishReason, 'STOP', 'Gemini ends call turns with STOP');
  assert.equal(calls.length, 1, turn1.text);
  const [call] = calls;
  assert.equal(call.name, 'run_shell_command');
  assert.deepEqual(call.args, { command: 'echo hi' });
  assert.ok(call.id, 'the call id');
  const sent = await stack.worker.waitRequest(tag);
  assert.deepEqual(sent.tools.map((t) => t.function.name), ['run_shell_command'], 'googleSearch was skipped');

  const output = nonce('out');
  const turn2 = await geminiRequest(stack.port, {
    path: action('gpt-4o', 'generateContent'),
    body: {
      tools,
      contents: [
        ...user(ask).contents,
        { role: 'model', parts: [{ text: 'plan', thought: true }, { functionCall: call, thoughtSignature: 'skip_thought_signature_validator' }] },
        { role: 'user', parts: [{ functionResponse: { id: call.id, name: call.name, response: { output } } }] },
      ],
    },
  });
  assert.equal(turn2.status, 200, turn2.text);
  assert.equal(candidateOf(turn2.json).content.parts[0].text, `tool result: ${output}`);
  const back = await stack.worker.waitEvent((e) => e.event === 'request' && JSON.stringify(e.messages).includes(output), 'the result reaching the model');
  assert.equal(back.messages.find((m) => m.role === 'tool').tool_call_id, call.id);
  assert.ok(!JSON.stringify(back.messages).includes('"plan"'), 'thought parts are not sent');
});

test('errors keep their status in Google\'s shape: 400, 404 (unknown model, unknown action), 403, 429 quota', async () => {
  const bad = geminiError(await geminiRequest(stack.port, { path: action('gpt-4o', 'generateContent'), body: { contents: [] } }), 400, 'INVALID_ARGUMENT');
  assert.match(bad.message, /contents/);
  geminiError(await geminiRequest(stack.port, { path: action('gpt-4o', 'generateContent'), body: '{"contents": [' }), 400, 'INVALID_ARGUMENT');
  const unknown = geminiError(await geminiRequest(stack.port, { path: action('gemini-9-ultra', 'streamGenerateContent', '?alt=sse'), body: user('hi') }), 404, 'NOT_FOUND');
  assert.match(unknown.message, /test\/gpt-4o/, 'the message lists the models');
  geminiError(await geminiRequest(stack.port, { path: action('gpt-4o', 'embedContent'), body: user('hi') }), 404, 'NOT_FOUND');
  geminiError(await geminiRequest(stack.port, { path: action('gpt-4o', 'streamGenerateContent', '?alt=sse'), body: user('[[error:no_permissions:not allowed]]') }), 403, 'PERMISSION_DENIED');
  // A quota refusal before the head: 429 whose ErrorInfo Gemini CLI takes as terminal.
  const quota = geminiError(await geminiRequest(stack.port, { path: action('gpt-4o', 'streamGenerateContent', '?alt=sse'), body: user('[[error:rate_limited:premium requests used up]]') }), 429, 'RESOURCE_EXHAUSTED');
  assert.match(quota.message, /premium requests used up/, 'the message is kept');
  assert.deepEqual(quota.details, [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'MODEL_CAPACITY_EXHAUSTED' }]);
});

test('a failure after the head: the last chunk is data: {"error":...}', async () => {
  const response = await geminiRequest(stack.port, { path: action('gpt-4o', 'streamGenerateContent', '?alt=sse'), body: user('[[error-after-delta:internal:the model broke]]') });
  assert.equal(response.status, 200, response.text);
  const last = response.chunks.at(-1);
  assert.equal(last.error?.code, 502, response.text);
  assert.equal(last.error.status, 'UNAVAILABLE');
  assert.match(last.error.message, /the model broke/);
  assert.equal(candidateOf(response.chunks[0]).content.parts[0].text, 'partial ');
});

test('a silent model: the head and blank-line heartbeats, then the reply', async () => {
  const gate = nonce('hold');
  let release;
  const heartbeatSeen = new Promise((resolve) => { release = resolve; });
  const pending = geminiRequest(stack.port, {
    path: action('gpt-4o', 'streamGenerateContent', '?alt=sse'),
    body: user(`[[hold:${gate}]]`),
    onBytes: (text, res) => { if (res.statusCode === 200 && /^\n+$/.test(text)) release(); },
  });
  await stack.worker.waitEvent((e) => e.event === 'gate' && e.name === gate, 'the model holding');
  await withTimeout(heartbeatSeen, 'the head and a blank-line heartbeat before the first token');
  stack.worker.command(`release ${gate}`);
  const response = await pending;
  assert.ok(response.chunks.heartbeats >= 1);
  assert.equal(assertStream(response.chunks).text, 'after-gate');
});

test('no VS Code window: 503 UNAVAILABLE; counting needs no window', async () => {
  const error = geminiError(await geminiRequest(empty.port, { path: action('gpt-4o', 'streamGenerateContent', '?alt=sse'), body: user('hi') }), 503, 'UNAVAILABLE');
  assert.match(error.message, /No VS Code window/);
  const count = await geminiRequest(empty.port, { path: action('gpt-4o', 'countTokens'), body: user('hi') });
  assert.equal(count.status, 200, count.text);
});

test('nginx\'s own refusals on /v1beta are Google-shaped: no responder (503), a body over the limit (413)', async () => {
  const big = { contents: [{ parts: [{ text: 'x'.repeat(20 * 1024 * 1024) }] }] };
  const tooLarge = await geminiRequest(empty.port, { path: action('gpt-4o', 'generateContent'), body: big });
  assert.match(geminiError(tooLarge, 413, 'INVALID_ARGUMENT').message, /too large/);
  await empty.stopResponder('SIGTERM');
  const response = await geminiRequest(empty.port, { path: action('gpt-4o', 'streamGenerateContent', '?alt=sse'), body: user('hi') });
  assert.match(geminiError(response, 503, 'UNAVAILABLE').message, /responder is not running/);
  const chat = await postChat(empty.port, { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(openAiError(assert, chat, 503).code, 'responder_unavailable', 'chat keeps OpenAI\'s shape');
});

test('keys (x-goog-api-key, ?key=, Bearer) and one rate-limit budget shared with chat completions', async () => {
  const added = await limited.keys(['add', 'gemini-cli']);
  assert.equal(added.code, 0, added.stderr);
  const key = added.stdout.trim();
  await waitUntil(async () => (await geminiRequest(limited.port, { method: 'GET', path: '/v1beta/models', headers: { 'x-goog-api-key': 'sk-litellm-wrong' } })).status === 401,
    'the responder to load the new key');
  const wrong = geminiError(await geminiRequest(limited.port, { path: action('gpt-4o', 'generateContent'), headers: { 'x-goog-api-key': 'sk-litellm-wrong' }, body: user('hi') }), 401, 'UNAUTHENTICATED');
  assert.equal(wrong.details[0].reason, 'API_KEY_INVALID');
  const listed = await geminiRequest(limited.port, { method: 'GET', path: `/v1beta/models?key=${key}`, headers: { 'x-goog-api-key': '' } });
  assert.equal(listed.status, 200, listed.text);

  // LIMITED_RPM requests per minute for everyone, whichever API they speak.
  const ways = [
    (marker) => postChat(limited.port, { model: 'gpt-4o', messages: [{ role: 'user', content: marker }] }, { headers: { authorization: `Bearer ${key}` } }),
    (marker) => geminiRequest(limited.port, { path: action('gpt-4o', 'generateContent'), headers: { 'x-goog-api-key': key }, body: user(marker) }),
    (marker) => geminiRequest(limited.port, { path: action('gpt-4o', 'streamGenerateContent', `?alt=sse&key=${key}`), headers: { 'x-goog-api-key': '' }, body: user(marker) }),
    (marker) => geminiRequest(limited.port, { path: action('gpt-4o', 'generateContent'), headers: { 'x-goog-api-key': '', authorization: `Bearer ${key}` }, body: user(marker) }),
  ];
  const statuses = [];
  for (let i = 0; i < LIMITED_RPM; i++) statuses.push((await ways[i % ways.length](nonce(`budget${i}`))).status);
  assert.deepEqual(statuses, Array(LIMITED_RPM).fill(200));
  const over = geminiError(await geminiRequest(limited.port, { path: action('gpt-4o', 'streamGenerateContent', '?alt=sse'), headers: { 'x-goog-api-key': key }, body: user('one too many') }), 429, 'RESOURCE_EXHAUSTED');
  assert.equal(over.details[0]['@type'], 'type.googleapis.com/google.rpc.RetryInfo', 'the limiter says when; a retry may pass');
  assert.match(over.details[0].retryDelay, /^\d+s$/);
  const chatOver = await postChat(limited.port, { model: 'gpt-4o', messages: [{ role: 'user', content: 'chat too' }] }, { headers: { authorization: `Bearer ${key}` } });
  openAiError(assert, chatOver, 429);

  // nginx's access log keeps the request lines, not the keys in them.
  await geminiRequest(limited.port, { method: 'GET', path: `/v1beta/models?key=${key}&pageSize=5&key=${key}`, headers: { 'x-goog-api-key': '' } });
  const logged = () => limited.logText('access.log').split('\n').filter((line) => line.includes('/v1beta/models'));
  await waitUntil(() => logged().some((line) => line.includes('[query redacted]')), 'the last request\'s access-log line');
  assert.ok(logged().some((line) => line.includes('"GET /v1beta/models?key=[redacted] HTTP/1.1"')), logged().join('\n'));
  assert.ok(logged().some((line) => /streamGenerateContent\?alt=sse&key=\[redacted\] HTTP/.test(line)), logged().join('\n'));
  assert.ok(!limited.logText('access.log').includes(key.slice('sk-litellm-'.length)), 'a key reached the access log');
});
