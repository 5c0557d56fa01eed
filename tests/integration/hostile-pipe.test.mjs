// Hostile peers on the pipe, and who may reach the sockets at all (issue 8,
// "Reliability" 4): a peer that sends garbage, an oversized frame (> 16 MiB),
// frames for another window's request, or that runs as another user is
// refused cleanly, and nothing else is affected: a stream in flight on the
// real window (the test worker) finishes normally, and new requests are
// served. The FastCGI socket is reachable only by nginx: 0660, the
// responder's owner, nginx's group (www-data when litellmctl runs as root),
// since Debian 12's libfcgi lacks part of the CVE-2025-23016 fix.
//
// Nothing measures time; every wait is a bounded failure guard.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  useStacks, postChat, openStream, nonce, run, waitUntil, makeTempDir, writeFcgiConfig,
  assertCompletion, assertStreamBody, rawPipeClient,
} from './harness.mjs';

const MAX_FRAME = 16 * 1024 * 1024;
const IS_ROOT = process.getuid() === 0;

// `open`: the pipe made connectable for everyone (pipe-mode 0666), so that
// the responder's own peer-uid check (SO_PEERCRED) is what refuses a stranger.

const [stack, open] = useStacks({ before, after }, 2, ({ dir }) => [
  {},
  { ctlArgs: ['--fcgi-config', writeFcgiConfig(path.join(dir, 'open-pipe.conf'), { 'pipe-mode': '0666' })] },
], { tag: 'hpipe' });

/** A raw pipe client; lines that do not parse are kept as {unparsed}. */
const rawClient = (on = stack) => rawPipeClient(on.pipe, { keepUnparsed: true });

const hello = (models = []) => JSON.stringify({
  type: 'hello', protocol: 1, client: 'hostile-test/1', vscode: '1.104.0', models, default_model: models[0]?.id ?? null,
}) + '\n';

async function greetedClient() {
  const client = rawClient();
  await client.send(hello([{ id: 'hostile/h1', vendor: 'hostile', family: 'h1', name: 'Hostile', version: '1' }]));
  await client.until((c) => c.frames.some((f) => f.type === 'welcome'), 'welcome');
  await stack.waitWindows((n) => n === 2, '/health windows == 2');
  return client;
}

/**
 * Runs `hostile()` while a [[gate]] stream of the real window is in flight;
 * afterwards that stream finishes normally, the only window is the worker's,
 * and a new request is served.
 */
async function unaffected(hostile, on = stack) {
  const marker = nonce('inflight');
  const stream = await openStream(on.port, { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: `[[gate]] ${marker}` }] });
  const request = await on.worker.waitRequest(marker);
  await stream.readUntil((text) => text.includes('before-gate'), 'the first chunk');
  try {
    await hostile(request);
  } finally {
    on.worker.command(`release ${request.id}`); // (a failing check must not leave it open for the drain)
  }
  const { content, finishReason } = assertStreamBody(assert, await stream.readToEnd());
  assert.equal(content, 'before-gateafter-gate', 'the stream in flight got exactly its own window\'s text');
  assert.equal(finishReason, 'stop');
  await on.waitWindows((n) => n === 1, '/health windows == 1 (the worker)');
  const fresh = nonce('after');
  const response = await postChat(on.port, { model: 'gpt-4o', messages: [{ role: 'user', content: fresh }] });
  assert.equal(assertCompletion(assert, response.json).message.content, fresh);
}

const protocolErrorThenClosed = async (client, what) => {
  await client.until((c) => c.closed, `the responder to close the connection (${what})`);
  const last = client.frames.at(-1);
  assert.equal(last?.type, 'error', `${what}: an error frame before the close: ${JSON.stringify(client.frames).slice(0, 300)}`);
  assert.equal(last.code, 'protocol', what);
};

test('garbage on the pipe (binary, NULs, invalid UTF-8, half a frame) is refused; nothing else is affected', async () => {
  await unaffected(async () => {
    const binary = Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 7919 + 13) % 256));
    for (const [what, bytes] of [
      ['random bytes', Buffer.concat([binary, Buffer.from('\n')])],
      ['NUL bytes', Buffer.concat([Buffer.alloc(1024), Buffer.from('\n')])],
      ['invalid UTF-8 JSON', Buffer.from('{"type":"\xff\xfe","id":"\xc0\xaf"}\n', 'latin1')],
      ['a JSON number', Buffer.from('12345\n')],
      ['an object without a type', Buffer.from('{"id":"x","text":"y"}\n')],
      ['a delta before hello', Buffer.from('{"type":"delta","id":"x","text":"y"}\n')],
    ]) {
      const client = rawClient();
      await client.send(bytes);
      await protocolErrorThenClosed(client, what);
    }
    // Garbage after a proper hello ends that window only.
    const greeted = await greetedClient();
    await greeted.send(Buffer.concat([binary, Buffer.from('\n')]));
    await protocolErrorThenClosed(greeted, 'garbage after hello');
    // Half a frame, then the peer leaves: nothing to answer, nothing breaks.
    const half = rawClient();
    await half.send('{"type":"hello","protocol":1,"models":[');
    half.socket.destroy();
  });
});

test('a frame of exactly 16 MiB is read; one byte more is refused with "frame larger than 16 MiB" and the connection closed', async () => {
  await unaffected(async () => {
    const greeted = await greetedClient();
    const skeleton = '{"type":"from-the-future","pad":""}';
    const exact = skeleton.replace('"pad":""', `"pad":"${'p'.repeat(MAX_FRAME - skeleton.length)}"`);
    assert.equal(exact.length, MAX_FRAME);
    await greeted.send(exact + '\n{"type":"ping"}\n');
    await greeted.until((c) => c.frames.some((f) => f.type === 'pong') || c.closed, 'a pong after the 16 MiB frame');
    assert.equal(greeted.closed, false, 'a frame of exactly 16 MiB is allowed (unknown types are ignored)');

    const over = exact.replace('"pad":"', '"pad":"p');
    assert.equal(over.length, MAX_FRAME + 1);
    await greeted.send(over + '\n');
    await protocolErrorThenClosed(greeted, 'a frame of 16 MiB + 1');
    assert.match(greeted.frames.at(-1).message, /16 MiB/);
    await waitUntil(() => /disconnected: a frame larger than 16 MiB/.test(stack.logText()), 'the disconnection in the responder\'s log');
  });
});

test('an endless line (no newline, 32 MiB sent) is cut off once it passes 16 MiB', async () => {
  await unaffected(async () => {
    const client = rawClient();
    const piece = Buffer.alloc(1024 * 1024, 'x');
    for (let sent = 0; sent < 32 && !client.closed; sent++) {
      if (!await client.send(piece)) break;
    }
    await protocolErrorThenClosed(client, 'an endless line');
  });
});

test('frames naming another window\'s request are dropped: the stream in flight gets only its own window\'s text', async () => {
  await unaffected(async (request) => {
    const intruder = await greetedClient();
    const id = request.id;
    await intruder.send([
      { type: 'delta', id, text: 'INJECTED' },
      { type: 'tool_call', id, call_id: 'call_x', name: 'evil', arguments: '{}' },
      { type: 'error', id, code: 'internal', message: 'injected error' },
      { type: 'done', id, finish_reason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 1 } },
      { type: 'delta', id: 'no-such-request', text: 'x' },
    ].map((f) => JSON.stringify(f) + '\n').join(''));
    await intruder.send('{"type":"ping"}\n');
    await intruder.until((c) => c.frames.some((f) => f.type === 'pong'), 'a pong: the intruder is answered in order');
    assert.equal(intruder.closed, false, 'frames for unknown ids are dropped, not fatal');
    intruder.socket.destroy();
  });
});

/** Runs a small node program as user `nobody`: its JSON result. */
async function asNobody(script) {
  const result = await run('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, '-e', script]);
  assert.equal(result.code, 0, `node as nobody: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/**
 * Connects to a Unix socket as nobody, says hello at once as the extension
 * does (so the refusal races unread input), and reads until it is closed:
 * {error} (a code) or {closed, frames}.
 */
const connectAsNobody = (socketPath) => asNobody(`
  const net = require('node:net');
  const socket = net.connect(${JSON.stringify(socketPath)}, () => {
    socket.write(JSON.stringify({ type: 'hello', protocol: 1, client: 'intruder', models: [] }) + '\\n');
  });
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (c) => { text += c; });
  socket.on('error', (err) => { console.log(JSON.stringify({ error: err.code })); process.exit(0); });
  socket.on('close', () => {
    console.log(JSON.stringify({ closed: true, frames: text.split('\\n').filter(Boolean).map((l) => JSON.parse(l)) }));
    process.exit(0);
  });
  setTimeout(() => { console.log(JSON.stringify({ error: 'still open after 10 s' })); process.exit(0); }, 10000);
`);

test('a peer running as another uid is refused: by the socket\'s mode (0600), and by the peer-uid check when the mode lets it in', {
  skip: IS_ROOT ? false : 'needs root to run a client as another user',
}, async () => {
  await unaffected(async () => {
    assert.deepEqual(await connectAsNobody(stack.pipe), { error: 'EACCES' });
  });
  await unaffected(async () => {
    assert.equal(fs.statSync(open.pipe).mode & 0o777, 0o666, 'this stack\'s pipe is open to all');
    const refused = await connectAsNobody(open.pipe);
    assert.equal(refused.closed, true, JSON.stringify(refused));
    assert.deepEqual(refused.frames.map((f) => [f.type, f.code]), [['error', 'forbidden']]);
    await waitUntil(() => /refused a connection from uid 65534/.test(open.logText()), 'the refusal in the responder\'s log');
  }, open);
});

test('the FastCGI socket is reachable only by nginx: 0660, our owner, nginx\'s group; the pipe is 0600', async () => {
  const { json } = await stack.status();
  const fcgiSocket = path.join(path.dirname(json.pipe), 'fcgi.sock');
  const fcgi = fs.statSync(fcgiSocket);
  assert.ok(fcgi.isSocket(), `${fcgiSocket} is a socket`);
  assert.equal((fcgi.mode & 0o777).toString(8), '660');
  assert.equal(fcgi.uid, process.getuid(), 'owned by the responder\'s user');
  const pipe = fs.statSync(json.pipe);
  assert.equal((pipe.mode & 0o777).toString(8), '600');
  assert.equal(pipe.uid, process.getuid());
  if (IS_ROOT) {
    // litellmctl runs nginx's workers as www-data and gives the socket that group.
    const group = (await run('getent', ['group', 'www-data'])).stdout.split(':');
    assert.equal(fcgi.gid, Number(group[2]), 'group www-data');
    assert.equal((await run('id', ['-u', 'www-data'])).code, 0);
    const { stdout } = await run('ps', ['-o', 'user=', '--ppid', String(json.nginx_pid)]);
    assert.deepEqual([...new Set(stdout.split('\n').map((s) => s.trim()).filter(Boolean))], ['www-data'], 'nginx\'s workers run as www-data');
    // Anyone else (not in the group) is turned away by the mode.
    assert.deepEqual(await asNobody(`
      const socket = require('node:net').connect(${JSON.stringify(fcgiSocket)});
      socket.on('connect', () => { console.log(JSON.stringify({ connected: true })); process.exit(0); });
      socket.on('error', (err) => { console.log(JSON.stringify({ error: err.code })); process.exit(0); });
    `), { error: 'EACCES' });
  } else {
    assert.equal(fcgi.gid, process.getgid(), 'our own group when not root');
  }
});
