// FastCGI keep-alive (issue 17): the server block nginx runs keeps its
// FastCGI connections to the responder open between requests (an upstream
// with `keepalive`, which litellmctl sizes from the responder's threads), and
// kept idle connections, each holding a responder thread, never starve new
// requests: at the limit (every thread busy with a held stream or holding an
// idle connection, more concurrent clients than keep-alive slots) every
// request is served, across an nginx reload and a killed responder too.
//
// Connections are read from /proc/net/unix: the responder's side of an
// accepted connection carries the FastCGI socket's path; nginx's side has
// none. Nothing measures time; every wait is a bounded failure guard.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  Stack, openStream, postChat, nonce, waitUntil, makeTempDir, writeFcgiConfig, assertCompletion,
  assertStreamBody, openAiError, COMMAND_GUARD_MS,
} from './harness.mjs';

const THREADS = 16;
const POOL = THREADS / 8;         // what litellmctl renders for the private nginx (one worker)
const STREAMS = THREADS - POOL;   // held: with the kept connections, every thread is taken
const CLIENTS = 3 * THREADS;      // at once, while the streams are held

const stack = new Stack();
let workDir;
let fcgiConfig;

before(async () => {
  workDir = makeTempDir('keepalive');
  fcgiConfig = writeFcgiConfig(path.join(workDir, 'keepalive.conf'), { threads: THREADS });
  await stack.start({ ctlArgs: ['--fcgi-config', fcgiConfig, '--conn-per-client', String(CLIENTS * 4)] });
});

after(async () => {
  try {
    await stack.teardown();
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
});

/** Inodes of the responder's connected sockets on its FastCGI socket. */
function fcgiConnections() {
  const socket = path.join(stack.prefix, 'run', 'fcgi.sock');
  const inodes = [];
  // Num RefCount Protocol Flags Type St Inode Path; St 03 = connected.
  for (const line of fs.readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length >= 8 && fields[5] === '03' && fields[7] === socket) inodes.push(fields[6]);
  }
  return inodes;
}

async function quick(tag) {
  const text = nonce(tag);
  const response = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: text }] });
  assert.equal(response.status, 200, response.text);
  assert.equal(assertCompletion(assert, response.json).message.content, text);
}

/** CLIENTS non-stream requests at once; every one must be answered. */
async function burst(tag) {
  const results = await Promise.allSettled(Array.from({ length: CLIENTS }, () => quick(tag)));
  const failed = results.filter((r) => r.status === 'rejected');
  assert.equal(failed.length, 0, `${failed.length} of ${CLIENTS} failed: ${failed.slice(0, 3).map((r) => r.reason.message).join('\n')}`);
}

test('the server block keeps FastCGI connections alive with a pool sized from --threads; the location snippet alone does not', async () => {
  const server = await stack.ctl(['--fcgi-config', fcgiConfig, 'print-config', 'server']);
  assert.equal(server.code, 0, server.stderr);
  const upstream = `vscode_litellm_fcgi_${stack.port}`;
  assert.match(server.stdout, new RegExp(`upstream ${upstream} \\{\\s+server unix:[^;]+/fcgi\\.sock;\\s+keepalive ${POOL};`));
  assert.match(server.stdout, new RegExp(`fastcgi_pass ${upstream};`));
  assert.match(server.stdout, /fastcgi_keep_conn on;/);
  const location = await stack.ctl(['--fcgi-config', fcgiConfig, 'print-config', 'location']);
  assert.equal(location.code, 0, location.stderr);
  assert.match(location.stdout, /fastcgi_pass unix:[^;]+\/fcgi\.sock;/);
  assert.match(location.stdout, /fastcgi_keep_conn off;/);
  assert.doesNotMatch(location.stdout, /@[A-Z_]+@/);
  // The default thread count (256) gives the pool 32.
  const defaults = await stack.ctl(['print-config', 'server']);
  assert.match(defaults.stdout, /keepalive 32;/);
});

test('one after another, requests reuse one kept FastCGI connection', async () => {
  await quick('warm');
  await stack.responderIdle();
  const seen = [];
  for (let i = 0; i < 5; i++) {
    await quick('sequential');
    seen.push(fcgiConnections());
  }
  const common = seen[0].filter((inode) => seen.every((set) => set.includes(inode)));
  assert.ok(common.length >= 1, `no FastCGI connection lasted across the requests: ${JSON.stringify(seen)}`);
  assert.ok(seen.every((set) => set.length <= POOL + 1), `more connections kept than the pool: ${JSON.stringify(seen)}`);
});

test(`at the limit: ${STREAMS} held streams + ${POOL} kept connections = ${THREADS} threads, ${CLIENTS} clients at once are all served, across a reload`, async () => {
  await burst('fill-pool');
  const streams = [];
  try {
    for (let i = 0; i < STREAMS; i++) {
      const stream = await openStream(stack.port, {
        model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: `[[gate]] ${nonce('held')}` }],
      });
      streams.push(stream);
      assert.equal(stream.status, 200, stream.text());
      await stream.readUntil((text) => text.includes('before-gate'), 'the first chunk', COMMAND_GUARD_MS);
    }
    const health = await stack.health();
    assert.equal(health.json.threads.max, THREADS, health.text);
    assert.ok(health.json.threads.busy >= STREAMS + 1, `held streams not counted busy: ${health.text}`);

    await burst('at-limit');
    assert.ok(streams.every((s) => !s.ended()), 'a held stream ended during the burst');

    // A reload replaces nginx's worker: the old one keeps its streams and
    // lets its idle kept connections go; the new one opens its own.
    const reloaded = await stack.ctl(['--fcgi-config', fcgiConfig, 'reload']);
    assert.equal(reloaded.code, 0, reloaded.stderr);
    await burst('after-reload');
    assert.ok(streams.every((s) => !s.ended()), 'a held stream ended across the reload');
  } finally {
    stack.worker.command('release-all');
  }
  for (const stream of streams) assertStreamBody(assert, await stream.readToEnd(COMMAND_GUARD_MS));
  await waitUntil(async () => (fcgiConnections()).length <= POOL + 1,
    `the kept connections to fall back to the pool (${POOL}) once the streams ended`);
});

test('a killed responder: kept connections are dropped, the answer is 503 while it is down, and a new one serves them again', async () => {
  await burst('before-kill');
  assert.ok((fcgiConnections()).length >= 1, 'no kept connection to kill');
  await stack.stopResponder('SIGKILL');
  const down = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: 'nobody home' }] });
  assert.equal(openAiError(assert, down, 503).code, 'responder_unavailable');
  await stack.worker.waitEvent((e) => e.event === 'disconnected', 'the worker to notice');
  const welcomes = stack.worker.events.filter((e) => e.event === 'welcome').length;
  const started = await stack.ctl(['--fcgi-config', fcgiConfig, 'start']);
  assert.equal(started.code, 0, started.stderr);
  await stack.responderPid();
  await stack.worker.waitEvent((e) => e.event === 'welcome' && stack.worker.events.filter((w) => w.event === 'welcome').length > welcomes,
    'the worker to reconnect and be welcomed again', COMMAND_GUARD_MS);
  await stack.waitReady();
  await burst('after-restart');
});
