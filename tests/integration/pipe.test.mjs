// The pipe protocol as the responder speaks it, from raw Unix-socket clients:
// bad peers are cut off with a protocol error and never take the responder down.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, postChat, nonce, rawPipeClient } from './harness.mjs';

const stack = useStack({ before, after });

const rawClient = () => rawPipeClient(stack.pipe);

const hello = (models = []) => JSON.stringify({
  type: 'hello', protocol: 1, client: 'raw-test/1', vscode: '1.104.0', models, default_model: models[0]?.id ?? null,
}) + '\n';

async function stillServes() {
  const marker = nonce('alive');
  const response = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: marker }] });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.choices[0].message.content, marker);
  const health = await stack.health();
  assert.equal(health.json.windows, 1, 'only the test worker is a window');
}

test('the worker was welcomed with protocol 1 by litellm-fcgi', async () => {
  const welcome = await stack.worker.waitEvent((e) => e.event === 'welcome', 'welcome');
  assert.equal(welcome.protocol, 1);
  assert.match(welcome.server, /^litellm-fcgi\/\S+$/);
});

for (const [name, line] of [['a line that is not JSON', 'not json\n'], ['a JSON array', '[1,2]\n'], ['a JSON string', '"hello"\n']]) {
  test(`${name} → error frame with code protocol, then the connection is closed`, async () => {
    const client = rawClient();
    client.send(line);
    await client.until((c) => c.closed, 'the responder to close the connection');
    assert.equal(client.frames.length, 1, JSON.stringify(client.frames));
    assert.equal(client.frames[0].type, 'error');
    assert.equal(client.frames[0].code, 'protocol');
    assert.equal(typeof client.frames[0].message, 'string');
    await stillServes();
  });
}

test('an unsupported protocol version is refused with a protocol error', async () => {
  const client = rawClient();
  client.send(hello().replace('"protocol":1', '"protocol":99'));
  await client.until((c) => c.closed, 'the responder to close the connection');
  assert.equal(client.frames.at(-1)?.code, 'protocol');
  await stillServes();
});

test('a raw client that says hello is welcomed, answers ping, ignores unknown types, and counts as a window', async () => {
  const client = rawClient();
  client.send(hello([{ id: 'raw/r1', vendor: 'raw', family: 'r1', name: 'Raw r1', version: '1', max_input_tokens: 1000 }]));
  await client.until((c) => c.frames.some((f) => f.type === 'welcome'), 'welcome');
  const welcome = client.frames.find((f) => f.type === 'welcome');
  assert.equal(welcome.protocol, 1);
  client.send('{"type":"from-the-future","x":1}\n{"type":"ping"}\n');
  await client.until((c) => c.frames.some((f) => f.type === 'pong'), 'pong');
  assert.equal(client.closed, false, 'unknown types are ignored, not fatal');
  await stack.waitWindows((n) => n === 2, '/health windows == 2');
  // A request for its model reaches it; it answers with frames by hand.
  const pending = postChat(stack.port, { model: 'r1', messages: [{ role: 'user', content: 'hi raw' }] });
  await client.until((c) => c.frames.some((f) => f.type === 'request'), 'a request frame');
  const request = client.frames.find((f) => f.type === 'request');
  assert.equal(request.model, 'raw/r1');
  assert.deepEqual(request.messages, [{ role: 'user', content: 'hi raw' }]);
  client.send(JSON.stringify({ type: 'delta', id: request.id, text: 'by ' }) + '\n');
  client.send(JSON.stringify({ type: 'delta', id: request.id, text: 'hand' }) + '\n');
  client.send(JSON.stringify({ type: 'done', id: request.id, finish_reason: 'stop', usage: { prompt_tokens: 2, completion_tokens: 2 } }) + '\n');
  const response = await pending;
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.choices[0].message.content, 'by hand');
  assert.equal(response.json.usage.prompt_tokens, 2, 'usage comes from the done frame');
  assert.equal(response.json.usage.completion_tokens, 2);
  assert.equal(response.json.usage.total_tokens, 4);
  // Frames for ids nobody waits for are harmless.
  client.send(JSON.stringify({ type: 'delta', id: 'no-such-request', text: 'x' }) + '\n');
  client.send(JSON.stringify({ type: 'done', id: request.id, finish_reason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 1 } }) + '\n');
  client.send('{"type":"ping"}\n');
  await client.until((c) => c.frames.filter((f) => f.type === 'pong').length === 2, 'a second pong');
  client.socket.destroy();
  await stack.waitWindows((n) => n === 1, '/health windows back to 1');
  await stillServes();
});
