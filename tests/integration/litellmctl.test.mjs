// litellmctl: status, stop/start with a stream in flight, port conflicts, --demo.
// status --json and GET /health are checked against tests/spec/status.schema.json.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  Stack, useStack, openStream, postChat, httpRequest, canConnect, isAlive, processesMentioning,
  freePort, assertStreamBody, nonce,
} from './harness.mjs';
import { assertStatus } from '../spec/status.mjs';

const stack = useStack({ before, after });

test('status --json reports the running stack', async () => {
  const { code, json, stderr } = await stack.status();
  assert.equal(code, 0, stderr);
  assert.equal(json.running, true);
  assert.equal(json.listen, `127.0.0.1:${stack.port}`);
  assert.equal(json.mode, 'managed');
  assert.equal(path.resolve(json.prefix), path.resolve(stack.prefix));
  assert.equal(json.pipe, path.join(stack.prefix, 'run', 'litellm.sock'));
  assert.ok(fs.statSync(json.pipe).isSocket(), 'the pipe is a Unix socket');
  assert.equal(fs.statSync(json.pipe).mode & 0o777, 0o600, 'the pipe is owner-only');
  assert.ok(Number.isInteger(json.nginx_pid) && isAlive(json.nginx_pid), `nginx_pid ${json.nginx_pid} is alive`);
  assert.ok(Number.isInteger(json.responder_pid) && isAlive(json.responder_pid), `responder_pid ${json.responder_pid} is alive`);
  assert.equal(json.windows, 1);
  assert.deepEqual([...json.models].sort(), ['test/claude-3.5-sonnet', 'test/gpt-4o']);
  assert.equal(json.default_model, 'test/gpt-4o');
  assertStatus('litellmctl', json, 'status --json');
});

test('status --json is /health with the process facts added: one producer, one schema', async () => {
  const health = await httpRequest(stack.port, { path: '/health' });
  assert.equal(health.status, 200, health.text);
  assertStatus('document', health.json, 'GET /health');
  const { json } = await stack.status();
  assertStatus('litellmctl', json, 'status --json');
  // Every field of the document is there, unchanged (but the ones that move
  // with the requests in flight, this one included).
  for (const [name, value] of Object.entries(health.json)) {
    if (name === 'in_flight' || name === 'threads') continue;
    assert.deepEqual(json[name], value, `status --json "${name}" is /health's`);
  }
  assert.equal(json.fcgi_socket, path.join(stack.prefix, 'run', 'fcgi.sock'));
});

test('status (text) prints the document for people', async () => {
  const { code, stdout, stderr } = await stack.ctl(['status']);
  assert.equal(code, 0, stderr);
  const { json } = await stack.status();
  assert.match(stdout, new RegExp(`^serving: +yes, on http://127\\.0\\.0\\.1:${stack.port}$`, 'm'));
  assert.match(stdout, new RegExp(`^responder: +running \\(pid ${json.responder_pid}\\)`, 'm'));
  assert.match(stdout, /^windows: +1 VS Code window\(s\) connected$/m);
  const models = stdout.match(/^models: +(.*)$/m)?.[1].split(', ').sort();
  assert.deepEqual(models, ['test/claude-3.5-sonnet', 'test/gpt-4o']);
  assert.match(stdout, /^default: +test\/gpt-4o$/m);
});

test('config-test succeeds on the generated configuration', async () => {
  const result = await stack.ctl(['config-test']);
  assert.equal(result.code, 0, result.stderr);
});

test('start while running is harmless: same responder, still serving', async () => {
  const before = (await stack.status()).json;
  const again = await stack.ctl(['start']);
  assert.equal(again.code, 0, again.stderr);
  const afterStart = (await stack.status()).json;
  assert.equal(afterStart.responder_pid, before.responder_pid, 'the responder was not restarted');
  assert.equal(afterStart.windows, 1, 'the worker stays connected');
  const marker = nonce('again');
  const response = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: marker }] });
  assert.equal(response.status, 200, response.text);
});

test('reload keeps serving', async () => {
  const result = await stack.ctl(['reload']);
  assert.equal(result.code, 0, result.stderr);
  const marker = nonce('reload');
  const response = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: marker }] });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.choices[0].message.content, marker);
});

test('stop refuses new connections while a stream started before it still finishes; start again works', async () => {
  const marker = nonce('stop');
  const stream = await openStream(stack.port, { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: `[[gate]] ${marker}` }] });
  const request = await stack.worker.waitRequest(marker);
  await stream.readUntil((text) => text.includes('before-gate'), 'the "before-gate" chunk');
  await stack.worker.waitEvent((e) => e.event === 'gate' && e.id === request.id, 'the gate event');

  const stopped = await stack.ctl(['stop']);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.equal(await canConnect(stack.port), false, `port ${stack.port} refuses connections once stop has returned`);
  const status = (await stack.status()).json;
  assert.equal(status.running, false, 'status says not running after stop');
  assert.equal(status.windows, 1, 'the responder (and its window) outlive stop');
  assert.equal(stream.ended(), false, 'the in-flight stream is still open');

  stack.worker.command(`release ${request.id}`);
  const { content, finishReason } = assertStreamBody(assert, await stream.readToEnd());
  assert.equal(content, 'before-gateafter-gate');
  assert.equal(finishReason, 'stop');

  const started = await stack.ctl(['start']);
  assert.equal(started.code, 0, started.stderr);
  assert.equal(await canConnect(stack.port), true, `port ${stack.port} accepts connections once start has returned`);
  const again = nonce('restart');
  const response = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: again }] });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.choices[0].message.content, again);
  assert.equal((await stack.status()).json.running, true);
});

test('start on a port that is already taken fails, names the port, and leaves nothing running', async () => {
  const blocker = net.createServer((socket) => socket.end('blocker\n'));
  const port = await freePort();
  await new Promise((resolve) => blocker.listen(port, '127.0.0.1', resolve));
  const other = new Stack();
  other.prefix = Stack.makePrefix();
  other.port = port;
  try {
    const result = await other.ctl(['start']);
    assert.notEqual(result.code, 0, `start must fail; stdout: ${result.stdout}`);
    assert.ok(result.stderr.includes(String(port)), `stderr names port ${port}: ${result.stderr}`);
    assert.deepEqual(processesMentioning(other.prefix), [], `no process of ${other.prefix} is left once start has failed`);
    const status = await other.ctl(['status', '--json']);
    const json = JSON.parse(status.stdout);
    assert.equal(json.running, false);
    assertStatus('litellmctl', json, 'status --json without a responder');
    assert.equal(json.status, 'unreachable');
    assert.ok(!isAlive(json.nginx_pid), 'no nginx');
    assert.ok(!isAlive(json.responder_pid), 'no responder');
    // The port still belongs to its owner.
    const reply = await new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      let text = '';
      socket.on('data', (c) => { text += c; });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.equal(reply, 'blocker\n');
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
    await other.teardown();
  }
});

test('--demo starts a test worker whose model ids say "demo"; shutdown stops it too', async () => {
  const demo = new Stack();
  try {
    await demo.start({ worker: false, ctlArgs: ['--demo'] });
    const health = await demo.waitWindows((n) => n >= 1, 'the demo worker to connect');
    assert.ok(health.models.length > 0);
    for (const id of health.models) assert.match(id, /demo/, `model id ${id} is labelled demo`);
    const response = await postChat(demo.port, { messages: [{ role: 'user', content: 'Hello demo!' }] });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.choices[0].message.content, 'Hello demo!');
    const models = await httpRequest(demo.port, { path: '/v1/models' });
    for (const model of models.json.data) assert.match(model.id, /demo/);
  } finally {
    await demo.teardown(); // fails if the demo worker (or anything else of its prefix) survives
  }
});
