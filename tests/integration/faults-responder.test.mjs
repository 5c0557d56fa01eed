// The responder's own faults, with real processes (issue 8, "Reliability" 3):
// SIGTERM mid-stream drains (the stream finishes, the responder exits 0
// within --drain-timeout), a stream that outlives the drain deadline is ended
// cleanly, so is a request still queued for capacity (limits-wait-max), and
// SIGKILL + `litellmctl start` brings serving back by itself with the
// limiter's state intact.
//
// Every responder of this stack runs under start({recordExit: true}), which
// records its exit status (litellmctl starts it with setsid: nobody else
// sees it). Nothing measures time: bounds are failure guards.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  Stack, openStream, openRequest, postChat, httpRequest, chatBody, nonce, waitUntil, isAlive, makeTempDir, writeFcgiConfig,
  assertStreamBody, assertStreamError, assertCompletion, openAiError, GUARD_SCALE,
} from './harness.mjs';

const DRAIN_TIMEOUT_S = 3;
const CANCEL_GRACE_S = 5;             // main.c: after the deadline, cancelled requests get this long
const LIMITED_RPM = 3;                // one request every 20 s once the burst is spent

// Three stacks: one for the drains; one with limits-rpm for SIGKILL; one
// whose gpt-4o allows one request a minute, and where a request over it
// queues (limits-wait-max) instead of a 429.
const stack = new Stack();
const limited = new Stack();
const queueing = new Stack();
const configs = new Map();
let configDir;

before(async () => {
  configDir = makeTempDir('faultsr');
  configs.set(stack, writeFcgiConfig(path.join(configDir, 'drain.conf'), { 'drain-timeout': DRAIN_TIMEOUT_S }));
  configs.set(limited, writeFcgiConfig(path.join(configDir, 'limited.conf'), { 'limits-rpm': LIMITED_RPM }));
  configs.set(queueing, writeFcgiConfig(path.join(configDir, 'queue.conf'), {
    'drain-timeout': DRAIN_TIMEOUT_S,
    'limits-model': 'gpt-4o:rpm=1',
    'limits-wait-max': 120,
  }));
  for (const [one, config] of configs) await one.start({ ctlArgs: ['--fcgi-config', config], recordExit: true });
});

after(async () => {
  const failures = [];
  for (const one of [stack, limited, queueing]) {
    try { await one.teardown(); } catch (err) { failures.push(err); }
  }
  fs.rmSync(configDir, { recursive: true, force: true });
  if (failures.length) throw failures[0];
});

const streamBody = (text) => ({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: text }] });

async function openGated() {
  const marker = nonce('gate');
  const stream = await openStream(stack.port, streamBody(`[[gate]] ${marker}`));
  assert.equal(stream.status, 200);
  const request = await stack.worker.waitRequest(marker);
  await stream.readUntil((text) => text.includes('before-gate'), 'the first chunk');
  return { stream, id: request.id };
}

/** The responder's log from byte `from` on. */
const logFrom = (from) => stack.logText().slice(from);

/** `litellmctl start` again (with the same configuration), and the worker (which reconnects by itself) is back. */
async function restart(on = stack) {
  const welcomes = on.worker.events.filter((e) => e.event === 'welcome').length;
  const started = await on.ctl(['--fcgi-config', configs.get(on), 'start']);
  assert.equal(started.code, 0, `litellmctl start: ${started.stderr}`);
  await on.responderPid();
  await on.worker.waitEvent((e) => e.event === 'welcome' && on.worker.events.filter((w) => w.event === 'welcome').length > welcomes,
    'the worker to reconnect and be welcomed again', 30_000 * GUARD_SCALE);
  await on.waitWindows((n) => n === 1, '/health windows == 1');
}

const drainBoundMs = () => (DRAIN_TIMEOUT_S + CANCEL_GRACE_S + 10) * 1000 * GUARD_SCALE;

test('SIGTERM mid-stream: the stream finishes, new requests get 503, the responder exits 0', async () => {
  const logStart = stack.logText().length;
  const { stream, id } = await openGated();
  const pid = await stack.responderPid();
  process.kill(pid, 'SIGTERM');
  await waitUntil(() => /draining: [1-9]\d* request\(s\) in flight/.test(logFrom(logStart)), 'the responder to start draining');
  // Draining: the FastCGI socket is gone, nginx answers for the responder.
  const refused = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: 'during the drain' }] });
  assert.equal(openAiError(assert, refused, 503).code, 'responder_unavailable');
  assert.equal(stream.ended(), false, 'the draining stream is still open');

  stack.worker.command(`release ${id}`);
  const { content, finishReason } = assertStreamBody(assert, await stream.readToEnd());
  assert.equal(content, 'before-gateafter-gate');
  assert.equal(finishReason, 'stop');
  await waitUntil(() => !isAlive(pid), `the responder (pid ${pid}) to exit after its drain`, drainBoundMs());
  await waitUntil(() => stack.responderExits().length === 1, 'its exit status');
  assert.deepEqual(stack.responderExits(), [0], 'the responder exits 0 after draining');
  assert.ok(!logFrom(logStart).includes('drain deadline passed'), 'the stream finished within the deadline');
  await restart();
});

test('SIGTERM with a stream that outlives --drain-timeout: it ends with an SSE error, the window gets cancel, exit 0', async () => {
  const logStart = stack.logText().length;
  const { stream, id } = await openGated();
  const pid = await stack.responderPid();
  process.kill(pid, 'SIGTERM');
  // Never released: the drain deadline ends it.
  const { content, error } = assertStreamError(assert, await stream.readToEnd(drainBoundMs()));
  assert.equal(content, 'before-gate');
  assert.equal(error.code, 'server_shutting_down');
  await stack.worker.waitEvent((e) => e.event === 'cancel' && e.id === id, `a cancel frame for ${id}`);
  await waitUntil(() => !isAlive(pid), `the responder (pid ${pid}) to exit`, drainBoundMs());
  await waitUntil(() => stack.responderExits().length === 2, 'its exit status');
  assert.equal(stack.responderExits()[1], 0, 'the responder exits 0 after cancelling what was left');
  assert.match(logFrom(logStart), /drain deadline passed: cancelling 1 request/);
  assert.doesNotMatch(logFrom(logStart), /did not end; exiting anyway/);
  await restart();
});

test('SIGKILL, then litellmctl start: the worker reconnects by itself, serving resumes, the limiter remembers', async () => {
  const request = (text) => postChat(limited.port, { model: 'gpt-4o', messages: [{ role: 'user', content: text }] });
  const remaining = (response) => Number(response.headers['x-ratelimit-remaining-requests']);
  const first = await request(nonce('rpm'));
  assert.equal(first.status, 200, first.text);
  assert.equal(remaining(first), LIMITED_RPM - 1, JSON.stringify(first.headers));
  const second = await request(nonce('rpm'));
  assert.equal(second.status, 200, second.text);
  assert.equal(remaining(second), LIMITED_RPM - 2);
  const secondAt = Date.now();

  await limited.stopResponder('SIGKILL');
  const down = await postChat(limited.port, { model: 'gpt-4o', messages: [{ role: 'user', content: 'nobody home' }] });
  assert.equal(openAiError(assert, down, 503).code, 'responder_unavailable');
  await limited.worker.waitEvent((e) => e.event === 'disconnected', 'the worker to notice');

  await restart(limited);
  // Serving resumes (/v1/models is not rate limited), and the limiter, a
  // fresh one of which would say LIMITED_RPM - 1 after the next request,
  // still counts the two made before the kill. (GCRA gives one back every
  // 20 s: the exact count holds when the restart took less than that.)
  const models = await httpRequest(limited.port, { path: '/v1/models' });
  assert.equal(models.status, 200);
  assert.ok(models.json.data.some((m) => m.id === 'test/gpt-4o'), models.text);
  const resumed = nonce('resumed');
  const third = await request(resumed);
  assert.equal(assertCompletion(assert, third.json).message.content, resumed);
  assert.ok(remaining(third) < LIMITED_RPM - 1, `the limiter forgot the requests before the kill: ${JSON.stringify(third.headers)}`);
  if (Date.now() - secondAt < 19_000) {
    assert.equal(remaining(third), 0);
    const fourth = await request(nonce('rpm'));
    const error = openAiError(assert, fourth, 429);
    assert.equal(error.code, 'rate_limit_exceeded');
    assert.ok(Number(fourth.headers['retry-after']) > 0, 'Retry-After on the 429');
  }
  await waitUntil(() => limited.responderExits().length === 1, 'the killed responder\'s exit status');
  assert.equal(limited.responderExits()[0], 128 + 9, 'the responder was killed by SIGKILL');
});

test('SIGTERM while a request waits in the limiter queue: at the drain deadline it gets 503 server_shutting_down, exit 0', async () => {
  // From the pid file: the status tool would need the responder to answer.
  const pid = queueing.throughRecorder(Number(fs.readFileSync(path.join(queueing.prefix, 'run', 'litellm-fcgi.pid'), 'utf8')));
  const first = await postChat(queueing.port, chatBody(nonce('first')));
  assert.equal(first.status, 200, first.text); // gpt-4o's one request of the minute
  await queueing.responderIdle();
  const marker = nonce('queued');
  const queued = openRequest(queueing.port, chatBody(marker));
  // Taken in: a thread besides /health's own is busy with it.  (Counting
  // the responder's sockets no longer tells: nginx keeps FastCGI
  // connections alive, and the request may come on a kept one.)
  await waitUntil(async () => (await queueing.health()).json?.threads?.busy >= 2, 'the responder to take in the queued request');
  const logStart = queueing.logText().length;
  process.kill(pid, 'SIGTERM');

  const response = await queued.ready.catch((err) => { throw new Error(`no answer for the queued request: ${err.message}`); });
  const text = await response.readToEnd(drainBoundMs());
  assert.equal(response.status, 503, text);
  assert.equal(JSON.parse(text).error.code, 'server_shutting_down', text);
  await waitUntil(() => !isAlive(pid), `the responder (pid ${pid}) to exit`, drainBoundMs());
  await waitUntil(() => queueing.responderExits().length === 1, 'its exit status');
  assert.deepEqual(queueing.responderExits(), [0]);
  assert.doesNotMatch(queueing.logText().slice(logStart), /did not end; exiting anyway/, 'no thread was left behind');
  assert.ok(!queueing.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker)), 'the queued request never reached the window');
});
