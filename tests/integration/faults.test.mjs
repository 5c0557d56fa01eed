// Faults around the responder, with real processes (issue 8, "Reliability" 3):
// a VS Code window (the test worker) killed mid-stream, a window that hangs
// (504 and a cancel), and `nginx -s reload` (litellmctl reload) while 100
// streams are open. The responder's own faults (SIGTERM drain, SIGKILL and
// restart) are in faults-responder.test.mjs, the disconnect storm in
// faults-storm.test.mjs.
//
// Nothing measures time: [[gate]] holds each stream open until the test
// releases it; every wait is a bounded failure guard.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  useStacks, TestWorker, openStream, openRequest, postChat, nonce, waitUntil, childrenOf, isAlive, makeTempDir,
  writeFcgiConfig, assertStreamBody, assertStreamError, assertCompletion, openAiError, COMMAND_GUARD_MS,
} from './harness.mjs';

const STREAMS_ACROSS_RELOAD = 100;

// Two stacks: one as shipped (plus room for 100 streams from one address:
// nginx's limit_conn is 64 per client by default), one whose responder gives
// up on a silent model after 2 s.
const [stack, quick] = useStacks({ before, after }, 2, ({ dir }) => [
  { ctlArgs: ['--conn-per-client', String(STREAMS_ACROSS_RELOAD * 2)] },
  { ctlArgs: ['--fcgi-config', writeFcgiConfig(path.join(dir, 'timeout.conf'), { 'request-timeout': 2 })] },
], { tag: 'faults' });

const streamBody = (text, model = 'gpt-4o') => ({ model, stream: true, messages: [{ role: 'user', content: text }] });

/** Opens a [[gate]] stream on `on` and waits for its first chunk; returns {stream, id}. */
async function openGated(on, worker, model = 'gpt-4o') {
  const marker = nonce('gate');
  const stream = await openStream(on.port, streamBody(`[[gate]] ${marker}`, model));
  assert.equal(stream.status, 200);
  const request = await worker.waitRequest(marker);
  await stream.readUntil((text) => text.includes('before-gate'), `the first chunk of ${marker}`);
  return { stream, id: request.id };
}

test('a window killed mid-stream: each of its clients gets a clean error, the other window\'s streams go on', async () => {
  // A second window with a model of its own, so that its requests (and only
  // those) are routed to it.
  const doomed = new TestWorker(stack.paths.worker, ['--pipe', stack.pipe, '--label', 'doomed', '--models', 'doomed-model', '--no-reconnect']);
  try {
    await doomed.waitEvent((e) => e.event === 'welcome', 'the doomed worker to be welcomed');
    await stack.waitWindows((n) => n === 2, '/health windows == 2');

    const doomedStreams = [];
    for (let i = 0; i < 5; i++) doomedStreams.push(await openGated(stack, doomed, 'doomed-model'));
    const hangMarker = nonce('doomed-json');
    const doomedJson = openRequest(stack.port, { model: 'doomed-model', messages: [{ role: 'user', content: `[[hang]] ${hangMarker}` }] });
    await doomed.waitRequest(hangMarker);
    const survivors = [];
    for (let i = 0; i < 5; i++) survivors.push(await openGated(stack, stack.worker));

    doomed.child.kill('SIGKILL');
    await doomed.exited;

    for (const { stream } of doomedStreams) {
      const { content, error } = assertStreamError(assert, await stream.readToEnd());
      assert.equal(content, 'before-gate');
      assert.equal(error.code, 'vscode_disconnected');
    }
    const json = await doomedJson.ready;
    const text = await json.readToEnd();
    openAiError(assert, { status: json.status, headers: json.headers, text, json: JSON.parse(text) }, 502);
    assert.equal(JSON.parse(text).error.code, 'vscode_disconnected');
    await stack.waitWindows((n) => n === 1, '/health windows back to 1');

    // The other window's streams were untouched: they finish normally.
    for (const { id } of survivors) stack.worker.command(`release ${id}`);
    for (const { stream } of survivors) {
      const { content, finishReason } = assertStreamBody(assert, await stream.readToEnd());
      assert.equal(content, 'before-gateafter-gate');
      assert.equal(finishReason, 'stop');
    }
    // The dead window's model is gone; everything else still serves.
    const gone = await postChat(stack.port, { model: 'doomed-model', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(openAiError(assert, gone, 404).code, 'model_not_found');
    const marker = nonce('after-kill');
    const ok = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: marker }] });
    assert.equal(assertCompletion(assert, ok.json).message.content, marker);
  } finally {
    await doomed.stop();
  }
});

test('a window that hangs: 504 timeout after request-timeout (2 s), and the window gets cancel', async () => {
  const marker = nonce('hang');
  const pending = postChat(quick.port, { model: 'gpt-4o', messages: [{ role: 'user', content: `[[hang]] ${marker}` }] });
  const request = await quick.worker.waitRequest(marker);
  // Meanwhile other requests are served as usual.
  const other = nonce('meanwhile');
  const served = await postChat(quick.port, { model: 'gpt-4o', messages: [{ role: 'user', content: other }] });
  assert.equal(assertCompletion(assert, served.json).message.content, other);
  const response = await pending;
  const error = openAiError(assert, response, 504);
  assert.equal(error.code, 'timeout');
  assert.match(error.message, /2 seconds/);
  await quick.worker.waitEvent((e) => e.event === 'cancel' && e.id === request.id, `a cancel frame for ${request.id}`);
});

test('a stream whose window falls silent: 504 before any output, an SSE timeout error after some, a cancel each time', async () => {
  const silentMarker = nonce('hang-stream');
  const silent = postChat(quick.port, streamBody(`[[hang]] ${silentMarker}`));
  const silentRequest = await quick.worker.waitRequest(silentMarker);
  const { stream, id } = await openGated(quick, quick.worker); // one delta, then silence (never released)
  assert.equal(openAiError(assert, await silent, 504).code, 'timeout');
  const { content, error } = assertStreamError(assert, await stream.readToEnd());
  assert.equal(content, 'before-gate');
  assert.equal(error.code, 'timeout');
  for (const requestId of [silentRequest.id, id]) {
    await quick.worker.waitEvent((e) => e.event === 'cancel' && e.id === requestId, `a cancel frame for ${requestId}`);
  }
  await waitUntil(async () => (await quick.health()).json?.in_flight === 0, '/health in_flight back to 0');
});

test(`nginx reload (litellmctl reload) while ${STREAMS_ACROSS_RELOAD} streams run: none of them breaks`, async () => {
  const { json: status } = await stack.status();
  const oldWorkers = childrenOf(status.nginx_pid);
  assert.ok(oldWorkers.length >= 1, 'nginx has a worker');

  const opened = await Promise.all(Array.from({ length: STREAMS_ACROSS_RELOAD }, () => openGated(stack, stack.worker)));
  const reload = await stack.ctl(['reload']);
  assert.equal(reload.code, 0, `litellmctl reload: ${reload.stderr}`);
  // The new configuration is live (new workers) while the old workers still
  // hold every open stream.
  await waitUntil(() => childrenOf(status.nginx_pid).some((pid) => !oldWorkers.includes(pid)), 'new nginx workers after the reload');
  const marker = nonce('after-reload');
  const fresh = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: marker }] });
  assert.equal(assertCompletion(assert, fresh.json).message.content, marker);
  for (const { stream } of opened) assert.equal(stream.ended(), false, 'a stream ended during the reload');

  for (const { id } of opened) stack.worker.command(`release ${id}`);
  const results = await Promise.allSettled(opened.map(async ({ stream }) => assertStreamBody(assert, await stream.readToEnd())));
  const broken = results.filter((r) => r.status === 'rejected');
  assert.equal(broken.length, 0, `${broken.length} stream(s) broke across the reload: ${broken.slice(0, 3).map((r) => r.reason?.message).join('\n')}`);
  for (const { value } of results) assert.equal(value.content, 'before-gateafter-gate');
  // Their streams done, the old workers exit by themselves (graceful reload).
  await waitUntil(() => oldWorkers.every((pid) => !isAlive(pid)), 'the old nginx workers to exit', COMMAND_GUARD_MS);
});
