// Queueing with limits-wait-max (issue 6): over a limit, a request waits for
// capacity instead of a 429 (a user of a shared seat would rather wait); a
// client that gives up while queued leaves the queue (nothing reaches the
// worker for it, the concurrency count goes back to its baseline); a wait
// longer than wait-max is still an immediate 429.
//
// "Queued" is observed without timing: the responder has accepted the
// request's FastCGI connection (one more socket among its file descriptors)
// while the only slot is held by a gated request.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  Stack, makeTempDir, writeFcgiConfig, nonce, postChat, chatBody, openAiError, openStream, openRequest,
  waitUntil, sseData,
} from './harness.mjs';

const WAIT_MAX = 20;
const RPM = 30;                // o1: after the burst, one every 2 s (well within WAIT_MAX)

const stack = new Stack();    // first: a missing binary fails here, before any temp file exists
const dir = makeTempDir('lqueue');
const config = writeFcgiConfig(path.join(dir, 'litellm-fcgi.conf'), {
  'limits-model': ['claude-3.5-sonnet:concurrent=1', `o1:rpm=${RPM}`, 'gpt-4o:rpm=1'],
  'limits-wait-max': WAIT_MAX,
});

before(async () => {
  await stack.start({ ctlArgs: ['--fcgi-config', config], workerArgs: ['--models', 'gpt-4o,claude-3.5-sonnet,o1'] });
});

after(async () => {
  try { await stack.teardown(); } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

async function health() {
  const response = await stack.health();
  assert.equal(response.status, 200);
  return response.json;
}

async function claudeSlots() {
  const entry = (await health()).limits.find((l) => l.scope === 'model claude-3.5-sonnet');
  assert.ok(entry?.concurrent, 'the claude rule is in /health');
  return entry.concurrent;
}

const hasRequest = (worker, marker) => worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker));

/** Holds claude's only slot with a gated stream; returns {stream, event}. */
async function holdSlot() {
  const marker = nonce('holder');
  const stream = await openStream(stack.port, chatBody(`[[gate]] ${marker}`, { model: 'claude-3.5-sonnet', stream: true }));
  assert.equal(stream.status, 200);
  const event = await stack.worker.waitRequest(marker);
  assert.deepEqual(await claudeSlots(), { limit: 1, in_flight: 1 });
  return { stream, event };
}

/** Sends a claude request while the slot is held and waits until the responder has taken it in. */
async function sendQueued(marker) {
  // Taken in: one more busy thread.  (Counting the responder's sockets no
  // longer tells: nginx keeps FastCGI connections alive, and the request
  // may come on a kept one.)
  const busy = async () => (await stack.health()).json.threads.busy;
  const before = await busy();
  const request = openRequest(stack.port, chatBody(`queued ${marker}`, { model: 'claude-3.5-sonnet' }));
  await waitUntil(async () => (await busy()) > before, 'the responder to accept the queued request');
  return request;
}

test('over the concurrency limit, a request waits for the slot and is served when it frees', async () => {
  const baseline = (await health()).in_flight;
  const holder = await holdSlot();
  const marker = nonce('waiter');
  const waiter = await sendQueued(marker);
  let answered = false;
  waiter.ready.then(() => { answered = true; }, () => {});

  assert.equal(answered, false, 'no answer (no 429) while the slot is held');
  assert.ok(!hasRequest(stack.worker, marker), 'nothing reaches the worker while queued');
  assert.equal((await claudeSlots()).in_flight, 1);

  stack.worker.command(`release ${holder.event.id}`);
  await holder.stream.readToEnd();
  assert.equal(sseData(holder.stream.text()).at(-1), '[DONE]');

  const response = await waiter.ready;
  assert.equal(response.status, 200);
  const body = JSON.parse(await response.readToEnd());
  assert.equal(body.choices[0].message.content, `queued ${marker}`);
  // The worker got the waiter only after the holder's release.
  const events = stack.worker.events;
  const released = events.findIndex((e) => e.event === 'release' && e.id === holder.event.id);
  const served = events.findIndex((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker));
  assert.ok(released >= 0 && served > released, `request frame after the release (${released} < ${served})`);
  await waitUntil(async () => (await claudeSlots()).in_flight === 0, 'the slot to be free again');
  assert.equal((await health()).in_flight, baseline);
});

test('a client that gives up while queued leaves the queue: nothing reaches the worker, counts back to baseline', async () => {
  const baseline = (await health()).in_flight;
  const logBefore = stack.logText().length;
  const holder = await holdSlot();
  const marker = nonce('quitter');
  const quitter = await sendQueued(marker);
  quitter.destroy();

  // The responder notices at once (not when the slot frees): the holder is still gated.
  const line = await waitUntil(() => stack.logText().slice(logBefore).split('\n')
    .find((l) => /POST \/v1\/chat\/completions status=499 .*client gone while queued/.test(l)), 'the queued request to be dropped');
  assert.match(line, /model=test\/claude-3\.5-sonnet/);
  assert.deepEqual(await claudeSlots(), { limit: 1, in_flight: 1 }, 'only the holder holds a slot');
  assert.equal((await health()).in_flight, baseline + 1, 'only the holder is in flight');

  stack.worker.command(`release ${holder.event.id}`);
  await holder.stream.readToEnd();
  await waitUntil(async () => (await claudeSlots()).in_flight === 0, 'the slot to be free again');
  assert.equal((await health()).in_flight, baseline);

  // The next request gets the slot straight away, and the worker never saw the quitter.
  const next = nonce('next');
  const response = await postChat(stack.port, chatBody(`next ${next}`, { model: 'claude-3.5-sonnet' }));
  assert.equal(response.status, 200, response.text);
  await stack.worker.waitRequest(next);
  assert.ok(!hasRequest(stack.worker, marker), 'no request frame for the client that left');
  assert.ok(!stack.worker.has((e) => e.event === 'cancel' && e.id && !stack.worker.has((r) => r.event === 'request' && r.id === e.id)),
    'no cancel for a request the worker never had');
});

test(`over the RPM, a request waits for the next interval (within wait-max ${WAIT_MAX}s) instead of a 429`, async () => {
  let last;
  for (let i = 0; i <= RPM; i++) {
    last = await postChat(stack.port, chatBody(`o1 ${i}`, { model: 'o1', max_tokens: 20 }));
    assert.equal(last.status, 200, `request ${i + 1} of ${RPM + 1}: ${last.text}`);
  }
  assert.equal(last.headers['x-ratelimit-remaining-requests'], '0', 'the last one got in by waiting, not from the burst');
  await stack.responderIdle();
  assert.ok(!/model=test\/o1 .*status=429|status=429 .*model=test\/o1 /.test(stack.logText()), 'no 429 for o1');
});

test('a request that would have to wait longer than wait-max gets its 429 at once', async () => {
  assert.equal((await postChat(stack.port, chatBody('first', { model: 'gpt-4o' }))).status, 200);
  const marker = nonce('too-long');
  const response = await postChat(stack.port, chatBody(`second ${marker}`, { model: 'gpt-4o' }));
  const error = openAiError(assert, response, 429);
  assert.equal(error.code, 'rate_limit_exceeded');
  assert.match(error.message, /1 request per minute for model 'gpt-4o'/);
  assert.ok(Number(response.headers['retry-after']) > WAIT_MAX, `Retry-After ${response.headers['retry-after']} > ${WAIT_MAX}`);
  assert.ok(!hasRequest(stack.worker, marker));
});
