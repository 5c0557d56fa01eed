// Unit tests of test-worker.mjs against a throwaway pipe server (a Unix
// socket in a temp dir) that plays the responder's side of protocol v1.
// The worker runs the extension's real PipeClient + ModelCalls, so it needs
// the harness bundle (extension/out/harness.mjs: `npm run build:harness` in
// extension/, or LITELLM_EXTENSION_HARNESS; tests/integration/run.sh builds
// it): `node --test worker/` from tests/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withTimeout } from '../lib/procs.mjs';
import { splitLines } from '../lib/pipe.mjs';

const WORKER = fileURLToPath(new URL('./test-worker.mjs', import.meta.url));
/** One accepted connection of the fake responder. */
class PeerConnection {
  constructor(socket) {
    this.socket = socket;
    this.frames = [];
    this.waiters = [];
    this.closed = false;
    splitLines(socket, (line) => {
      this.frames.push(JSON.parse(line));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }
  wake() {
    for (const waiter of this.waiters.slice()) waiter();
  }
  send(frame) {
    this.socket.write(JSON.stringify(frame) + '\n');
  }
  /** Resolves with the first frame (from index `from`) matching `predicate`. */
  waitFrame(predicate, what, from = 0) {
    return withTimeout(new Promise((resolve) => {
      const check = () => {
        const found = this.frames.slice(from).find(predicate);
        if (found) {
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve(found);
        }
      };
      this.waiters.push(check);
      check();
    }), what);
  }
  waitClosed() {
    return withTimeout(new Promise((resolve) => {
      const check = () => {
        if (this.closed) resolve();
      };
      this.waiters.push(check);
      check();
    }), 'the connection to close');
  }
  /** The frames of request `id` up to and including its done/error. */
  async reply(id) {
    await this.waitFrame((f) => f.id === id && (f.type === 'done' || f.type === 'error'), `the end of ${id}`);
    const end = this.frames.findIndex((f) => f.id === id && (f.type === 'done' || f.type === 'error'));
    return this.frames.slice(0, end + 1).filter((f) => f.id === id);
  }
}

/** The fake responder: a Unix socket server that welcomes every hello. */
class FakeResponder {
  constructor(socketPath) {
    this.path = socketPath;
    this.connections = [];
    this.waiters = [];
    this.server = net.createServer((socket) => {
      const connection = new PeerConnection(socket);
      this.connections.push(connection);
      // The welcome answers the hello; a frame sent before it would be
      // ignored by the client (as the real responder never does that,
      // connection(n) resolves once the welcome is on its way).
      connection.welcomed = connection.waitFrame((f) => f.type === 'hello', 'hello').then(
        () => connection.send({ type: 'welcome', protocol: 1, server: 'fake-responder/0' }),
      );
      connection.welcomed.catch(() => {});
      for (const waiter of this.waiters.slice()) waiter();
    });
  }
  listen() {
    return new Promise((resolve) => this.server.listen(this.path, resolve));
  }
  close() {
    for (const c of this.connections) c.socket.destroy();
    return new Promise((resolve) => this.server.close(resolve));
  }
  /** Resolves with the n-th connection (0-based) once it exists and its hello was welcomed. */
  async connection(n) {
    const connection = await withTimeout(new Promise((resolve) => {
      const check = () => {
        if (this.connections.length > n) {
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve(this.connections[n]);
        }
      };
      this.waiters.push(check);
      check();
    }), `connection #${n + 1}`);
    await connection.welcomed;
    return connection;
  }
}

/** A running test worker with its event stream. */
class Worker {
  constructor(args) {
    this.events = [];
    this.waiters = [];
    this.exitCode = undefined;
    this.child = spawn(process.execPath, [WORKER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    splitLines(this.child.stdout, (line) => {
      this.events.push(JSON.parse(line));
      for (const waiter of this.waiters.slice()) waiter();
    });
    this.child.stderr.on('data', (chunk) => { this.stderr += chunk; });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => { // after its last stdout line
        this.exitCode = code;
        resolve({ code, signal });
        for (const waiter of this.waiters.slice()) waiter();
      });
    });
  }
  command(line) {
    this.child.stdin.write(line + '\n');
  }
  waitEvent(predicate, what) {
    return withTimeout(new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(predicate);
        if (found) {
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve(found);
        } else if (this.exitCode !== undefined) {
          reject(new Error(`worker exited (${this.exitCode}) before ${what}; stderr: ${this.stderr}`));
        }
      };
      this.waiters.push(check);
      check();
    }), what);
  }
  async stop() {
    if (this.exitCode === undefined) this.child.kill('SIGTERM');
    await withTimeout(this.exited, 'the worker to exit');
  }
}

let tmpDir;
let counter = 0;

before(() => {
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-'));
});

after(() => {
  fs.rmSync(tmpDir, { recursive: true, force: true });
});

/** A fresh fake responder + worker; `fn` gets both; everything is torn down after. */
async function withPair(args, fn) {
  const socketPath = path.join(tmpDir, `p${++counter}.sock`);
  const responder = new FakeResponder(socketPath);
  await responder.listen();
  const worker = new Worker(['--pipe', socketPath, ...args]);
  try {
    await fn({ responder, worker, socketPath });
  } finally {
    await worker.stop().catch(() => {});
    await responder.close();
  }
}

let requestCounter = 0;
function request(connection, text, extra = {}) {
  const id = `req-${++requestCounter}`;
  connection.send({
    type: 'request',
    id,
    model: 'test/gpt-4o',
    messages: [{ role: 'user', content: text }],
    ...extra,
  });
  return id;
}

test('hello announces the models with the contract fields, welcome and ping are handled', async () => {
  await withPair(['--models', 'gpt-4o,claude-3.5-sonnet', '--default', 'claude-3.5-sonnet', '--label', 'test'],
    async ({ responder, worker }) => {
      const conn = await responder.connection(0);
      const hello = await conn.waitFrame((f) => f.type === 'hello', 'hello');
      assert.equal(hello.protocol, 1);
      assert.match(hello.client, /^[^/]+\/[^/]+$/);
      assert.equal(typeof hello.vscode, 'string');
      assert.deepEqual(hello.models, [
        { id: 'test/gpt-4o', vendor: 'test', family: 'gpt-4o', name: 'Test gpt-4o', version: '1', max_input_tokens: 128000 },
        { id: 'test/claude-3.5-sonnet', vendor: 'test', family: 'claude-3.5-sonnet', name: 'Test claude-3.5-sonnet', version: '1', max_input_tokens: 128000 },
      ]);
      assert.equal(hello.default_model, 'test/claude-3.5-sonnet');
      await worker.waitEvent((e) => e.event === 'connected', 'connected event');
      const welcome = await worker.waitEvent((e) => e.event === 'welcome', 'welcome event');
      assert.equal(welcome.server, 'fake-responder/0');
      conn.send({ type: 'ping' });
      await conn.waitFrame((f) => f.type === 'pong', 'pong');
      conn.send({ type: 'something-new', x: 1 });
      conn.send({ type: 'ping' });
      await conn.waitFrame((f, i) => f.type === 'pong' && i > conn.frames.findIndex((g) => g.type === 'pong'), 'second pong');
    });
});

test('--label demo puts "demo" in every model id', async () => {
  await withPair(['--label', 'demo', '--models', 'gpt-4o,o1'], async ({ responder }) => {
    const conn = await responder.connection(0);
    const hello = await conn.waitFrame((f) => f.type === 'hello', 'hello');
    assert.equal(hello.models.length, 2);
    for (const model of hello.models) {
      assert.match(model.id, /demo/);
      assert.equal(model.vendor, 'demo');
      assert.match(model.name, /^Demo /);
    }
    assert.equal(hello.default_model, 'demo/gpt-4o');
  });
});

test('--max-input-tokens N is what every model reports; 0 as a model that reports none', async () => {
  await withPair(['--models', 'gpt-4o,o1', '--max-input-tokens', '4000'], async ({ responder }) => {
    const conn = await responder.connection(0);
    const hello = await conn.waitFrame((f) => f.type === 'hello', 'hello');
    assert.deepEqual(hello.models.map((m) => m.max_input_tokens), [4000, 4000]);
  });
  await withPair(['--models', 'gpt-4o', '--max-input-tokens=0'], async ({ responder }) => {
    const conn = await responder.connection(0);
    const hello = await conn.waitFrame((f) => f.type === 'hello', 'hello');
    assert.equal(hello.models.length, 1);
    // VS Code reports 0 for a model without a known limit, and the extension
    // announces what VS Code reports; the responder treats 0 as unknown.
    assert.equal(hello.models[0].max_input_tokens, 0, JSON.stringify(hello.models[0]));
  });
  const worker = new Worker(['--pipe', '/nonexistent/x.sock', '--max-input-tokens', 'lots']);
  const { code } = await withTimeout(worker.exited, 'the worker to exit');
  assert.equal(code, 2);
  assert.match(worker.stderr, /--max-input-tokens/);
});

test('plain text is echoed word by word, spaces kept, then done with usage', async () => {
  await withPair([], async ({ responder, worker }) => {
    const conn = await responder.connection(0);
    await worker.waitEvent((e) => e.event === 'welcome', 'welcome');
    const id = request(conn, 'Hello there  big world!');
    const frames = await conn.reply(id);
    const deltas = frames.filter((f) => f.type === 'delta').map((f) => f.text);
    assert.deepEqual(deltas, ['Hello ', 'there  ', 'big ', 'world!']);
    const done = frames.at(-1);
    assert.equal(done.type, 'done');
    assert.equal(done.finish_reason, 'stop');
    assert.ok(done.usage.prompt_tokens > 0);
    assert.ok(done.usage.completion_tokens > 0);
    const event = await worker.waitEvent((e) => e.event === 'request' && e.id === id, 'request event');
    assert.equal(event.model, 'test/gpt-4o');
    assert.deepEqual(event.messages, [{ role: 'user', content: 'Hello there  big world!' }]);
    assert.equal(event.tools, null);
  });
});

test('the LAST user message drives the reply, text parts are joined', async () => {
  await withPair([], async ({ responder }) => {
    const conn = await responder.connection(0);
    const id = `req-${++requestCounter}`;
    conn.send({
      type: 'request',
      id,
      model: 'test/gpt-4o',
      messages: [
        { role: 'user', content: '[[hang]]' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: [{ type: 'text', text: 'part one ' }, { type: 'text', text: 'part two' }] },
      ],
    });
    const frames = await conn.reply(id);
    assert.equal(frames.filter((f) => f.type === 'delta').map((f) => f.text).join(''), 'part one part two');
  });
});

test('a script followed by more user text in the same run still drives the reply (Claude Code\'s system turn)', async () => {
  await withPair([], async ({ responder }) => {
    const conn = await responder.connection(0);
    const id = `req-${++requestCounter}`;
    // What the gateway makes of Claude Code's first request: the prompt, then
    // its environment as a system turn (the extension sends it as a User message).
    conn.send({
      type: 'request',
      id,
      model: 'test/gpt-4o',
      messages: [
        { role: 'user', content: [{ type: 'text', text: '<system-reminder>x</system-reminder>' }, { type: 'text', text: 'hi [[reply:scripted]]' }] },
        { role: 'system', content: '# Environment\nPlatform: linux' },
      ],
    });
    const frames = await conn.reply(id);
    assert.equal(frames.filter((f) => f.type === 'delta').map((f) => f.text).join(''), 'scripted');
    // An assistant message in between ends the run: the last user text is echoed.
    const id2 = `req-${++requestCounter}`;
    conn.send({
      type: 'request',
      id: id2,
      model: 'test/gpt-4o',
      messages: [
        { role: 'user', content: '[[reply:old]]' },
        { role: 'assistant', content: 'ok' },
        { role: 'system', content: 'plain words' },
      ],
    });
    const echoed = await conn.reply(id2);
    assert.equal(echoed.filter((f) => f.type === 'delta').map((f) => f.text).join(''), 'plain words');
  });
});

test('[[chunks:N]] sends N deltas c1 .. cN', async () => {
  await withPair([], async ({ responder }) => {
    const conn = await responder.connection(0);
    const id = request(conn, '[[chunks:5]]');
    const frames = await conn.reply(id);
    assert.deepEqual(frames.filter((f) => f.type === 'delta').map((f) => f.text), ['c1 ', 'c2 ', 'c3 ', 'c4 ', 'c5 ']);
    assert.equal(frames.at(-1).finish_reason, 'stop');
  });
});

test('[[gate]] holds after "before-gate" until `release <id>`', async () => {
  await withPair([], async ({ responder, worker }) => {
    const conn = await responder.connection(0);
    const id = request(conn, '[[gate]]');
    await worker.waitEvent((e) => e.event === 'gate' && e.id === id, 'gate event');
    await conn.waitFrame((f) => f.id === id && f.type === 'delta' && f.text === 'before-gate', 'before-gate');
    // Still gated: a ping round trip proves the worker has processed everything sent so far.
    const pongs = conn.frames.filter((f) => f.type === 'pong').length;
    conn.send({ type: 'ping' });
    await conn.waitFrame((f, i) => f.type === 'pong' && conn.frames.slice(0, i + 1).filter((g) => g.type === 'pong').length > pongs, 'pong');
    assert.equal(conn.frames.some((f) => f.id === id && f.type === 'done'), false, 'done before release');
    worker.command(`release ${id}`);
    const frames = await conn.reply(id);
    assert.deepEqual(frames.filter((f) => f.type === 'delta').map((f) => f.text), ['before-gate', 'after-gate']);
    assert.equal(frames.at(-1).type, 'done');
  });
});

test('[[error:CODE:message]] and [[error-after-delta:CODE]] go through the extension\'s error mapping', async () => {
  await withPair([], async ({ responder }) => {
    const conn = await responder.connection(0);
    // LanguageModelError NoPermissions / NotFound / Blocked, and a plain Error.
    for (const code of ['no_permissions', 'not_found', 'rate_limited', 'internal']) {
      const id = request(conn, `[[error:${code}:it failed: really]]`);
      const frames = await conn.reply(id);
      assert.equal(frames.length, 1, JSON.stringify(frames));
      assert.equal(frames[0].type, 'error');
      assert.equal(frames[0].code, code);
      assert.ok(frames[0].message.includes('it failed: really'), frames[0].message);
    }
    const plain = request(conn, '[[error:the provider broke]]');
    assert.deepEqual(await conn.reply(plain), [{ type: 'error', id: plain, code: 'internal', message: 'the provider broke' }]);
    const id = request(conn, '[[error-after-delta:internal]]');
    const frames = await conn.reply(id);
    assert.equal(frames.length, 2);
    assert.equal(frames[0].type, 'delta');
    assert.equal(frames[1].type, 'error');
    assert.equal(frames[1].code, 'internal');
  });
});

test('[[tool:NAME:{json}]] sends a tool_call, and the round trip answers with the tool result', async () => {
  await withPair([], async ({ responder, worker }) => {
    const conn = await responder.connection(0);
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
    const id = request(conn, 'weather? [[tool:get_weather:{"city": "Paris"}]]', { tools });
    const frames = await conn.reply(id);
    assert.equal(frames.length, 2);
    assert.equal(frames[0].type, 'tool_call');
    assert.equal(frames[0].name, 'get_weather');
    assert.match(frames[0].call_id, /^call_[0-9a-f]+$/);
    assert.deepEqual(JSON.parse(frames[0].arguments), { city: 'Paris' });
    assert.equal(frames[1].type, 'done');
    assert.equal(frames[1].finish_reason, 'tool_calls');
    const event = await worker.waitEvent((e) => e.event === 'request' && e.id === id, 'request event');
    assert.deepEqual(event.tools, tools);

    const id2 = `req-${++requestCounter}`;
    conn.send({
      type: 'request',
      id: id2,
      model: 'test/gpt-4o',
      messages: [
        { role: 'user', content: 'weather? [[tool:get_weather:{"city": "Paris"}]]' },
        { role: 'assistant', content: null, tool_calls: [{ id: frames[0].call_id, type: 'function', function: { name: 'get_weather', arguments: frames[0].arguments } }] },
        { role: 'tool', tool_call_id: frames[0].call_id, content: '22C and sunny' },
      ],
      tools,
    });
    const reply = await conn.reply(id2);
    assert.equal(reply.filter((f) => f.type === 'delta').map((f) => f.text).join(''), 'tool result: 22C and sunny');
    assert.equal(reply.at(-1).finish_reason, 'stop');
  });
});

/** Resolves once the worker has handled everything `conn` sent so far (a ping's pong came back). */
async function roundTrip(conn) {
  const pongs = conn.frames.filter((f) => f.type === 'pong').length;
  conn.send({ type: 'ping' });
  await conn.waitFrame((f, i) => f.type === 'pong' && conn.frames.slice(0, i + 1).filter((g) => g.type === 'pong').length > pongs, 'pong');
}

test('[[hold]] sends nothing at all until `release <id>`, then "after-gate"', async () => {
  await withPair([], async ({ responder, worker }) => {
    const conn = await responder.connection(0);
    const id = request(conn, '[[hold]]');
    await worker.waitEvent((e) => e.event === 'gate' && e.id === id, 'gate event');
    await roundTrip(conn);
    assert.deepEqual(conn.frames.filter((f) => f.id === id), [], 'nothing before release');
    worker.command(`release ${id}`);
    const frames = await conn.reply(id);
    assert.deepEqual(frames.map((f) => f.type === 'delta' ? f.text : f.type), ['after-gate', 'done']);
  });
});

test('[[sleep:MS]] is silent, then plays the rest of the script; a cancel while asleep ends it', async () => {
  await withPair([], async ({ responder, worker }) => {
    const conn = await responder.connection(0);
    const id = request(conn, '[[sleep:20]] late words');
    const frames = await conn.reply(id);
    assert.deepEqual(frames.map((f) => f.type === 'delta' ? f.text : f.type), ['late ', 'words', 'done']);
    const chunked = request(conn, '[[sleep:20]][[chunks:2]]');
    assert.deepEqual((await conn.reply(chunked)).map((f) => f.type === 'delta' ? f.text : f.type), ['c1 ', 'c2 ', 'done']);
    const long = request(conn, '[[sleep:600000]] never');
    await worker.waitEvent((e) => e.event === 'request' && e.id === long, 'request event');
    await roundTrip(conn);
    assert.deepEqual(conn.frames.filter((f) => f.id === long), [], 'nothing while asleep');
    conn.send({ type: 'cancel', id: long });
    assert.deepEqual((await conn.reply(long)).map((f) => [f.type, f.code]), [['error', 'cancelled']]);
  });
});

test('[[hang]] sends nothing; a cancel frame is recorded and answered with error cancelled', async () => {
  await withPair([], async ({ responder, worker }) => {
    const conn = await responder.connection(0);
    const id = request(conn, '[[hang]]');
    await worker.waitEvent((e) => e.event === 'request' && e.id === id, 'request event');
    conn.send({ type: 'cancel', id });
    await worker.waitEvent((e) => e.event === 'cancel' && e.id === id, 'cancel event');
    const frames = await conn.reply(id);
    assert.deepEqual(frames.map((f) => [f.type, f.code]), [['error', 'cancelled']]);
  });
});

test('cancel stops a [[slow]] reply; [[slow:MS:N]] otherwise sends N deltas', async () => {
  await withPair([], async ({ responder, worker }) => {
    const conn = await responder.connection(0);
    const id = request(conn, '[[slow:5:3]]');
    const frames = await conn.reply(id);
    assert.deepEqual(frames.filter((f) => f.type === 'delta').map((f) => f.text), ['s1 ', 's2 ', 's3 ']);
    const id2 = request(conn, '[[slow:50:1000]]');
    await conn.waitFrame((f) => f.id === id2 && f.type === 'delta', 'first slow delta');
    conn.send({ type: 'cancel', id: id2 });
    await worker.waitEvent((e) => e.event === 'cancel' && e.id === id2, 'cancel event');
    const reply = await conn.reply(id2);
    assert.equal(reply.at(-1).code, 'cancelled');
    assert.ok(reply.filter((f) => f.type === 'delta').length < 1000);
    assert.equal(reply.some((f) => f.type === 'done'), false);
  });
});

test('[[model]] replies with the resolved model id of the request frame', async () => {
  await withPair([], async ({ responder }) => {
    const conn = await responder.connection(0);
    const id = `req-${++requestCounter}`;
    conn.send({ type: 'request', id, model: 'test/claude-3.5-sonnet', messages: [{ role: 'user', content: '[[model]]' }] });
    const frames = await conn.reply(id);
    assert.equal(frames.filter((f) => f.type === 'delta').map((f) => f.text).join(''), 'test/claude-3.5-sonnet');
  });
});

test('[[disconnect]] sends one delta, drops the socket, then reconnects with a new hello', async () => {
  await withPair([], async ({ responder, worker }) => {
    const conn = await responder.connection(0);
    const id = request(conn, '[[disconnect]]');
    await conn.waitClosed();
    assert.deepEqual(conn.frames.filter((f) => f.id === id).map((f) => f.type), ['delta']);
    await worker.waitEvent((e) => e.event === 'disconnected', 'disconnected event');
    const second = await responder.connection(1);
    await second.waitFrame((f) => f.type === 'hello', 'second hello');
    await worker.waitEvent((e) => e.event === 'connected' && worker.events.filter((x) => x.event === 'connected').length >= 2,
      'a second connected event');
  });
});

test('--no-reconnect exits when the connection ends', async () => {
  await withPair(['--no-reconnect'], async ({ responder, worker }) => {
    const conn = await responder.connection(0);
    await conn.waitFrame((f) => f.type === 'hello', 'hello');
    conn.socket.destroy();
    const { code } = await withTimeout(worker.exited, 'the worker to exit');
    assert.equal(code, 0);
    assert.equal(responder.connections.length, 1);
  });
});

test('stdin: `models` sends a models frame, `disconnect` drops and reconnects, `quit` exits 0', async () => {
  await withPair(['--models', 'gpt-4o'], async ({ responder, worker }) => {
    const conn = await responder.connection(0);
    await worker.waitEvent((e) => e.event === 'welcome', 'welcome');
    worker.command('models o1, gpt-4o-mini');
    const frame = await conn.waitFrame((f) => f.type === 'models', 'models frame');
    assert.deepEqual(frame.models.map((m) => m.id), ['test/o1', 'test/gpt-4o-mini']);
    assert.equal(frame.default_model, 'test/o1');
    worker.command('disconnect');
    await conn.waitClosed();
    const second = await responder.connection(1);
    const hello = await second.waitFrame((f) => f.type === 'hello', 'second hello');
    assert.deepEqual(hello.models.map((m) => m.id), ['test/o1', 'test/gpt-4o-mini'], 'hello after reconnect keeps the new models');
    worker.command('quit');
    const { code } = await withTimeout(worker.exited, 'the worker to exit');
    assert.equal(code, 0);
  });
});

test('--events FILE gets the same JSON lines as stdout', async () => {
  const eventsFile = path.join(tmpDir, 'events.ndjson');
  await withPair(['--events', eventsFile], async ({ responder, worker }) => {
    const conn = await responder.connection(0);
    await worker.waitEvent((e) => e.event === 'welcome', 'welcome');
    const id = request(conn, 'hi');
    await conn.reply(id);
    await worker.waitEvent((e) => e.event === 'request', 'request event');
    const lines = fs.readFileSync(eventsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((e) => e.event).slice(0, 3), ['connected', 'welcome', 'request']);
    assert.equal(lines[2].id, id);
  });
});

test('the worker keeps retrying until the pipe appears', async () => {
  const socketPath = path.join(tmpDir, `late${++counter}.sock`);
  const worker = new Worker(['--pipe', socketPath]);
  try {
    await worker.waitEvent((e) => e.event === 'connect_failed', 'a failed connect');
    const responder = new FakeResponder(socketPath);
    await responder.listen();
    try {
      const conn = await responder.connection(0);
      await conn.waitFrame((f) => f.type === 'hello', 'hello');
    } finally {
      await worker.stop();
      await responder.close();
    }
  } finally {
    await worker.stop().catch(() => {});
  }
});

test('bad command-line arguments exit 2 with a usage line', async () => {
  const worker = new Worker(['--bogus']);
  const { code } = await withTimeout(worker.exited, 'the worker to exit');
  assert.equal(code, 2);
  assert.match(worker.stderr, /usage:/);
});

// ---------------------------------------------------------------- scripts for issue 7 (clients, images, JSON)

test('--image-input a,b gives every model capabilities.image_input (true for those, false for the rest)', async () => {
  await withPair(['--models', 'gpt-4o,o1', '--image-input', 'gpt-4o'], async ({ responder }) => {
    const conn = await responder.connection(0);
    const hello = await conn.waitFrame((f) => f.type === 'hello', 'hello');
    assert.deepEqual(hello.models.map((m) => [m.family, m.capabilities]),
      [['gpt-4o', { image_input: true }], ['o1', { image_input: false }]]);
  });
  await withPair(['--models', 'gpt-4o'], async ({ responder }) => {
    const conn = await responder.connection(0);
    const hello = await conn.waitFrame((f) => f.type === 'hello', 'hello');
    assert.ok(!('capabilities' in hello.models[0]), 'no capabilities without the flag');
  });
});

test('[[reply:TEXT]] and [[deltas:[...]]] send exactly that text', async () => {
  await withPair([], async ({ responder }) => {
    const conn = await responder.connection(0);
    let id = request(conn, 'x [[reply:{"a": [1, 2]}]]');
    let frames = await conn.reply(id);
    assert.deepEqual(frames.filter((f) => f.type === 'delta').map((f) => f.text), ['{"a": [1, 2]}']);
    id = request(conn, '[[deltas:["Hel", "lo ST", "OP there"]]]');
    frames = await conn.reply(id);
    assert.deepEqual(frames.filter((f) => f.type === 'delta').map((f) => f.text), ['Hel', 'lo ST', 'OP there']);
    assert.equal(frames.at(-1).finish_reason, 'stop');
    id = request(conn, '[[deltas:[not json]]]');
    frames = await conn.reply(id);
    assert.equal(frames.at(-1).type, 'error');
  });
});

test('[[tools:[...]]] calls several tools in one turn, then answers with all their results', async () => {
  await withPair([], async ({ responder }) => {
    const conn = await responder.connection(0);
    const text = '[[tools:[{"name":"a","arguments":{"x":1}},{"name":"b","arguments":{}}]]]';
    const id = request(conn, text);
    const frames = await conn.reply(id);
    assert.deepEqual(frames.map((f) => f.type), ['tool_call', 'tool_call', 'done']);
    assert.deepEqual(frames.slice(0, 2).map((f) => [f.name, JSON.parse(f.arguments)]), [['a', { x: 1 }], ['b', {}]]);
    assert.notEqual(frames[0].call_id, frames[1].call_id);
    assert.equal(frames[2].finish_reason, 'tool_calls');
    const calls = frames.slice(0, 2).map((f) => ({ id: f.call_id, type: 'function', function: { name: f.name, arguments: f.arguments } }));
    const id2 = request(conn, text, {
      messages: [
        { role: 'user', content: text },
        { role: 'assistant', content: null, tool_calls: calls },
        { role: 'tool', tool_call_id: calls[0].id, content: 'one' },
        { role: 'tool', tool_call_id: calls[1].id, content: 'two' },
      ],
    });
    const reply = await conn.reply(id2);
    assert.equal(reply.filter((f) => f.type === 'delta').map((f) => f.text).join(''), 'tool results: one | two');
  });
});

test('[[tool-seq:[...]]] calls one tool per turn in order, then answers with all results', async () => {
  await withPair([], async ({ responder }) => {
    const conn = await responder.connection(0);
    const text = '[[tool-seq:[{"name":"first","arguments":{"n":1}},{"name":"second","arguments":{"n":2}}]]]';
    const history = [{ role: 'user', content: text }];
    const names = [];
    for (let turn = 0; turn < 2; turn++) {
      const frames = await conn.reply(request(conn, text, { messages: history }));
      assert.deepEqual(frames.map((f) => f.type), ['tool_call', 'done']);
      names.push(frames[0].name);
      history.push({ role: 'assistant', content: null, tool_calls: [{ id: frames[0].call_id, type: 'function', function: { name: frames[0].name, arguments: frames[0].arguments } }] });
      history.push({ role: 'tool', tool_call_id: frames[0].call_id, content: `r${turn + 1}` });
    }
    assert.deepEqual(names, ['first', 'second']);
    const last = await conn.reply(request(conn, text, { messages: history }));
    assert.equal(last.filter((f) => f.type === 'delta').map((f) => f.text).join(''), 'tool results: r1 | r2');
  });
});

test('[[images]] reports the image parts of the last user message', async () => {
  await withPair([], async ({ responder }) => {
    const conn = await responder.connection(0);
    const content = [
      { type: 'text', text: 'what is this? [[images]]' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
    ];
    const frames = await conn.reply(request(conn, '', { messages: [{ role: 'user', content }] }));
    assert.equal(frames.filter((f) => f.type === 'delta').map((f) => f.text).join(''), 'images: 2 image/png image/jpeg');
  });
});
