// Request options: sampling options reach the extension as `options`; stop
// sequences and token caps are enforced by the responder (DESIGN.md, pipe
// protocol: "stop sequences and token caps are enforced by the responder").

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, postChat, openStream, assertCompletion, assertStreamBody, nonce } from './harness.mjs';

const stack = useStack({ before, after });

const ask = (content, extra = {}) => ({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...extra });

test('sampling options reach the extension in the request frame', async () => {
  const marker = nonce('opts');
  const response = await postChat(stack.port, ask(marker, { temperature: 0.25, top_p: 0.5 }));
  assert.equal(response.status, 200, response.text);
  const request = await stack.worker.waitRequest(marker);
  assert.equal(request.options?.temperature, 0.25);
  assert.equal(request.options?.top_p, 0.5);
});

test('temperature out of range → 400 with param temperature', async () => {
  const response = await postChat(stack.port, ask('hi', { temperature: 7 }));
  assert.equal(response.status, 400, response.text);
  assert.equal(response.json.error.param, 'temperature');
});

test('stop: the reply is cut before the stop sequence (non-stream)', async () => {
  const response = await postChat(stack.port, ask('[[chunks:5]]', { stop: ['c3'] }));
  assert.equal(response.status, 200, response.text);
  const choice = assertCompletion(assert, response.json);
  assert.equal(choice.message.content, 'c1 c2 ');
  assert.equal(choice.finish_reason, 'stop');
});

test('stop: a stop sequence split across deltas is still caught (stream)', async () => {
  const stream = await openStream(stack.port, ask('[[chunks:5]]', { stream: true, stop: 'c2 c3' }));
  const { content, finishReason } = assertStreamBody(assert, await stream.readToEnd());
  assert.equal(content, 'c1 ');
  assert.equal(finishReason, 'stop');
});

test('max_tokens caps the reply with finish_reason length (non-stream)', async () => {
  const response = await postChat(stack.port, ask('[[chunks:50]]', { max_tokens: 2 }));
  assert.equal(response.status, 200, response.text);
  const choice = assertCompletion(assert, response.json);
  assert.equal(choice.finish_reason, 'length');
  assert.ok(choice.message.content.length < 'c1 '.length * 50, `the content was cut: ${choice.message.content}`);
  assert.ok(response.json.usage.completion_tokens <= 2, `usage.completion_tokens ≤ max_tokens: ${JSON.stringify(response.json.usage)}`);
});

test('max_completion_tokens caps a stream with finish_reason length', async () => {
  const stream = await openStream(stack.port, ask('[[chunks:50]]', { stream: true, max_completion_tokens: 2 }));
  const { content, finishReason } = assertStreamBody(assert, await stream.readToEnd());
  assert.equal(finishReason, 'length');
  assert.ok(content.length < 'c1 '.length * 50, `the content was cut: ${content}`);
});
