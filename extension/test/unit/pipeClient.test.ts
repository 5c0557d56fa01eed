/**
 * The pipe client against a scripted responder on a real Unix socket.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import type { Logger } from '../../src/logger';
import { silentLogger } from '../../src/logger';
import type { FrameChannel, PipeClientOptions } from '../../src/pipeClient';
import { PipeClient } from '../../src/pipeClient';
import type { Announcement, InboundFrame } from '../../src/protocol';
import { FakeResponder } from '../fakeResponder';

const dir = mkdtempSync(join(tmpdir(), 'litellm-pipe-test-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
const socketPath = (() => {
  let count = 0;
  return (): string => join(dir, `pipe-${++count}.sock`);
})();

const announcement: Announcement = {
  models: [{ id: 'test/echo', vendor: 'test', family: 'echo', name: 'Echo', version: '1', max_input_tokens: 100 }],
  default_model: 'test/echo',
};

function client(path: string, extra: Partial<PipeClientOptions> = {}, logger: Logger = silentLogger): PipeClient {
  return new PipeClient({
    path,
    client: 'vscode-litellm/test',
    vscodeVersion: '1.95.0',
    announcement,
    logger,
    connectTimeoutMs: 1_000,
    reconnectInitialMs: 20,
    reconnectMaxMs: 100,
    ...extra,
  });
}

function nextChannel(pipe: PipeClient): Promise<FrameChannel> {
  return new Promise((resolve) => {
    const listener = pipe.onDidConnect((channel) => {
      listener.dispose();
      resolve(channel);
    });
  });
}

describe('pipe client', () => {
  it('says hello with every model and waits for welcome', async () => {
    const responder = new FakeResponder(socketPath());
    await responder.listen();
    const pipe = client(responder.path);
    const states: string[] = [];
    pipe.onDidChangeState((state) => states.push(state));
    await pipe.connect();
    assert.equal(pipe.state, 'connected');
    const [hello] = await responder.waitFor((f) => f.type === 'hello');
    assert.deepEqual(hello, {
      type: 'hello',
      protocol: 1,
      client: 'vscode-litellm/test',
      vscode: '1.95.0',
      ...announcement,
    });
    pipe.announce({ models: [], default_model: null });
    const [models] = await responder.waitFor((f) => f.type === 'models');
    assert.deepEqual(models, { type: 'models', models: [], default_model: null });
    pipe.close();
    assert.deepEqual(states, ['connecting', 'connected', 'idle']);
    await responder.close();
  });

  it('answers ping with pong and hands requests to the channel, even those sent with the welcome', async () => {
    const responder = new FakeResponder(socketPath(), null);
    await responder.listen();
    const pipe = client(responder.path);
    const frames: InboundFrame[] = [];
    pipe.onDidConnect((channel) => {
      channel.onFrame((frame) => frames.push(frame));
    });
    const connecting = pipe.connect();
    await responder.waitFor((f) => f.type === 'hello');
    // welcome, a request and a ping in one write
    responder.write(
      '{"type":"welcome","protocol":1}\n{"type":"request","id":"r1","model":"test/echo","messages":[]}\n{"type":"ping"}\n{"type":"future_thing"}\n',
    );
    await connecting;
    await responder.waitFor((f) => f.type === 'pong');
    assert.deepEqual(
      frames.map((f) => f.type),
      ['request', 'future_thing'],
    );
    pipe.close();
    await responder.close();
  });

  it('sends the frames of one turn in one write, and those of a later turn after them', async () => {
    const responder = new FakeResponder(socketPath());
    await responder.listen();
    const pipe = client(responder.path);
    const connection = await nextChannelAfter(pipe, () => pipe.connect());
    // Each _write/_writev of a net.Socket is one system call on the socket.
    const writes: string[] = [];
    const proto = net.Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => void>;
    const originals = { _write: proto._write, _writev: proto._writev };
    for (const name of ['_write', '_writev'] as const) {
      proto[name] = function (this: net.Socket, ...args: unknown[]): void {
        if (!responder.peers.includes(this)) {
          writes.push(name);
        }
        originals[name].apply(this, args);
      };
    }
    try {
      assert.equal(connection.send({ type: 'delta', id: 'r1', text: 'a' }), true);
      connection.send({ type: 'delta', id: 'r1', text: 'é🌍' });
      connection.send({ type: 'done', id: 'r1', finish_reason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 2 } });
      await responder.waitFor((f) => f.type === 'done');
      assert.deepEqual(writes, ['_writev']);
      connection.send({ type: 'delta', id: 'r2', text: 'b' });
      await responder.waitFor((f) => f.type === 'delta' && f.id === 'r2');
      assert.equal(writes.length, 2);
      assert.deepEqual(
        responder.received.filter((f) => f.type !== 'hello').map((f) => `${f.type}:${String(f.id)}:${typeof f.text === 'string' ? f.text : ''}`),
        ['delta:r1:a', 'delta:r1:é🌍', 'done:r1:', 'delta:r2:b'],
      );
    } finally {
      Object.assign(proto, originals);
      pipe.close();
      await responder.close();
    }
  });

  it('writes the frames of the turn before closing the connection', async () => {
    const responder = new FakeResponder(socketPath());
    await responder.listen();
    const pipe = client(responder.path);
    const connection = await nextChannelAfter(pipe, () => pipe.connect());
    connection.send({ type: 'error', id: 'r1', code: 'cancelled', message: 'shutting down' });
    pipe.close();
    assert.equal(connection.closed, true);
    const [error] = await responder.waitFor((f) => f.type === 'error');
    assert.equal(error?.id, 'r1');
    await responder.close();
  });

  it('reconnects with backoff after the responder restarts, and says hello again', async () => {
    const responder = new FakeResponder(socketPath());
    await responder.listen();
    const pipe = client(responder.path);
    await pipe.connect();
    const first = await nextChannelAfter(pipe, async () => {
      await responder.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(pipe.state, 'reconnecting');
      await responder.listen();
    });
    assert.equal(first.closed, false);
    assert.equal(pipe.state, 'connected');
    const hellos = await responder.waitFor((f) => f.type === 'hello', 2);
    assert.equal(hellos.length, 2);
    pipe.close();
    await responder.close();
  });

  it('closes the connection on a bad frame, with a protocol error first', async () => {
    const responder = new FakeResponder(socketPath());
    await responder.listen();
    const pipe = client(responder.path, { reconnectInitialMs: 10_000 });
    const live = await nextChannelAfter(pipe, () => pipe.connect());
    const closed = new Promise<void>((resolve) => live.onClose(resolve));
    responder.write('[1,2,3]\n');
    await closed;
    const [error] = await responder.waitFor((f) => f.type === 'error');
    assert.equal(error?.code, 'protocol');
    assert.equal(pipe.state, 'reconnecting');
    pipe.close();
    await responder.close();
  });

  it('fails connect() when nothing listens, and when the protocol differs', async () => {
    const pipe = client(join(dir, 'missing.sock'), { connectTimeoutMs: 300 });
    await assert.rejects(pipe.connect(), /cannot connect to the responder's pipe/);
    assert.equal(pipe.state, 'idle');

    const responder = new FakeResponder(socketPath(), { type: 'welcome', protocol: 2 });
    await responder.listen();
    await assert.rejects(client(responder.path).connect(), /protocol 2/);
    await responder.close();

    const silent = new FakeResponder(socketPath(), null);
    await silent.listen();
    await assert.rejects(client(silent.path, { handshakeTimeoutMs: 100 }).connect(), /no welcome/);
    await silent.close();
  });

  it('drops a connection whose responder stays silent', async () => {
    const responder = new FakeResponder(socketPath());
    await responder.listen();
    const pipe = client(responder.path, { pingIntervalMs: 20, idleTimeoutMs: 60, reconnectInitialMs: 10_000 });
    const live = await nextChannelAfter(pipe, () => pipe.connect());
    await new Promise<void>((resolve) => live.onClose(resolve));
    assert.equal(pipe.state, 'reconnecting');
    // It pinged before giving up.
    await responder.waitFor((f) => f.type === 'ping');
    pipe.close();
    await responder.close();
  });
});

/** Runs `action` and returns the channel of the next connection. */
async function nextChannelAfter(pipe: PipeClient, action: () => Promise<void>): Promise<FrameChannel> {
  const next = nextChannel(pipe);
  await action();
  return next;
}
