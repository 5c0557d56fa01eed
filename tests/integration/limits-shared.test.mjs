// Shared limits on one host (issue 6): two real stacks (each its own nginx,
// responder and test worker) whose responders map ONE limiter state file, so
// they enforce one budget; the window survives a responder restart; a
// concurrency slot held by a process that dies is reclaimed.
//
// litellmctl always hands its responder PREFIX/state/limits.state, so the
// second prefix's state file is a symlink to the first one's target
// (Stack.start({stateFile})).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI, { RateLimitError } from 'openai';
import { validatingFetch,
  useStacks, writeFcgiConfig, nonce, postChat, chatBody, openAiError, openRequest,
  waitUntil, isAlive, COMMAND_GUARD_MS,
} from './harness.mjs';

const MODELS = 'gpt-4o,claude-3.5-sonnet,o1';
const PARALLEL_RPM = 5;      // gpt-4o: one every 12 s after the burst
const RESTART_RPM = 2;       // o1: one every 30 s after the burst

let stateFile;
let ctlArgs;
const [a, b] = useStacks({ before, after }, 2, ({ dir }) => {
  stateFile = path.join(dir, 'limits.state');
  const config = writeFcgiConfig(path.join(dir, 'litellm-fcgi.conf'), {
    'limits-model': [`gpt-4o:rpm=${PARALLEL_RPM}`, 'claude-3.5-sonnet:concurrent=1', `o1:rpm=${RESTART_RPM}`],
  });
  ctlArgs = ['--fcgi-config', config];
  const options = { ctlArgs, stateFile, workerArgs: ['--models', MODELS] };
  return [options, options];
}, { tag: 'lshared' });

function sdk(stack) {
  return new OpenAI({ fetch: validatingFetch, baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
}

/** The /health "limits" entry of a scope label ("global", "model gpt-4o", ...). */
async function healthLimit(stack, scope) {
  const health = await stack.health();
  assert.equal(health.status, 200);
  const entry = (health.json.limits || []).find((l) => l.scope === scope);
  assert.ok(entry, `/health lists the limit of ${scope}: ${health.text}`);
  return entry;
}

test('both responders map the same state file (through the symlink)', async () => {
  const target = fs.realpathSync(path.join(a.prefix, 'state', 'limits.state'));
  assert.equal(target, fs.realpathSync(stateFile));
  assert.equal(fs.realpathSync(path.join(b.prefix, 'state', 'limits.state')), target);
  for (const stack of [a, b]) {
    const pid = await stack.responderPid();
    const maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
    assert.ok(maps.includes(target), `responder ${pid} has ${target} mapped`);
  }
  assert.notEqual(await a.responderPid(), await b.responderPid(), 'two responder processes');
});

test(`N parallel SDK clients (retries off) against RPM ${PARALLEL_RPM} over two responders: exactly ${PARALLEL_RPM} succeed`, async () => {
  const N = 14;
  const markers = [];
  const calls = [];
  for (let i = 0; i < N; i++) {
    const stack = i % 2 === 0 ? a : b;
    const marker = nonce('par');
    markers.push({ marker, stack });
    calls.push(sdk(stack).chat.completions.create({
      model: 'gpt-4o', max_tokens: 20, messages: [{ role: 'user', content: `parallel ${marker}` }],
    }));
  }
  const results = await Promise.allSettled(calls);
  const ok = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r) => r.status === 'rejected');
  assert.equal(ok.length, PARALLEL_RPM,
    `exactly ${PARALLEL_RPM} of ${N} succeed; got ${ok.length}: ${refused.map((r) => r.reason?.message).join(' | ')}`);
  for (const r of refused) {
    assert.ok(r.reason instanceof RateLimitError, `a refusal is a RateLimitError: ${r.reason}`);
    assert.equal(r.reason.status, 429);
    assert.equal(r.reason.code, 'rate_limit_exceeded');
    assert.equal(r.reason.type, 'rate_limit_error');
    assert.match(r.reason.message, new RegExp(`${PARALLEL_RPM} requests per minute for model 'gpt-4o'`));
    assert.match(String(r.reason.headers?.get?.('retry-after') ?? r.reason.headers?.['retry-after']), /^\d+$/);
  }
  // Both processes refused some (each got N/2 > K requests), and the worker of
  // each stack saw exactly the admitted ones.
  for (const stack of [a, b]) {
    await stack.responderIdle(); // a line is written after its response: wait until all are
    assert.match(stack.logText(), /POST \/v1\/chat\/completions status=429 /, `${stack.prefix}'s responder refused some`);
  }
  const admitted = results.map((r, i) => (r.status === 'fulfilled' ? markers[i] : null)).filter(Boolean);
  for (const { marker, stack } of admitted) await stack.worker.waitRequest(marker);
  for (const [i, { marker, stack }] of markers.entries()) {
    if (results[i].status === 'rejected') {
      assert.ok(!stack.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker)),
        `a refused request (${marker}) never reached its worker`);
    }
  }
  // /health of either process tells the same story, and so does litellmctl status.
  for (const stack of [a, b]) {
    const entry = await healthLimit(stack, 'model gpt-4o');
    assert.equal(entry.requests_per_minute.limit, PARALLEL_RPM);
    assert.ok(entry.requests_per_minute.remaining <= 1, `remaining after the burst: ${JSON.stringify(entry)}`);
  }
  const status = await b.status();
  const listed = status.json.limits.find((l) => l.scope === 'model gpt-4o');
  assert.ok(listed && listed.requests_per_minute.remaining <= 1, `status --json lists the limit's use: ${status.stdout}`);
  assert.deepEqual(status.json.limits_store, { configured: 'shm', active: 'shm' });
  const text = await b.ctl(['status']);
  assert.match(text.stdout, /^limit: +model gpt-4o: [0-9]+\/5 requests a minute left/m, 'litellmctl status shows the limits');
});

test('a restarted responder keeps enforcing the same window (state file, not memory)', async () => {
  for (let i = 0; i < RESTART_RPM; i++) {
    const response = await postChat(a.port, chatBody(`restart ${nonce('rs')}`, { model: 'o1' }));
    assert.equal(response.status, 200, response.text);
  }
  const before = await postChat(a.port, chatBody('over the limit', { model: 'o1' }));
  openAiError(assert, before, 429);

  const oldPid = await a.stopResponder();
  const started = await a.ctl([...ctlArgs, 'start']);
  assert.equal(started.code, 0, `litellmctl start: ${started.stderr}`);
  const newPid = await a.responderPid();
  assert.notEqual(newPid, oldPid, 'a new responder process');
  assert.ok(!isAlive(oldPid));
  await waitUntil(async () => (await a.health()).json?.windows >= 1, 'the worker to reconnect', COMMAND_GUARD_MS);

  const entry = await healthLimit(a, 'model o1');
  assert.equal(entry.requests_per_minute.remaining, 0, `the new process sees the spent window: ${JSON.stringify(entry)}`);
  const marker = nonce('after-restart');
  const after = await postChat(a.port, chatBody(`after restart ${marker}`, { model: 'o1' }));
  const error = openAiError(assert, after, 429);
  assert.equal(error.code, 'rate_limit_exceeded');
  assert.match(error.message, new RegExp(`${RESTART_RPM} requests per minute for model 'o1'`));
  assert.ok(Number(after.headers['retry-after']) >= 1, `Retry-After: ${after.headers['retry-after']}`);
  // The other process shares it too.
  openAiError(assert, await postChat(b.port, chatBody('via b', { model: 'o1' })), 429);
  // Unrelated scopes are untouched.
  assert.equal((await postChat(a.port, chatBody('claude is free', { model: 'claude-3.5-sonnet' }))).status, 200);
  assert.ok(!a.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker)));
});

test('a concurrency slot is shared by both processes, and reclaimed when its process dies', async () => {
  const holdMarker = nonce('hold');
  const held = openRequest(a.port, chatBody(`[[gate]] ${holdMarker}`, { model: 'claude-3.5-sonnet', stream: true }));
  await a.worker.waitRequest(holdMarker);
  const heldResponse = await held.ready;
  assert.equal(heldResponse.status, 200);

  const entry = await healthLimit(b, 'model claude-3.5-sonnet');
  assert.deepEqual(entry.concurrent, { limit: 1, in_flight: 1 }, 'B sees the slot A holds');
  const refusedMarker = nonce('refused');
  const refused = await postChat(b.port, chatBody(`second ${refusedMarker}`, { model: 'claude-3.5-sonnet' }));
  const error = openAiError(assert, refused, 429);
  assert.match(error.message, /1 concurrent request for model 'claude-3\.5-sonnet'/);
  assert.ok(refused.headers['retry-after'], 'Retry-After on a concurrency 429');

  // A's responder dies holding the slot (no chance to release it).
  const pid = await a.responderPid();
  process.kill(pid, 'SIGKILL');
  // Dead and reaped: a zombie still "exists" for kill(pid, 0), which is how
  // the responder tells a live lease holder (the killed responder was
  // re-parented to init, which reaps it in its own time).
  await waitUntil(() => !fs.existsSync(`/proc/${pid}`), `responder ${pid} to die and be reaped`, COMMAND_GUARD_MS);
  held.destroy();

  const marker = nonce('reclaimed');
  const response = await postChat(b.port, chatBody(`reclaimed ${marker}`, { model: 'claude-3.5-sonnet' }));
  assert.equal(response.status, 200, `the dead process's slot is reclaimed: ${response.text}`);
  await b.worker.waitRequest(marker);
  assert.ok(!b.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(refusedMarker)));
  const after = await healthLimit(b, 'model claude-3.5-sonnet');
  assert.equal(after.concurrent.in_flight, 0);

  // Bring A back so that its teardown is an ordinary one.
  const started = await a.ctl([...ctlArgs, 'start']);
  assert.equal(started.code, 0, `litellmctl start after the crash: ${started.stderr}`);
  await waitUntil(async () => (await a.health()).json?.windows >= 1, 'the worker to reconnect', COMMAND_GUARD_MS);
  assert.equal((await postChat(a.port, chatBody('back', { model: 'claude-3.5-sonnet' }))).status, 200);
});
