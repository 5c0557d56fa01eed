// Limits shared through Redis (issue 6): a real redis-server started by the
// test, two real stacks whose responders have SEPARATE state files, so only
// Redis can make them share a budget; then Redis is killed mid-test: requests
// keep working on the local fallback and /health says so, until Redis is back.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI, { RateLimitError } from 'openai';
import { validatingFetch,
  useRedisStacks, writeFcgiConfig, nonce, postChat, chatBody, openAiError, openRequest,
  rateLimitHeaders, waitUntil, COMMAND_GUARD_MS,
} from './harness.mjs';

const MODELS = 'gpt-4o,claude-3.5-sonnet,o1';
const RPM = 4;

const skip = process.env.LITELLM_SKIP_REDIS === '1' ? 'LITELLM_SKIP_REDIS=1' : false;
const { redis, stacks: [a, b] } = useRedisStacks({ before, after }, 2, ({ dir, redis: server }) => {
  const config = writeFcgiConfig(path.join(dir, 'litellm-fcgi.conf'), {
    'limits-store': server.url,
    'limits-model': [`gpt-4o:rpm=${RPM}`, 'claude-3.5-sonnet:rpm=1000,concurrent=10', 'o1:rpm=2'],
  });
  return [0, 1].map(() => ({ ctlArgs: ['--fcgi-config', config], workerArgs: ['--models', MODELS] }));
}, { tag: 'lredis', skip });

async function store(stack) {
  const health = await stack.health();
  assert.equal(health.status, 200);
  assert.ok(health.json.limits_store, `/health has limits_store: ${health.text}`);
  return health.json.limits_store;
}

test('both responders use Redis, each with its own state file', { skip }, async () => {
  assert.notEqual(fs.realpathSync(path.join(a.prefix, 'state', 'limits.state')),
    fs.realpathSync(path.join(b.prefix, 'state', 'limits.state')));
  for (const stack of [a, b]) {
    assert.deepEqual(await store(stack), { configured: redis.url, active: 'redis' });
  }
});

test(`N parallel SDK clients (retries off) against RPM ${RPM} over two responders sharing Redis: exactly ${RPM} succeed`, { skip }, async () => {
  const N = 12;
  const results = await Promise.allSettled(Array.from({ length: N }, (_, i) => {
    const stack = i % 2 ? b : a;
    const client = new OpenAI({ fetch: validatingFetch, baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
    return client.chat.completions.create({
      model: 'gpt-4o', messages: [{ role: 'user', content: `redis parallel ${nonce('rp')}` }],
    });
  }));
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  const refused = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  assert.equal(ok, RPM, `exactly ${RPM} of ${N}; refusals: ${refused.map((e) => e.message).join(' | ')}`);
  for (const err of refused) {
    assert.ok(err instanceof RateLimitError, `RateLimitError: ${err}`);
    assert.equal(err.code, 'rate_limit_exceeded');
    assert.match(err.message, new RegExp(`${RPM} requests per minute for model 'gpt-4o'`));
  }
  for (const stack of [a, b]) {
    await stack.responderIdle(); // a line is written after its response: wait until all are
    assert.match(stack.logText(), /status=429 /, 'each responder refused some');
    const entry = (await stack.health()).json.limits.find((l) => l.scope === 'model gpt-4o');
    assert.ok(entry.requests_per_minute.remaining <= 1, `both see the spent window: ${JSON.stringify(entry)}`);
  }
  // The budget is in Redis, under keys that expire.
  const ttl = await redis.command('PTTL litellm:model:gpt-4o');
  assert.match(ttl, /^:\d+\r\n$/, `the scope's key has a TTL: ${JSON.stringify(ttl)}`);
});

test('Redis killed mid-test: requests keep working on the local fallback, /health says so, and Redis is used again once back', { skip }, async () => {
  // A request admitted through Redis is in flight when Redis dies.
  const heldMarker = nonce('held');
  const held = openRequest(a.port, chatBody(`[[gate]] ${heldMarker}`, { model: 'claude-3.5-sonnet', stream: true }));
  await a.worker.waitRequest(heldMarker);
  const heldResponse = await held.ready;
  assert.equal(heldResponse.status, 200);

  await redis.stop('SIGKILL');

  // Requests keep working, limited by the local state file.
  for (let i = 0; i < 3; i++) {
    const marker = nonce('fallback');
    const response = await postChat(a.port, chatBody(`fallback ${marker}`, { model: 'claude-3.5-sonnet' }));
    assert.equal(response.status, 200, response.text);
    assert.equal(response.headers['x-ratelimit-limit-requests'], '1000', JSON.stringify(rateLimitHeaders(response.headers)));
    await a.worker.waitRequest(marker);
  }
  a.worker.command(`release ${(await a.worker.waitRequest(heldMarker)).id}`);
  await heldResponse.readToEnd();
  assert.match(heldResponse.text(), /after-gate[\s\S]*data: \[DONE\]/, 'the request admitted before the outage finished');

  // The fallback enforces limits locally: o1 allows 2 per minute per process now.
  assert.equal((await postChat(a.port, chatBody('o1 one', { model: 'o1' }))).status, 200);
  assert.equal((await postChat(a.port, chatBody('o1 two', { model: 'o1' }))).status, 200);
  openAiError(assert, await postChat(a.port, chatBody('o1 three', { model: 'o1' })), 429);

  // B too serves on its fallback (its first use of Redis since the outage finds it gone).
  const bMarker = nonce('fallback-b');
  assert.equal((await postChat(b.port, chatBody(`fallback ${bMarker}`, { model: 'claude-3.5-sonnet' }))).status, 200);
  await b.worker.waitRequest(bMarker);

  for (const stack of [a, b]) {
    const state = await store(stack);
    assert.equal(state.configured, redis.url);
    assert.match(state.active, /^shm \(Redis unreachable/, JSON.stringify(state));
    assert.equal(typeof state.error, 'string');
    assert.ok(state.error.length > 0, 'the error is named');
  }
  const status = await a.status();
  assert.match(status.json.limits_store.active, /^shm \(Redis unreachable/, 'litellmctl status --json says so too');
  // Once by the limiter (the usage store, which shares the address, says so
  // in its own line).
  const outages = a.logText().match(/limits: Redis at 127\.0\.0\.1:\d+ is unreachable/g) || [];
  assert.equal(outages.length, 1, `the outage is logged once:\n${a.logText().split('\n').filter((l) => /Redis/.test(l)).join('\n')}`);

  // Redis comes back (same port): the responders return to it.
  await redis.start();
  await waitUntil(async () => {
    await postChat(a.port, chatBody('probe', { model: 'claude-3.5-sonnet' }));
    return (await store(a)).active === 'redis';
  }, 'responder A to use Redis again', COMMAND_GUARD_MS);
  await waitUntil(async () => (await store(b)).active === 'redis', 'responder B to use Redis again', COMMAND_GUARD_MS);
  assert.ok(!('error' in await store(a)));
  // Every thread of both responders kept a connection from before the
  // restart, and finds it cut at its next use: it must reconnect at once, not
  // call Redis down again (threads take requests in turn, so two dozen
  // requests reach them all).
  for (const stack of [a, b]) {
    for (let batch = 0; batch < 6; batch++) {
      const answers = await Promise.all(Array.from({ length: 4 }, (_, i) =>
        postChat(stack.port, chatBody(`after ${batch}.${i}`, { model: 'claude-3.5-sonnet' }))));
      assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200]);
    }
    await stack.responderIdle();
    const log = stack.logText();
    const back = log.lastIndexOf(' is back; limits are shared again');
    assert.ok(back >= 0, 'the return is logged');
    assert.doesNotMatch(log.slice(back), /is unreachable/, 'no outage after Redis came back');
    assert.equal((await store(stack)).active, 'redis');
  }
  assert.match(a.logText(), /Redis at 127\.0\.0\.1:\d+ is back/);
  const marker = nonce('back');
  const response = await postChat(b.port, chatBody(`back ${marker}`, { model: 'claude-3.5-sonnet' }));
  assert.equal(response.status, 200, response.text);
  assert.match(await redis.command('EXISTS litellm:model:claude-3.5-sonnet'), /^:1\r\n$/, 'the state is in Redis again');
});
