// The health probes a service manager uses (issue 16, item 4), with real
// processes: `litellmctl probe liveliness|readiness [--wait S]` (litellm-status
// --probe over the FastCGI socket) exits 0 / 1 with and without a VS Code
// window; while the responder drains after SIGTERM, liveliness and readiness
// are 503 through real nginx, the probe command exits 1, and a request that
// still reaches the responder on a connection opened before the SIGTERM (as
// a FastCGI keep-alive connection of nginx's would) is answered 503
// "draining" by the responder itself.
//
// Nothing measures time: every step waits for its event (a process exit, a
// log line, a worker event).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import {
  Stack, openStream, httpRequest, nonce, waitUntil, isAlive, makeTempDir, writeFcgiConfig, withTimeout,
  assertStreamBody, run, srcRoot, GUARD_MS, GUARD_SCALE,
} from './harness.mjs';
import { beginFcgiRequest } from '../lib/fcgi.mjs';

const DRAIN_TIMEOUT_S = 30;
const stack = new Stack();
let configDir;

before(async () => {
  configDir = makeTempDir('probes');
  const config = writeFcgiConfig(path.join(configDir, 'probes.conf'), { 'drain-timeout': DRAIN_TIMEOUT_S });
  await stack.start({ worker: false, ctlArgs: ['--fcgi-config', config], recordExit: true });
});

after(async () => {
  try { await stack.teardown(); } finally { fs.rmSync(configDir, { recursive: true, force: true }); }
});

// litellmctl finds litellm-status beside LITELLM_FCGI, or LITELLM_STATUS.
const statusEnv = () => (process.env.LITELLM_STATUS ? { LITELLM_STATUS: process.env.LITELLM_STATUS } : {});
const probe = (...args) => stack.ctl(['probe', ...args], { env: statusEnv() });

test('no window: probe liveliness exits 0 with the body, probe readiness exits 1', async () => {
  const alive = await probe('liveliness');
  assert.equal(alive.code, 0, alive.stderr);
  assert.equal(JSON.parse(alive.stdout).status, 'alive');
  const ready = await probe('readiness');
  assert.equal(ready.code, 1, ready.stdout);
  assert.equal(JSON.parse(ready.stdout).status, 'not ready');
  assert.match(ready.stderr, /answered 503/);
  const wrong = await probe('sideways');
  assert.equal(wrong.code, 2, 'a probe that does not exist is a usage error');
});

test('probe readiness --wait exits 0 once a window connects (and not before)', async () => {
  const env = stack.env(statusEnv());
  const child = spawn(stack.paths.litellmctl, ['--prefix', stack.prefix, '--listen', `127.0.0.1:${stack.port}`,
    'probe', 'readiness', '--wait', String(60 * GUARD_SCALE)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d) => { stdout += d; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  let exitedEarly = false;
  exited.then(() => { exitedEarly = !stack.worker; });
  await stack.startWorker();
  const code = await withTimeout(exited, 'probe --wait to see the window', GUARD_MS);
  assert.equal(exitedEarly, false, 'the probe waited for the window');
  assert.equal(code, 0);
  assert.equal(JSON.parse(stdout).status, 'ready');
  const ready = await probe('readiness');
  assert.equal(ready.code, 0, ready.stderr);
});

test('draining: 503 through nginx, probe exits 1, and the responder itself answers 503 draining', async () => {
  const { json } = await stack.status();
  const early = await beginFcgiRequest(json.fcgi_socket);   // a connection nginx might hold already
  const logStart = stack.logText().length;
  const marker = nonce('drain');
  const stream = await openStream(stack.port, { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: `[[gate]] ${marker}` }] });
  const request = await stack.worker.waitRequest(marker);
  await stream.readUntil((text) => text.includes('before-gate'), 'the first chunk');
  const pid = await stack.responderPid();
  try {
    process.kill(pid, 'SIGTERM');
    await waitUntil(() => /draining: [1-9]\d* request\(s\) in flight/.test(stack.logText().slice(logStart)), 'the responder to start draining');

    for (const probePath of ['/health/liveliness', '/health/liveness', '/health/readiness']) {
      const response = await httpRequest(stack.port, { path: probePath });
      assert.equal(response.status, 503, `${probePath} while draining: ${response.text}`);
      // nginx's own answer (the socket is closed), or the responder's on a
      // FastCGI connection nginx kept alive from before the SIGTERM.
      assert.ok(['unavailable', 'draining'].includes(response.json?.status), `${probePath}: a probe-shaped 503: ${response.text}`);
    }
    const live = await probe('liveliness');
    assert.equal(live.code, 1, `probe liveliness while draining: ${live.stdout}`);

    const answer = await early.get('/health/liveliness');
    assert.equal(answer.status, 503, answer.body);
    assert.equal(answer.json.status, 'draining');
    assert.match(answer.json.message, /stopping/);
  } finally {
    early.close();
  }
  stack.worker.command(`release ${request.id}`);
  assertStreamBody(assert, await stream.readToEnd());
  await waitUntil(() => !isAlive(pid), `the responder (pid ${pid}) to exit after its drain`, (DRAIN_TIMEOUT_S + 10) * 1000 * GUARD_SCALE);
  await waitUntil(() => stack.responderExits().length === 1, 'its exit status');
  assert.deepEqual(stack.responderExits(), [0], 'the responder exits 0 after draining');
});

// The unit's own command lines, with only the install paths swapped for this
// build's and a temp directory: its ExecStartPost returns 0 once its
// ExecStart answers, as systemd would see it.
test('contrib/litellm-fcgi.service: ExecStartPost (the liveliness probe with --wait) succeeds once ExecStart answers', async () => {
  const unit = fs.readFileSync(path.join(srcRoot, 'contrib', 'litellm-fcgi.service'), 'utf8').replace(/\\\n/g, ' ');
  const command = (name) => {
    const line = unit.split('\n').find((l) => l.startsWith(`${name}=`));
    assert.ok(line, `the unit has ${name}=`);
    return line.slice(name.length + 1).trim().split(/\s+/);
  };
  const runDir = makeTempDir('unitrun');
  const built = { 'litellm-fcgi': stack.paths.fcgi, 'litellm-status': stack.paths.status };
  const swap = (args) => args.map((arg) => arg
    .replace(/^\/usr\/local\/bin\/([\w-]+)$/, (whole, name) => built[name] ?? whole)
    .replace(/^\/run\/vscode-litellm\//, `${runDir}/`)
    .replace(/^\/etc\/vscode-litellm\/litellm-fcgi\.conf$/, path.join(srcRoot, 'contrib', 'litellm-fcgi.conf.example')));
  const start = swap(command('ExecStart'));
  if (process.getuid() !== 0) start.splice(start.indexOf('--fcgi-group'), 2);   // only root may hand the socket to www-data
  const post = swap(command('ExecStartPost'));
  assert.deepEqual(post.slice(-4), ['--probe', 'liveliness', '--wait', '30']);
  // RuntimeDirectory=vscode-litellm is where its default limiter state goes.
  const responder = spawn(start[0], [...start.slice(1), '--limits-state-file', path.join(runDir, 'limits.state'),
    '--log-file', path.join(runDir, 'responder.log')], { stdio: 'ignore' });
  const responderExit = new Promise((resolve) => responder.on('exit', (code) => resolve(code)));
  try {
    const probed = await run(post[0], post.slice(1));
    assert.equal(probed.code, 0, `${post.join(' ')}: ${probed.stderr} ${fs.readFileSync(path.join(runDir, 'responder.log'), 'utf8')}`);
    assert.equal(JSON.parse(probed.stdout).status, 'alive');
  } finally {
    responder.kill('SIGTERM');
    assert.equal(await withTimeout(responderExit, 'the unit\'s responder to exit after SIGTERM'), 0);
    fs.rmSync(runDir, { recursive: true, force: true });
  }
});
