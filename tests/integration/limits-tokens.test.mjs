// Token limits and what a limited response says (issue 6), on one real stack:
// TPM reservations (prompt estimate + max_tokens or the configured default)
// and their reconciliation with the real usage; a reservation over the TPM
// (429 that must not be retried); x-ratelimit-* header values and formats on
// JSON, SSE and 429 responses; Retry-After honoured by the openai SDK; the
// context-length 400 sent before anything reaches the worker.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { validatingFetch,
  Stack, TestWorker, makeTempDir, writeFcgiConfig, nonce, postChat, chatBody, openAiError, openStream,
  rateLimitHeaders, GO_DURATION, goDurationMs, waitUntil, sseData,
} from './harness.mjs';

const GLOBAL_RPM = 100000;
const GLOBAL_TPM = 1000000;
const TPM = 1000;              // claude-3.5-sonnet and o1
const DEFAULT_COMPLETION = 700;
const RETRY_RPM = 30;          // gpt-4o-mini: one every 2 s after the burst
const MAX_INPUT = 2000;        // what the worker's models report

const stack = new Stack();    // first: a missing binary fails here, before any temp file exists
const dir = makeTempDir('ltok');
const config = writeFcgiConfig(path.join(dir, 'litellm-fcgi.conf'), {
  'limits-rpm': GLOBAL_RPM,
  'limits-tpm': GLOBAL_TPM,
  'limits-model': ['gpt-4o:rpm=600,tpm=600000', `claude-3.5-sonnet:tpm=${TPM}`, `o1:tpm=${TPM}`, `gpt-4o-mini:rpm=${RETRY_RPM}`],
  'limits-default-completion-tokens': DEFAULT_COMPLETION,
});
let silentWorker;              // a second window whose models report no max_input_tokens

before(async () => {
  await stack.start({
    ctlArgs: ['--fcgi-config', config],
    workerArgs: ['--models', 'gpt-4o,claude-3.5-sonnet,o1,gpt-4o-mini', '--max-input-tokens', String(MAX_INPUT)],
  });
  silentWorker = new TestWorker(stack.paths.worker, ['--pipe', stack.pipe, '--label', 'quiet', '--models', 'o1-mini,o3', '--max-input-tokens', '0']);
  await silentWorker.waitEvent((e) => e.event === 'welcome', 'the second worker to be welcomed');
  await stack.waitWindows((n) => n >= 2, '/health windows >= 2');
});

after(async () => {
  try {
    if (silentWorker) await silentWorker.stop();
    await stack.teardown();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const int = (text) => {
  assert.match(String(text), /^\d+$/, `an integer header value: ${text}`);
  return Number(text);
};

/** /health's tokens_per_minute of a scope. */
async function tokensOf(scope) {
  const health = await stack.health();
  const entry = health.json.limits.find((l) => l.scope === scope);
  assert.ok(entry?.tokens_per_minute, `/health has the TPM of ${scope}: ${health.text}`);
  return entry.tokens_per_minute;
}

/** Asserts the six x-ratelimit-* headers; returns them parsed. */
function assertRateLimitHeaders(headers, { requests, tokens }) {
  const h = rateLimitHeaders(headers);
  for (const name of ['limit-requests', 'remaining-requests', 'reset-requests', 'limit-tokens', 'remaining-tokens', 'reset-tokens']) {
    assert.ok(h[`x-ratelimit-${name}`] !== undefined, `x-ratelimit-${name} is sent: ${JSON.stringify(h)}`);
  }
  const parsed = {
    limitRequests: int(h['x-ratelimit-limit-requests']),
    remainingRequests: int(h['x-ratelimit-remaining-requests']),
    resetRequests: h['x-ratelimit-reset-requests'],
    limitTokens: int(h['x-ratelimit-limit-tokens']),
    remainingTokens: int(h['x-ratelimit-remaining-tokens']),
    resetTokens: h['x-ratelimit-reset-tokens'],
  };
  assert.equal(parsed.limitRequests, requests);
  assert.equal(parsed.limitTokens, tokens);
  assert.ok(parsed.remainingRequests < requests, `remaining requests below the limit after a request: ${JSON.stringify(h)}`);
  assert.ok(parsed.remainingTokens < tokens, `remaining tokens below the limit after a request: ${JSON.stringify(h)}`);
  for (const reset of [parsed.resetRequests, parsed.resetTokens]) {
    assert.match(reset, GO_DURATION, `a Go duration: ${reset}`);
    assert.ok(goDurationMs(reset) <= 60_000, `a reset within the 60 s period: ${reset}`);
  }
  return parsed;
}

test('x-ratelimit-* on a JSON response: the tightest scope, integers, Go durations', async () => {
  const response = await postChat(stack.port, chatBody(`headers ${nonce('h')}`, { max_tokens: 50 }));
  assert.equal(response.status, 200, response.text);
  const h = assertRateLimitHeaders(response.headers, { requests: 600, tokens: 600000 });
  // One request of 600 per minute: the bucket is full again 100 ms after it.
  assert.ok(goDurationMs(h.resetRequests) <= 100, `reset-requests ${h.resetRequests}`);
  assert.ok(h.remainingRequests >= 590, `remaining-requests ${h.remainingRequests}`);
  // A model without a rule of its own gets the global limits.
  const global = await postChat(stack.port, chatBody(`global ${nonce('g')}`, { model: 'o3', max_tokens: 10 }));
  assert.equal(global.status, 200, global.text);
  assertRateLimitHeaders(global.headers, { requests: GLOBAL_RPM, tokens: GLOBAL_TPM });
});

test('x-ratelimit-* are in the head of an SSE response, before the first event', async () => {
  const marker = nonce('sse');
  const stream = await openStream(stack.port, chatBody(`[[gate]] ${marker}`, { stream: true, max_tokens: 30 }));
  const event = await stack.worker.waitRequest(marker);
  try {
    assert.equal(stream.status, 200);
    assert.match(String(stream.headers['content-type']), /text\/event-stream/);
    assert.equal(stream.text().includes('after-gate'), false, 'the headers came while the reply was held');
    assertRateLimitHeaders(stream.headers, { requests: 600, tokens: 600000 });
  } finally {
    stack.worker.command(`release ${event.id}`);
  }
  await stream.readToEnd();
  assert.equal(sseData(stream.text()).at(-1), '[DONE]');
});

test('TPM: a reservation holds max_tokens while in flight; a short reply gives the rest back', async () => {
  // G reserves prompt + 600 of claude's 1000 and holds them (gated).
  const gMarker = nonce('tpm-g');
  const g = await openStream(stack.port, chatBody(`[[gate]] ${gMarker}`, { model: 'claude-3.5-sonnet', stream: true, max_tokens: 600 }));
  assert.equal(g.status, 200);
  const gEvent = await stack.worker.waitRequest(gMarker);
  const afterG = int(g.headers['x-ratelimit-remaining-tokens']);
  assert.ok(afterG <= TPM - 600, `G's reservation includes max_tokens: remaining ${afterG}`);

  // While G holds its reservation, R1 (600 more) does not fit.
  const r1Marker = nonce('tpm-r1');
  const r1 = await postChat(stack.port, chatBody(`r1 ${r1Marker}`, { model: 'claude-3.5-sonnet', max_tokens: 600 }));
  const error = openAiError(assert, r1, 429);
  assert.equal(error.code, 'rate_limit_exceeded');
  assert.equal(error.type, 'rate_limit_error');
  assert.match(error.message, new RegExp(`^Rate limit reached: ${TPM} tokens per minute for model 'claude-3\\.5-sonnet'\\. Please try again in (\\S+)\\.$`));
  assert.notEqual(r1.headers['x-should-retry'], 'false', 'waiting helps: a retry is allowed');
  assert.ok(int(r1.headers['retry-after']) >= 1);

  // G ends with a reply of a few tokens: its unused reservation comes back.
  stack.worker.command(`release ${gEvent.id}`);
  await g.readToEnd();
  assert.equal(sseData(g.text()).at(-1), '[DONE]');

  const r2Marker = nonce('tpm-r2');
  const r2 = await postChat(stack.port, chatBody(`r2 ${r2Marker}`, { model: 'claude-3.5-sonnet', max_tokens: 600 }));
  assert.equal(r2.status, 200, `fits only if G gave back its unused tokens: ${r2.text}`);
  assert.ok(r2.json.usage.total_tokens < 50, `a short reply: ${JSON.stringify(r2.json.usage)}`);
  await stack.worker.waitRequest(r2Marker);
  assert.ok(!stack.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(r1Marker)), 'R1 never reached the worker');

  // Both are settled: what is spent is their real usage, not their reservations.
  const tokens = await tokensOf('model claude-3.5-sonnet');
  assert.equal(tokens.limit, TPM);
  assert.ok(tokens.remaining >= TPM - 100, `after reconciliation, remaining ${tokens.remaining} of ${TPM}`);
  assert.match(tokens.reset, GO_DURATION);
});

test(`TPM: without max_tokens a request reserves the configured default (${DEFAULT_COMPLETION})`, async () => {
  const marker = nonce('tpm-default');
  const held = await openStream(stack.port, chatBody(`[[gate]] ${marker}`, { model: 'o1', stream: true }));
  assert.equal(held.status, 200);
  const event = await stack.worker.waitRequest(marker);
  const remaining = int(held.headers['x-ratelimit-remaining-tokens']);
  assert.ok(remaining <= TPM - DEFAULT_COMPLETION && remaining >= TPM - DEFAULT_COMPLETION - 60,
    `reserved about ${DEFAULT_COMPLETION} + the prompt: remaining ${remaining}`);
  // A second one (another default reservation) does not fit beside it.
  openAiError(assert, await postChat(stack.port, chatBody('beside', { model: 'o1' })), 429);
  stack.worker.command(`release ${event.id}`);
  await held.readToEnd();
  const tokens = await tokensOf('model o1');
  assert.ok(tokens.remaining >= TPM - 100, `given back: remaining ${tokens.remaining}`);
});

test('a reservation larger than the TPM can never pass: 429 with x-should-retry: false, not retried by the SDK', async () => {
  const marker = nonce('too-big');
  const response = await postChat(stack.port, chatBody(`too big ${marker}`, { model: 'claude-3.5-sonnet', max_tokens: TPM + 1 }));
  const error = openAiError(assert, response, 429);
  assert.equal(error.code, 'rate_limit_exceeded');
  assert.equal(response.headers['x-should-retry'], 'false');
  assert.match(error.message, new RegExp(`${TPM} tokens per minute for model 'claude-3\\.5-sonnet'`));
  const needed = (error.message.match(/\d+/g) || []).map(Number).find((n) => n > TPM);
  assert.ok(needed && needed < TPM + 100, `names the reservation (max_tokens ${TPM + 1} + the prompt): ${error.message}`);

  // The global scope refuses a reservation over ITS limit the same way, naming itself.
  const global = await postChat(stack.port, chatBody('too big for all', { model: 'o3', max_tokens: GLOBAL_TPM * 2 }));
  const globalError = openAiError(assert, global, 429);
  assert.equal(global.headers['x-should-retry'], 'false');
  assert.match(globalError.message, new RegExp(`${GLOBAL_TPM} tokens per minute for the gateway as a whole`));

  const statuses = [];
  const client = new OpenAI({
    baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 3,
    fetch: async (url, init) => { const r = await validatingFetch(url, init); statuses.push(r.status); return r; },
  });
  await assert.rejects(client.chat.completions.create({
    model: 'claude-3.5-sonnet', max_tokens: TPM + 1, messages: [{ role: 'user', content: 'no retry' }],
  }), (err) => err.status === 429);
  assert.deepEqual(statuses, [429], 'the SDK obeyed x-should-retry: false');
  assert.ok(!stack.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker)));
});

test('a 429 carries Retry-After (s), retry-after-ms and the x-ratelimit-* headers, consistent with its message', async () => {
  // Spend gpt-4o-mini's burst.
  let refused;
  for (let i = 0; i < RETRY_RPM * 2 && !refused; i++) {
    const response = await postChat(stack.port, chatBody(`burst ${i}`, { model: 'gpt-4o-mini', max_tokens: 5 }));
    if (response.status === 429) refused = response;
    else assert.equal(response.status, 200, response.text);
  }
  assert.ok(refused, `a 429 within ${RETRY_RPM * 2} requests`);
  const error = openAiError(assert, refused, 429);
  const ms = int(refused.headers['retry-after-ms']);
  const seconds = int(refused.headers['retry-after']);
  assert.ok(ms > 0 && ms <= 60_000 / RETRY_RPM, `retry-after-ms ${ms} within one interval`);
  assert.equal(seconds, Math.ceil(ms / 1000), 'Retry-After is retry-after-ms rounded up to seconds');
  const match = error.message.match(/^Rate limit reached: (\d+) requests per minute for model 'gpt-4o-mini'\. Please try again in (\S+)\.$/);
  assert.ok(match, `message names value, kind and scope: ${error.message}`);
  assert.equal(Number(match[1]), RETRY_RPM);
  assert.match(match[2], GO_DURATION);
  assert.equal(goDurationMs(match[2]), ms, 'the message and retry-after-ms agree');
  assert.equal(refused.headers['x-ratelimit-limit-requests'], String(RETRY_RPM));
  assert.equal(refused.headers['x-ratelimit-remaining-requests'], '0');
  assert.match(refused.headers['x-ratelimit-reset-requests'], GO_DURATION);
  assert.match(refused.headers['x-ratelimit-reset-tokens'], GO_DURATION);
});

test('the openai SDK with retries on honours Retry-After: it waits, then succeeds', async () => {
  for (let round = 1; ; round++) {
    // Spend the burst until refused...
    let spent = false;
    for (let i = 0; i < RETRY_RPM * 2 && !spent; i++) {
      spent = (await postChat(stack.port, chatBody(`spend ${i}`, { model: 'gpt-4o-mini', max_tokens: 5 }))).status === 429;
    }
    assert.ok(spent, 'the burst is spent');
    // ...then the SDK: its first try is refused, it sleeps what the server said, and its retry passes.
    const attempts = [];
    const client = new OpenAI({
      baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 3,
      fetch: async (url, init) => {
        const r = await validatingFetch(url, init);
        attempts.push({ status: r.status, retryAfterMs: r.headers.get('retry-after-ms') });
        return r;
      },
    });
    const marker = nonce('sdk-retry');
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: `retry ${marker}` }],
    });
    assert.equal(completion.choices[0].message.content, `retry ${marker}`);
    assert.equal(attempts.at(-1).status, 200);
    if (attempts[0].status === 200 && round < 3) continue; // the window refilled in between: again
    assert.equal(attempts[0].status, 429, `the first attempt was refused: ${JSON.stringify(attempts)}`);
    assert.ok(Number(attempts[0].retryAfterMs) > 0);
    assert.ok(attempts.slice(0, -1).every((a) => a.status === 429), JSON.stringify(attempts));
    assert.ok(attempts.length <= 3, `one interval's wait is enough: ${JSON.stringify(attempts)}`);
    await stack.worker.waitRequest(marker);
    break;
  }
});

/** A prompt of about `tokens` tokens of ordinary English-like text. */
function longPrompt(tokens) {
  const words = ['the', 'gateway', 'limits', 'requests', 'per', 'minute', 'and', 'tokens', 'shared', 'by', 'every', 'client'];
  const out = [];
  for (let i = 0; out.length < tokens; i++) out.push(words[(i * 7) % words.length]);
  return out.join(' ');
}

test(`context length: a prompt over the model's max_input_tokens (${MAX_INPUT}) is a 400 before dispatch`, async () => {
  const marker = nonce('ctx');
  for (const stream of [false, true]) {
    const response = await postChat(stack.port, chatBody(`${marker} ${longPrompt(MAX_INPUT * 2)}`, { model: 'gpt-4o', stream }));
    const error = openAiError(assert, response, 400);
    assert.equal(error.code, 'context_length_exceeded');
    assert.equal(error.param, 'messages');
    assert.equal(response.headers['x-should-retry'], 'false');
    const numbers = (error.message.match(/\d+/g) || []).map(Number);
    assert.ok(numbers.includes(MAX_INPUT), `names the limit ${MAX_INPUT}: ${error.message}`);
    const estimate = numbers.find((n) => n > MAX_INPUT);
    assert.ok(estimate, `names the prompt's estimate: ${error.message}`);
    assert.ok(estimate > MAX_INPUT * 1.5 && estimate < MAX_INPUT * 3, `a sane estimate ${estimate} of ~${MAX_INPUT * 2}`);
  }
  // A prompt well under the limit passes, and the worker saw only that one.
  const okMarker = nonce('ctx-ok');
  const ok = await postChat(stack.port, chatBody(`[[chunks:1]] ${okMarker} ${longPrompt(MAX_INPUT / 2)}`, { model: 'gpt-4o' }));
  assert.equal(ok.status, 200, ok.text);
  await stack.worker.waitRequest(okMarker);
  assert.ok(!stack.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker)),
    'the worker received nothing of the over-long prompts');
});

test('context length: without max_input_tokens from the model, the family\'s window applies (o1-mini 128000, o3 200000)', async () => {
  const prompt = longPrompt(150000);
  const marker = nonce('ctx-family');
  const refused = await postChat(stack.port, chatBody(`${marker} ${prompt}`, { model: 'o1-mini' }));
  const error = openAiError(assert, refused, 400);
  assert.equal(error.code, 'context_length_exceeded');
  assert.match(error.message, /\b128000\b/);
  const passMarker = nonce('ctx-family-ok');
  const passed = await postChat(stack.port, chatBody(`[[chunks:1]] ${passMarker} ${prompt}`, { model: 'o3', max_tokens: 10 }));
  assert.equal(passed.status, 200, passed.text.slice(0, 500));
  await silentWorker.waitRequest(passMarker);
  assert.ok(!silentWorker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker)));
});
