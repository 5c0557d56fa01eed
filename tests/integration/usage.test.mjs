// Usage and budgets per key (issue 16, items 2 and 3), with real parts: two
// stacks (each its own nginx, responder and test worker) whose responders
// share ONE usage file (usage-state-file in their configuration), so they
// count one usage and enforce one budget; a responder restart keeps both.
// Chat Completions, Anthropic Messages and Responses requests are counted
// per key and model; GET /usage (validated against
// tests/spec/usage.schema.json) and `litellmctl usage` (table and --json)
// agree with what the clients were told in their usage fields.
//
// Counting ends after the response (the log line's moment), so the tests
// wait for the count itself, never for time.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  useStacks, writeFcgiConfig, postChat, httpRequest, chatBody, openAiError, nonce, waitUntil,
  COMMAND_GUARD_MS,
} from './harness.mjs';
import { assertUsage } from '../spec/usage.mjs';
import { assertStatus } from '../spec/status.mjs';

const MODELS = 'gpt-4o,claude-3.5-sonnet,o1';
const ANTHROPIC = { 'anthropic-version': '2023-06-01' };

let usageFile;
let ctlArgs;
const [a, b] = useStacks({ before, after }, 2, ({ dir }) => {
  usageFile = path.join(dir, 'usage.state');
  const config = writeFcgiConfig(path.join(dir, 'litellm-fcgi.conf'), {
    'usage-state-file': usageFile,
    'premium-multiplier': ['o1=10', 'claude-*=0.5'],
  });
  ctlArgs = ['--fcgi-config', config];
  const options = { ctlArgs, workerArgs: ['--models', MODELS] };
  return [options, options];
}, { tag: 'lusage' });

async function usageDoc(stack, query = '') {
  const response = await httpRequest(stack.port, { path: `/usage${query}` });
  assert.equal(response.status, 200, `GET /usage${query}: ${response.text}`);
  assertUsage(response.json, `GET /usage${query}`);
  return response.json;
}

function bucketsOf(doc, key, model) {
  return doc.buckets.filter((x) => x.key === key && x.model === model);
}

function sum(buckets) {
  const total = { requests: 0, input_tokens: 0, output_tokens: 0, errors: 0, premium_requests: 0 };
  for (const x of buckets) for (const k of Object.keys(total)) total[k] += x[k];
  return total;
}

/** Waits until GET /usage on `stack` says `key` x `model` made `requests` requests. */
async function waitRequests(stack, key, model, requests) {
  let doc;
  await waitUntil(async () => {
    doc = await usageDoc(stack);
    return sum(bucketsOf(doc, key, model)).requests >= requests;
  }, `${requests} request(s) of ${key} on ${model} counted`, COMMAND_GUARD_MS);
  return doc;
}

const messagesBody = (text, model = 'claude-3.5-sonnet') =>
  ({ model, max_tokens: 50, messages: [{ role: 'user', content: text }] });
const responsesBody = (text, model = 'o1') => ({ model, input: text });

// What the clients were told: chat/responses/messages usage fields, per model.
const told = {};
const ids = {}; // the model ids the windows answered with, by the name asked for
function tell(asked, model, input, output) {
  ids[asked] = model;
  told[model] ??= { requests: 0, input_tokens: 0, output_tokens: 0 };
  told[model].requests++;
  told[model].input_tokens += input;
  told[model].output_tokens += output;
}

test('chat, messages and responses requests are counted per model (no key: "-"), tokens as the clients were told, errors too', async () => {
  const chat = await postChat(a.port, chatBody(`chat ${nonce('u')}`));
  assert.equal(chat.status, 200, chat.text);
  tell('gpt-4o', chat.json.model, chat.json.usage.prompt_tokens, chat.json.usage.completion_tokens);
  const messages = await postChat(b.port, messagesBody(`messages ${nonce('u')}`), { path: '/v1/messages', headers: ANTHROPIC });
  assert.equal(messages.status, 200, messages.text);
  tell('claude-3.5-sonnet', messages.json.model, messages.json.usage.input_tokens, messages.json.usage.output_tokens);
  const responses = await postChat(a.port, responsesBody(`responses ${nonce('u')}`), { path: '/v1/responses' });
  assert.equal(responses.status, 200, responses.text);
  tell('o1', responses.json.model, responses.json.usage.input_tokens, responses.json.usage.output_tokens);
  // An error: a model no window offers (counted under the name asked for).
  openAiError(assert, await postChat(b.port, chatBody('nobody has it', { model: 'no-such-model' })), 404);

  const doc = await waitRequests(a, '-', 'no-such-model', 1);
  await waitRequests(a, '-', ids.o1, 1);
  assert.equal(doc.granularity, 'hour');
  assert.equal(doc.store, 'shm');
  for (const [model, expected] of Object.entries(told)) {
    const got = sum(bucketsOf(await usageDoc(a), '-', model));
    assert.equal(got.requests, expected.requests, `${model} requests`);
    assert.equal(got.input_tokens, expected.input_tokens, `${model} input tokens`);
    assert.equal(got.output_tokens, expected.output_tokens, `${model} output tokens`);
    assert.equal(got.errors, 0, `${model} errors`);
  }
  const final = await usageDoc(b); // the other process reads the same store
  assert.deepEqual(sum(bucketsOf(final, '-', ids.o1)).premium_requests, 10, '--premium-multiplier o1=10');
  assert.deepEqual(sum(bucketsOf(final, '-', ids['claude-3.5-sonnet'])).premium_requests, 0.5, 'a glob multiplier');
  assert.deepEqual(sum(bucketsOf(final, '-', ids['gpt-4o'])).premium_requests, 1, 'the default multiplier');
  const missing = sum(bucketsOf(final, '-', 'no-such-model'));
  assert.equal(missing.errors, 1);
  assert.equal(missing.premium_requests, 0, 'a refused request costs no premium request');
  assert.equal(final.totals.requests, final.buckets.reduce((n, x) => n + x.requests, 0));

  // The status document (GET /health, the pipe's status frames) carries today's totals.
  const health = await a.health();
  assertStatus('document', health.json, 'GET /health');
  const today = await usageDoc(a, `?since=${new Date().toISOString().slice(0, 10)}`);
  assert.deepEqual(health.json.usage_today.keys.map((k) => k.key), ['-']);
  for (const [field, value] of Object.entries({ requests: today.totals.requests, input_tokens: today.totals.input_tokens,
    output_tokens: today.totals.output_tokens, premium_requests: today.totals.premium_requests })) {
    assert.equal(health.json.usage_today[field], value, `usage_today.${field}`);
  }
});

test('litellmctl usage: the table and --json agree with GET /usage', async () => {
  const json = await b.ctl([...ctlArgs, 'usage', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout);
  assertUsage(doc, 'litellmctl usage --json');
  assert.equal(doc.granularity, 'day');
  const http = await usageDoc(a, `?since=${doc.since.slice(0, 10)}`);
  assert.deepEqual(doc.totals, http.totals, 'the tool reads what the responder serves');
  assert.deepEqual(doc.buckets, http.buckets);
  for (const [model, expected] of Object.entries(told)) {
    const got = sum(bucketsOf(doc, '-', model));
    assert.equal(got.requests, expected.requests);
    assert.equal(got.input_tokens, expected.input_tokens);
  }
  const table = await b.ctl([...ctlArgs, 'usage']);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0], /^KEY +MODEL +DAY +REQUESTS +INPUT +OUTPUT +ERRORS +PREMIUM$/);
  const row = lines.find((l) => l.startsWith(`- `) && l.split(/ +/)[1] === ids.o1);
  assert.ok(row, `a row for o1: ${table.stdout}`);
  const cells = row.split(/ +/);
  assert.deepEqual(cells.slice(3).map(Number),
    [told[ids.o1].requests, told[ids.o1].input_tokens, told[ids.o1].output_tokens, 0, 10]);
  const total = lines.find((l) => l.startsWith('TOTAL')).split(/ +/).slice(1).map(Number);
  assert.deepEqual(total, [doc.totals.requests, doc.totals.input_tokens, doc.totals.output_tokens,
    doc.totals.errors, doc.totals.premium_requests]);
  const filtered = JSON.parse((await b.ctl([...ctlArgs, 'usage', '--key', 'nobody', '--json'])).stdout);
  assert.deepEqual(filtered.buckets, [], '--key filters');
});

test('GET /usage: strict query parsing (400 with a reason), daily buckets with since=, key filter', async () => {
  for (const query of ['?hours=abc', '?hours=0', '?since=2026-02-30', '?since=2999-01-01', '?hours=2&since=2026-01-01',
    '?color=red', '?key=a%2', '?key=bad%20name', '?hours=1&hours=2', '?key=%00']) {
    const response = await httpRequest(a.port, { path: `/usage${query}` });
    const error = openAiError(assert, response, 400);
    assert.equal(error.code, 'invalid_query', query);
  }
  const day = new Date().toISOString().slice(0, 10);
  const daily = await usageDoc(a, `?since=${day}&key=-`);
  assert.equal(daily.granularity, 'day');
  assert.ok(daily.buckets.every((x) => x.key === '-' && x.start === `${day}T00:00:00Z`));
  const hourly = await usageDoc(a, '?hours=1');
  assert.equal(Date.parse(hourly.until) - Date.parse(hourly.since), 3600 * 1000);
});

test('usage survives a responder restart (the file, not memory)', async () => {
  const before = (await usageDoc(a)).totals;
  const oldPid = await a.stopResponder();
  const started = await a.ctl([...ctlArgs, 'start']);
  assert.equal(started.code, 0, `litellmctl start: ${started.stderr}`);
  assert.notEqual(await a.responderPid(), oldPid);
  assert.deepEqual((await usageDoc(a)).totals, before);
  await waitUntil(async () => (await a.health()).json?.windows >= 1, 'the worker to reconnect', COMMAND_GUARD_MS);
});

// --- budgets -------------------------------------------------------------

const secrets = { a: {}, b: {} };
async function addKey(stack, side, name, ...options) {
  const result = await stack.keys(['add', name, ...options]);
  assert.equal(result.code, 0, `keys add ${name}: ${result.stderr}`);
  secrets[side][name] = result.stdout.trim();
}
const bearer = (side, name) => ({ authorization: `Bearer ${secrets[side][name]}` });

function assertBudgetRefusal(response, name, budget) {
  assert.equal(response.status, 429, response.text);
  assert.equal(response.headers['x-should-retry'], 'false');
  const retryAfter = Number(response.headers['retry-after']);
  assert.ok(retryAfter >= 1 && retryAfter <= 86400, `Retry-After to the next UTC midnight: ${response.headers['retry-after']}`);
  const tomorrow = new Date(Date.now() + 86400 * 1000).toISOString().slice(0, 10);
  const message = new RegExp(`The API key '${name}' has used its budget of ${budget} per day; it resets at (${tomorrow}|\\d{4}-\\d{2}-\\d{2})T00:00:00Z\\.`);
  return { message };
}

test('a key with --budget-requests 2 gets its third request refused 429 budget_exceeded, in the chat, Anthropic and Responses shapes, across two processes and a restart', async () => {
  await addKey(a, 'a', 'alice', '--budget-requests', '2');
  await addKey(b, 'b', 'alice', '--budget-requests', '2', '--budget-period', 'day');
  const list = JSON.parse((await a.keys(['list', '--json'])).stdout);
  assert.deepEqual(list.find((k) => k.name === 'alice').budget, { period: 'day', requests: 2, tokens: 0 });
  assert.match((await a.keys(['list'])).stdout, /alice .*budget=2 requests, 0 tokens per day/);
  // The responders re-read their keys files within a second.
  await waitUntil(async () => (await postChat(a.port, chatBody('x'))).status === 401, 'a to require keys');
  await waitUntil(async () => (await postChat(b.port, chatBody('x'))).status === 401, 'b to require keys');

  const first = await postChat(a.port, chatBody(`one ${nonce('b')}`), { headers: bearer('a', 'alice') });
  assert.equal(first.status, 200, first.text);
  const second = await postChat(b.port, chatBody(`two ${nonce('b')}`), { headers: bearer('b', 'alice') });
  assert.equal(second.status, 200, second.text);

  const marker = nonce('refused');
  const chat = await postChat(a.port, chatBody(`three ${marker}`), { headers: bearer('a', 'alice') });
  const { message } = assertBudgetRefusal(chat, 'alice', '2 requests');
  const error = openAiError(assert, chat, 429);
  assert.equal(error.code, 'budget_exceeded');
  assert.equal(error.type, 'rate_limit_error');
  assert.match(error.message, message);

  const messages = await postChat(b.port, messagesBody(`three ${marker}`), { path: '/v1/messages', headers: { ...ANTHROPIC, ...bearer('b', 'alice') } });
  assertBudgetRefusal(messages, 'alice', '2 requests');
  assert.equal(messages.json.type, 'error');
  assert.equal(messages.json.error.type, 'rate_limit_error');
  assert.match(messages.json.error.message, message);

  const responses = await postChat(a.port, responsesBody(`three ${marker}`), { path: '/v1/responses', headers: bearer('a', 'alice') });
  assertBudgetRefusal(responses, 'alice', '2 requests');
  assert.equal(responses.json.error.code, 'budget_exceeded');
  assert.match(responses.json.error.message, message);

  // Gemini: RESOURCE_EXHAUSTED with the terminal ErrorInfo, so that Gemini
  // CLI stops instead of retrying a budget that only the period's end resets.
  const gemini = await postChat(b.port, { contents: [{ role: 'user', parts: [{ text: `three ${marker}` }] }] },
    { path: '/v1beta/models/gpt-4o:generateContent', headers: { 'x-goog-api-key': secrets.b.alice } });
  assertBudgetRefusal(gemini, 'alice', '2 requests');
  assert.equal(gemini.json.error.code, 429);
  assert.equal(gemini.json.error.status, 'RESOURCE_EXHAUSTED');
  assert.match(gemini.json.error.message, message);
  assert.ok(gemini.json.error.details.some((d) => d['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo'),
    JSON.stringify(gemini.json.error.details));
  for (const stack of [a, b]) {
    assert.ok(!stack.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker)),
      'a refused request never reaches VS Code');
  }

  // /usage shows the budget's use; the refusals are counted as errors.
  let doc;
  await waitUntil(async () => {
    doc = await usageDoc(b, '?key=alice');
    return doc.totals.requests === 6;
  }, 'alice\'s 6 requests counted', COMMAND_GUARD_MS);
  assert.equal(doc.totals.errors, 4);
  assert.equal(doc.budgets.length, 1);
  const entry = doc.budgets[0];
  assert.deepEqual([entry.key, entry.period, entry.requests], ['alice', 'day', { limit: 2, used: 2 }]);
  const midnight = new Date(); midnight.setUTCHours(24, 0, 0, 0);
  assert.equal(entry.resets_at, midnight.toISOString().replace('.000', ''));

  // A restarted responder still refuses.
  await a.stopResponder();
  assert.equal((await a.ctl([...ctlArgs, 'start'])).code, 0);
  await waitUntil(async () => (await a.health()).json?.windows >= 1, 'the worker to reconnect', COMMAND_GUARD_MS);
  assertBudgetRefusal(await postChat(a.port, chatBody('after restart'), { headers: bearer('a', 'alice') }), 'alice', '2 requests');

  // keys set ... 0 clears the budget.
  const cleared = await a.keys(['set', 'alice', '--budget-requests', '0']);
  assert.equal(cleared.code, 0, cleared.stderr);
  assert.equal(JSON.parse((await a.keys(['list', '--json'])).stdout).find((k) => k.name === 'alice').budget, null);
  await waitUntil(async () => (await postChat(a.port, chatBody('cleared'), { headers: bearer('a', 'alice') })).status === 200,
    'a to re-read the keys file without the budget');
});

test('a tokens budget: once the period\'s tokens reach it, the next request is refused', async () => {
  await addKey(a, 'a', 'bob', '--budget-tokens', '1', '--budget-period', 'month');
  await waitUntil(async () => (await postChat(a.port, chatBody('hello'), { headers: bearer('a', 'bob') })).status !== 401,
    'a to know bob');
  let refused;
  await waitUntil(async () => {
    refused = await postChat(a.port, chatBody('more'), { headers: bearer('a', 'bob') });
    return refused.status === 429;
  }, 'bob\'s tokens to be counted', COMMAND_GUARD_MS);
  const error = openAiError(assert, refused, 429);
  assert.equal(error.code, 'budget_exceeded');
  const next = new Date(); next.setUTCDate(1); next.setUTCHours(0, 0, 0, 0); next.setUTCMonth(next.getUTCMonth() + 1);
  assert.equal(error.message, `The API key 'bob' has used its budget of 1 token per month; it resets at ${next.toISOString().replace('.000', '')}.`);
  assert.equal(refused.headers['x-should-retry'], 'false');
  assert.ok(Math.abs(Number(refused.headers['retry-after']) - (next.getTime() - Date.now()) / 1000) < 5,
    `Retry-After counts to the first of next month: ${refused.headers['retry-after']}`);
  assert.ok(fs.existsSync(usageFile));
});
