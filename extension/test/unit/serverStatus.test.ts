/** The responder's status document: parsing, the pipe's status frames, the listen probe. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { silentLogger } from '../../src/logger';
import { probeAddress, probeListen } from '../../src/listenProbe';
import { PipeClient } from '../../src/pipeClient';
import type { ServerHealth } from '../../src/serverStatus';
import { ServerStatusFeed, healthOfFrame, parseHealth } from '../../src/serverStatus';
import { FakeResponder } from '../fakeResponder';

const dir = mkdtempSync(join(tmpdir(), 'server-status-test-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
let sockets = 0;
function socketPath(): string {
  sockets++;
  return join(dir, `r${sockets}.sock`);
}

/** A document as fcgi-app/status.c writes it (tests/spec/status.schema.json). */
const documentOk = {
  status: 'ok',
  version: '0.1.0',
  windows: 2,
  models: ['copilot/gpt-4o', 'copilot/claude-sonnet-4'],
  default_model: 'copilot/gpt-4o',
  auth: { keys: 1, mode: 'keys' },
  limits: [{ scope: 'global', requests_per_minute: { limit: 60, remaining: 57, reset: '3s' }, concurrent: { limit: 8, in_flight: 1 } }],
  limits_summary: ['global: 57/60 requests a minute left, 1/8 in flight'],
  limits_store: { configured: 'shm', active: 'shm' },
  in_flight: 1,
  usage_today: {
    day: '2026-12-05T00:00:00Z', requests: 3, input_tokens: 120, output_tokens: 45, premium_requests: 10.5,
    keys: [{ key: 'alice', requests: 3, input_tokens: 120, output_tokens: 45, premium_requests: 10.5 }],
  },
  threads: { busy: 2, started: 8, max: 256 },
};

const expectedOk: ServerHealth = {
  status: 'ok',
  windows: 2,
  models: ['copilot/gpt-4o', 'copilot/claude-sonnet-4'],
  defaultModel: 'copilot/gpt-4o',
  auth: { keys: 1, mode: 'keys' },
  limits: [{ scope: 'global', requestsPerMinute: { limit: 60, remaining: 57, reset: '3s' }, concurrent: { limit: 8, inFlight: 1 } }],
  limitsStore: { configured: 'shm', active: 'shm' },
  inFlight: 1,
  usageToday: {
    requests: 3, inputTokens: 120, outputTokens: 45, premiumRequests: 10.5,
    keys: [{ key: 'alice', requests: 3, inputTokens: 120, outputTokens: 45, premiumRequests: 10.5 }],
  },
};

function client(path: string): PipeClient {
  return new PipeClient({
    path,
    client: 'vscode-litellm/test',
    vscodeVersion: '1.95.0',
    announcement: { models: [], default_model: null },
    logger: silentLogger,
    connectTimeoutMs: 1_000,
    reconnectInitialMs: 20,
    reconnectMaxMs: 100,
  });
}

/** The feed's next change. */
function nextChange(feed: ServerStatusFeed): Promise<ServerHealth | undefined> {
  return new Promise((resolve) => {
    const listener = feed.onDidChange((health) => {
      listener.dispose();
      resolve(health);
    });
  });
}

describe('status document', () => {
  it('reads every field the status bar and the controller use', () => {
    assert.deepEqual(parseHealth(documentOk), expectedOk);
  });

  it('reads a degraded or partial document defensively', () => {
    assert.deepEqual(parseHealth({ status: 'degraded', windows: 0, models: [], default_model: null }), {
      status: 'degraded', windows: 0, models: [], defaultModel: null, limits: [], auth: null, limitsStore: null, inFlight: 0, usageToday: null,
    });
    const odd = parseHealth({ windows: '2', models: ['a', 3], limits: [{ scope: 1 }, { scope: 'global' }], auth: { keys: 'x' } });
    assert.equal(odd.windows, 0);
    assert.deepEqual(odd.models, ['a']);
    assert.deepEqual(odd.limits, [{ scope: 'global' }]);
    assert.equal(odd.auth, null);
    const usage = parseHealth({ usage_today: { requests: 1, input_tokens: 2, output_tokens: 3, premium_requests: 1,
      keys: [{ key: 'a', requests: 1 }, 'x', { key: 'b', requests: 1, input_tokens: 2, output_tokens: 3, premium_requests: 0 }] } });
    assert.deepEqual(usage.usageToday?.keys.map((k) => k.key), ['b'], 'malformed key entries are dropped');
    assert.equal(parseHealth({ usage_today: { requests: 'many' } }).usageToday, null);
  });

  it('takes the health of status frames only', () => {
    assert.deepEqual(healthOfFrame({ type: 'status', health: documentOk }), expectedOk);
    assert.equal(healthOfFrame({ type: 'status', health: [1] }), undefined);
    assert.equal(healthOfFrame({ type: 'status' }), undefined);
    assert.equal(healthOfFrame({ type: 'request', health: documentOk }), undefined);
  });
});

describe('status feed', () => {
  it('keeps the status frame that arrives with welcome, follows changes, forgets on disconnect', async () => {
    const responder = new FakeResponder(socketPath(), null);
    await responder.listen();
    const pipe = client(responder.path);
    const feed = new ServerStatusFeed(pipe);
    const changes: (ServerHealth | undefined)[] = [];
    feed.onDidChange((health) => changes.push(health));
    try {
      const connected = pipe.connect();
      await responder.waitFor((frame) => frame.type === 'hello');
      // As the responder does: welcome, then at once the document (one write, one chunk).
      responder.write(`${JSON.stringify({ type: 'welcome', protocol: 1 })}\n${JSON.stringify({ type: 'status', health: documentOk })}\n`);
      await connected;
      const first = feed.health ?? (await nextChange(feed));
      assert.deepEqual(first, expectedOk);

      const change = nextChange(feed);
      responder.write(`${JSON.stringify({ type: 'status', health: { ...documentOk, windows: 1, in_flight: 0 } })}\n`);
      assert.equal((await change)?.windows, 1);
      assert.equal(feed.health?.inFlight, 0);

      const gone = nextChange(feed);
      await responder.close();
      assert.equal(await gone, undefined);
      assert.equal(feed.health, undefined);
      assert.deepEqual(changes.map((health) => health?.windows), [2, 1, undefined]);
    } finally {
      feed.dispose();
      pipe.dispose();
      await responder.close();
    }
  });
});

describe('listen probe', () => {
  it('parses listen addresses and probes wildcards on loopback', () => {
    assert.deepEqual(probeAddress('127.0.0.1:4000'), { host: '127.0.0.1', port: 4000 });
    assert.deepEqual(probeAddress('[::1]:4000'), { host: '::1', port: 4000 });
    assert.deepEqual(probeAddress('0.0.0.0:8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(probeAddress('[::]:8080'), { host: '::1', port: 8080 });
    assert.deepEqual(probeAddress('localhost:1'), { host: 'localhost', port: 1 });
    assert.equal(probeAddress('127.0.0.1'), undefined);
    assert.equal(probeAddress('127.0.0.1:0'), undefined);
    assert.equal(probeAddress('127.0.0.1:70000'), undefined);
  });

  it('says whether something accepts connections', async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      assert.equal(await probeListen(`127.0.0.1:${port}`), true);
    } finally {
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    }
    assert.equal(await probeListen(`127.0.0.1:${port}`), false, 'refused once closed');
    assert.equal(await probeListen('not an address'), false);
  });
});
