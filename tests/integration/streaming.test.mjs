// Streaming behaviour that must hold end to end through nginx: no buffering,
// client disconnects cancel the model call, extension failures mid-stream.
// Nothing here measures time: the gate makes the ordering deterministic, and
// every wait is a generous failure guard.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import {
  useStack, openStream, openRequest, waitUntil, withTimeout, postChat, nonce, sseData, assertStreamBody, assertStreamError, openAiError, httpRequest,
} from './harness.mjs';

const stack = useStack({ before, after });

function streamBody(text, extra = {}) {
  return { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: text }], ...extra };
}

test('no buffering: "before-gate" reaches the client while the worker still holds the gate', async () => {
  const marker = nonce('gate');
  const stream = await openStream(stack.port, streamBody(`[[gate]] ${marker}`));
  assert.equal(stream.status, 200);
  assert.match(stream.headers['content-type'], /^text\/event-stream/);
  assert.match(stream.headers['cache-control'] ?? '', /no-cache/);
  assert.ok(stream.headers['x-request-id'], 'x-request-id on a stream');
  const request = await stack.worker.waitRequest(marker);
  await stream.readUntil((text) => text.includes('before-gate'), 'the "before-gate" chunk');
  // The worker is at the gate right now and nobody has released it:
  await stack.worker.waitEvent((e) => e.event === 'gate' && e.id === request.id, 'the worker to report the gate');
  assert.ok(!stack.worker.has((e) => e.event === 'release' && e.id === request.id), 'not released yet');
  assert.ok(!stream.text().includes('after-gate'), 'nothing after the gate yet');
  assert.ok(!stream.text().includes('[DONE]'), 'the stream is not finished');
  assert.equal(stream.ended(), false, 'the response is still open');
  // While the request is in flight /health counts it.
  const health = await httpRequest(stack.port, { path: '/health' });
  assert.ok(health.json.in_flight >= 1, `in_flight counts the gated request: ${health.text}`);

  stack.worker.command(`release ${request.id}`);
  const text = await stream.readToEnd();
  const { content, finishReason } = assertStreamBody(assert, text);
  assert.equal(content, 'before-gateafter-gate');
  assert.equal(finishReason, 'stop');
});

test('client aborts a [[gate]] stream after the first chunk → the worker gets cancel for that id', async () => {
  const marker = nonce('abort');
  const stream = await openStream(stack.port, streamBody(`[[gate]] ${marker}`));
  const request = await stack.worker.waitRequest(marker);
  await stream.readUntil((text) => text.includes('before-gate'), 'the first content chunk');
  stream.destroy();
  await expectCancel(request.id);
});

test('client aborts a [[hang]] stream (no output yet) → the worker gets cancel for that id', async () => {
  const marker = nonce('hang');
  const pending = openRequest(stack.port, streamBody(`[[hang]] ${marker}`));
  const request = await stack.worker.waitRequest(marker);
  pending.destroy(); // the model has said nothing, so no header has come: the client just leaves
  await expectCancel(request.id);
});

test('client aborts a non-stream [[hang]] request → the worker gets cancel for that id', async () => {
  const marker = nonce('hangjson');
  const pending = openRequest(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: `[[hang]] ${marker}` }] });
  const request = await stack.worker.waitRequest(marker);
  pending.destroy();
  await expectCancel(request.id);
});

/** The worker gets a cancel frame for `id`, and the responder stops counting the request. */
async function expectCancel(id) {
  const cancel = await stack.worker.waitEvent((e) => e.event === 'cancel' && e.id === id, `a cancel frame for ${id}`);
  assert.equal(cancel.id, id);
  await waitUntil(async () => (await httpRequest(stack.port, { path: '/health' })).json?.in_flight === 0,
    '/health in_flight to drop back to 0 after the cancel');
}

test('an extension error after the first delta ends the stream with an SSE error event', async () => {
  const stream = await openStream(stack.port, streamBody('[[error-after-delta:internal]]'));
  assert.equal(stream.status, 200);
  const { content, error } = assertStreamError(assert, await stream.readToEnd());
  assert.equal(content, 'partial ');
  assert.equal(typeof error.message, 'string');
});

test('an extension error before any output gets a JSON error with its HTTP status, even for stream:true', async () => {
  const response = await postChat(stack.port, streamBody('[[error:no_permissions:consent was not given]]'));
  const error = openAiError(assert, response, 403);
  assert.match(error.message, /consent was not given/);
});

test('non-stream error after a delta → 502', async () => {
  const response = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: '[[error-after-delta:internal]]' }] });
  openAiError(assert, response, 502);
});

test('the worker disconnects mid-stream → the client gets an SSE error event', async () => {
  const marker = nonce('disc');
  const stream = await openStream(stack.port, streamBody(`[[disconnect]] ${marker}`));
  assert.equal(stream.status, 200);
  const { content, error } = assertStreamError(assert, await stream.readToEnd());
  assert.equal(content, 'before-disconnect ');
  assert.ok(error.message.length > 0);
  await stack.waitReady();
});

test('the worker disconnects during a non-stream request → 502', async () => {
  const marker = nonce('discjson');
  const response = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: `[[disconnect]] ${marker}` }] });
  openAiError(assert, response, 502);
  await stack.waitReady();
});

// Enough SSE (about 200 bytes a chunk) to fill every buffer between the
// responder and a client that reads nothing: the client's socket, nginx's,
// and the FastCGI socket.
const STALL_CHUNKS = 60000;

/** Threads of `pid` asleep in a socket write, waiting for the peer to read. */
function threadsBlockedWriting(pid) {
  const tasks = fs.readdirSync(`/proc/${pid}/task`);
  return tasks.filter((tid) => {
    try {
      return /sock_alloc_send|wait_for_wmem|unix_stream_sendmsg/.test(fs.readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'utf8'));
    } catch {
      return false;   // the thread ended meanwhile
    }
  }).length;
}

// The thread of a stream whose client stopped reading sits in its write to
// nginx. It must not be the one reading the window's pipe then, or every
// other request on that window would wait for that client: the read token
// goes back before anything is written to a client (fcgi-app/pipe_session.h).
test('a client that stops reading stalls only its own stream: the next request on the same window is answered', async () => {
  const pid = await stack.responderPid();
  const marker = nonce('stalled');
  const body = JSON.stringify(streamBody(`[[chunks:${STALL_CHUNKS}]] ${marker}`));
  const stalled = net.connect(stack.port, '127.0.0.1');
  stalled.on('error', () => {});
  stalled.pause();   // reads nothing, ever
  stalled.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  try {
    const request = await stack.worker.waitRequest(marker);
    await waitUntil(() => threadsBlockedWriting(pid) >= 1, 'a responder thread blocked writing to the client that reads nothing');
    const quick = nonce('quick');
    const answer = await withTimeout(postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: `[[reply:${quick}]]` }] }),
      'the answer to a request on the window whose other stream is stalled');
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.choices[0].message.content, quick);
    // Still stalled, not ended: until every buffer on the way is full, the
    // blocked write wakes now and then to hand on a little more, so a single
    // look may catch the thread awake.
    await waitUntil(() => threadsBlockedWriting(pid) >= 1, 'the stalled stream to be still stuck in its write');
    stalled.destroy();
    await expectCancel(request.id);
  } finally {
    stalled.destroy();
  }
});

test('a slow model still streams every delta in order', async () => {
  const stream = await openStream(stack.port, streamBody('[[slow:20:5]]'));
  const { content } = assertStreamBody(assert, await stream.readToEnd());
  assert.equal(content, 's1 s2 s3 s4 s5 ');
});

test('many concurrent streams each get their own reply', async () => {
  const markers = Array.from({ length: 8 }, () => nonce('conc'));
  const streams = await Promise.all(markers.map((m) => openStream(stack.port, streamBody(`echo ${m}`))));
  const texts = await Promise.all(streams.map((s) => s.readToEnd()));
  texts.forEach((text, i) => {
    const { content } = assertStreamBody(assert, text);
    assert.equal(content, `echo ${markers[i]}`);
  });
  const ids = texts.map((t) => sseData(t)[0].id);
  assert.equal(new Set(ids).size, ids.length, 'distinct completion ids');
});

test('a model silent for 5 s: the stream gets its head and heartbeats before the first token', async () => {
  const marker = nonce('silent');
  // [[slow:5000:1]]: the worker waits 5 s, then sends one delta "s1 ".
  const stream = await openStream(stack.port, streamBody(`[[slow:5000:1]] ${marker}`));
  assert.equal(stream.status, 200, 'the head arrived while the model was silent');
  assert.match(stream.headers['content-type'], /^text\/event-stream/);
  await stream.readUntil((text) => text.includes(': keep-alive'), 'a heartbeat before the first token');
  assert.ok(!stream.text().includes('s1 '), 'the first token has not come yet');
  const text = await stream.readToEnd();
  assert.ok(text.indexOf(': keep-alive') < text.indexOf('s1 '), 'the heartbeat came first');
  const { content, finishReason } = assertStreamBody(assert, text);
  assert.equal(content, 's1 ');
  assert.equal(finishReason, 'stop');
});
