// Usage and budgets shared through Redis (issue 16): a real redis-server,
// two real stacks whose responders have SEPARATE usage files
// (PREFIX/state/usage.state each), so only Redis can make them count one
// usage and one budget. Then Redis is killed: requests go on, counted in each
// host's file, until Redis is back. `litellmctl usage` reads Redis too.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  useRedisStacks, writeFcgiConfig, nonce, postChat, httpRequest, chatBody,
  openAiError, waitUntil, COMMAND_GUARD_MS,
} from './harness.mjs';
import { assertUsage } from '../spec/usage.mjs';

const MODELS = 'gpt-4o,claude-3.5-sonnet';
const skip = process.env.LITELLM_SKIP_REDIS === '1' ? 'LITELLM_SKIP_REDIS=1' : false;
let ctlArgs;
const { redis, stacks: [a, b] } = useRedisStacks({ before, after }, 2, ({ dir, redis: server }) => {
  const config = writeFcgiConfig(path.join(dir, 'litellm-fcgi.conf'), { 'limits-store': server.url });
  ctlArgs = ['--fcgi-config', config];
  return [0, 1].map(() => ({ ctlArgs, workerArgs: ['--models', MODELS] }));
}, { tag: 'luredis', skip });

async function usageDoc(stack, query = '') {
  const response = await httpRequest(stack.port, { path: `/usage${query}` });
  assert.equal(response.status, 200, response.text);
  assertUsage(response.json, `GET /usage${query}`);
  return response.json;
}

const requestsOf = (doc, key) => doc.buckets.filter((x) => x.key === key).reduce((n, x) => n + x.requests, 0);

test('requests on either host are counted once, in Redis; litellmctl usage reads it', { skip }, async () => {
  for (const stack of [a, b, a]) {
    const response = await postChat(stack.port, chatBody(`hello ${nonce('r')}`));
    assert.equal(response.status, 200, response.text);
  }
  let doc;
  await waitUntil(async () => {
    doc = await usageDoc(b);
    return requestsOf(doc, '-') === 3;
  }, 'the three requests counted in Redis', COMMAND_GUARD_MS);
  assert.equal(doc.store, 'redis');
  assert.ok(doc.totals.input_tokens > 0 && doc.totals.output_tokens > 0);
  assert.match(await redis.command('KEYS litellm:usage:h:*'), /litellm:usage:h:\d+/);
  assert.deepEqual((await usageDoc(a)).totals, doc.totals, 'both hosts read the same usage');
  for (const stack of [a, b]) {
    const fileDoc = JSON.parse((await stack.ctl([...ctlArgs, 'usage', '--json'])).stdout);
    assertUsage(fileDoc, 'litellmctl usage --json');
    assert.equal(fileDoc.store, 'redis');
    assert.equal(fileDoc.totals.requests, 3);
  }
});

test('a request budget holds across hosts through Redis; with Redis down each host counts in its file', { skip }, async () => {
  const secrets = {};
  for (const [side, stack] of [['a', a], ['b', b]]) {
    const added = await stack.keys(['add', 'carol', '--budget-requests', '2']);
    assert.equal(added.code, 0, added.stderr);
    secrets[side] = added.stdout.trim();
  }
  const auth = (side) => ({ authorization: `Bearer ${secrets[side]}` });
  for (const stack of [a, b]) {
    await waitUntil(async () => (await postChat(stack.port, chatBody('x'))).status === 401, 'keys to be read');
  }
  assert.equal((await postChat(a.port, chatBody('one'), { headers: auth('a') })).status, 200);
  assert.equal((await postChat(b.port, chatBody('two'), { headers: auth('b') })).status, 200);
  const third = await postChat(a.port, chatBody('three'), { headers: auth('a') });
  const error = openAiError(assert, third, 429);
  assert.equal(error.code, 'budget_exceeded');
  assert.equal(third.headers['x-should-retry'], 'false');
  const entry = (await usageDoc(b, '?key=carol')).budgets[0];
  assert.deepEqual(entry.requests, { limit: 2, used: 2 });

  // Redis down: each host falls back to its own file, which has none of
  // carol's requests, and serves.
  await redis.stop();
  const marker = nonce('fallback');
  const served = await postChat(b.port, chatBody(`while Redis is down ${marker}`), { headers: auth('b') });
  assert.equal(served.status, 200, served.text);
  await waitUntil(async () => requestsOf(await usageDoc(b, '?key=carol'), 'carol') === 1,
    'the request counted in b\'s file', COMMAND_GUARD_MS);
  assert.equal((await usageDoc(b)).store, 'redis', 'the configured store is still named');
  await redis.start();
  // Redis is back (retried within seconds): the budget is Redis's again.
  await waitUntil(async () => (await postChat(a.port, chatBody('again'), { headers: auth('a') })).status === 429,
    'Redis to be used again', COMMAND_GUARD_MS);
});
