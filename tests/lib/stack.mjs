// stack.mjs: the REAL stack (litellmctl → private nginx + litellm-fcgi) in a
// temp prefix on a free port, plus the pipe test worker; teardown checks that
// nothing is left. useStack / useStacks hook stacks into a test file; a real
// redis-server for the limits tests.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stackPaths } from './paths.mjs';
import {
  COMMAND_GUARD_MS, canConnect, childrenOf, freePort, isAlive, makeTempDir, processesMentioning, run,
  sanitizerReports, shellQuote, waitUntil, withTimeout,
} from './procs.mjs';
import { httpRequest } from './http.mjs';
import { TestWorker } from './worker.mjs';

export class Stack {
  constructor() {
    this.paths = stackPaths();
    this.prefix = null;
    this.port = null;
    this.worker = null;
    this.pipe = null;
    this.knownPids = new Set();
    this.host = '127.0.0.1';            // the address nginx listens on (start({host})), and tests connect to
    this.listenHost = null;             // another address for --listen than host, e.g. 0.0.0.0 (start({listenHost}))
    this.exitFile = null;               // start({recordExit: true}): see responderExits()
  }

  get baseUrl() { return `http://${this.host}:${this.port}`; }

  env(extra = {}) {
    const env = { ...process.env };
    delete env.LITELLM_PREFIX;
    delete env.LITELLM_LISTEN;
    delete env.LITELLM_MODE;
    return {
      ...env,
      LITELLM_FCGI: this.exitFile ? path.join(this.prefix, 'fcgi-exit-recorder') : this.paths.fcgi,
      // litellmctl looks for litellm-keys beside LITELLM_FCGI; a wrapper has none.
      ...(this.exitFile && !process.env.LITELLM_KEYS ? { LITELLM_KEYS: path.join(path.dirname(this.paths.fcgi), 'litellm-keys') } : {}),
      LITELLM_TEMPLATES: this.paths.templates,
      LITELLM_DEMO_WORKER: this.paths.worker,
      ...extra,
    };
  }

  /** Runs `litellmctl --prefix P --listen HOST:PORT ...args` (HOST: 127.0.0.1 unless start({host}) or start({listenHost})). */
  ctl(args, { listen = `${this.listenHost ?? this.host}:${this.port}`, prefix = this.prefix, env } = {}) {
    return run(this.paths.litellmctl, ['--prefix', prefix, '--listen', listen, ...args], { env: this.env(env) });
  }

  async status() {
    const result = await this.ctl(['status', '--json']);
    let json;
    try { json = JSON.parse(result.stdout); } catch {
      throw new Error(`litellmctl status --json printed no JSON (exit ${result.code}): ${result.stdout} ${result.stderr}`);
    }
    return { ...result, json };
  }

  /**
   * A fresh short prefix under /tmp. mkdtemp makes it 0700; nginx workers may
   * run as another user (www-data when the suite runs as root) and must reach
   * run/fcgi.sock inside it, so it is made searchable.
   */
  static makePrefix() {
    const prefix = fs.mkdtempSync(path.join('/tmp', 'll-'));
    fs.chmodSync(prefix, 0o755);
    return prefix;
  }

  /**
   * Creates the prefix, picks a port and runs `litellmctl start`; starts the test worker unless worker:false.
   * host: the local address nginx listens on (default 127.0.0.1). listenHost: what --listen names
   * instead, when tests still connect to host (0.0.0.0 while they use 127.0.0.1). stateFile: makes PREFIX/state/limits.state
   * (the limiter state litellmctl always hands its responder) a symlink to this file, so that the
   * responders of several prefixes share one budget. recordExit: every responder litellmctl
   * starts runs under a small shell that appends its exit status to PREFIX/responder-exits
   * (responderExits()), since litellmctl's setsid leaves nobody else to see it.
   */
  async start({ worker = true, workerArgs = [], ctlArgs = [], host = '127.0.0.1', listenHost = null, stateFile, recordExit = false } = {}) {
    this.prefix = Stack.makePrefix();
    this.host = host;
    this.listenHost = listenHost;
    if (recordExit) {
      this.exitFile = path.join(this.prefix, 'responder-exits');
      // The shell passes SIGTERM/SIGINT on: the pid file may name it rather than
      // the responder (litellmctl writes its own child's pid when the responder
      // has not written the file yet); responderPid() looks through it.
      const recorder = path.join(this.prefix, 'fcgi-exit-recorder');
      fs.writeFileSync(recorder, [
        '#!/bin/sh',
        '# The responder, then its exit status appended to responder-exits.',
        `${shellQuote(this.paths.fcgi)} "$@" &`,
        'child=$!',
        'trap \'kill -TERM $child 2>/dev/null\' TERM',
        'trap \'kill -INT $child 2>/dev/null\' INT',
        'while :; do',
        '  wait $child',
        '  status=$?',
        '  kill -0 $child 2>/dev/null || break',
        'done',
        `echo $status >> ${shellQuote(this.exitFile)}`,
        '',
      ].join('\n'), { mode: 0o755 });
    }
    this.port = await freePort();
    if (stateFile) {
      fs.mkdirSync(path.join(this.prefix, 'state'), { recursive: true });
      fs.symlinkSync(stateFile, path.join(this.prefix, 'state', 'limits.state'));
    }
    const started = await this.ctl([...ctlArgs, 'start']);
    if (started.code !== 0) {
      throw new Error(`litellmctl start failed (exit ${started.code}): ${started.stderr}${started.stdout}\n${this.logs()}`);
    }
    return this.attach({ worker, workerArgs });
  }

  /**
   * After a `litellmctl start` of this prefix that succeeded (start() or a test's own
   * ctl(['start'])): learns the pipe and the pids, waits for the port, starts the worker.
   */
  async attach({ worker = true, workerArgs = [] } = {}) {
    const { json } = await this.status();
    this.pipe = json.pipe;
    this.rememberPids(json);
    await waitUntil(() => canConnect(this.port, this.host), `nginx to listen on ${this.host}:${this.port}`);
    if (worker) await this.startWorker(workerArgs);
    return this;
  }

  rememberPids(status) {
    for (const pid of [status.nginx_pid, status.responder_pid]) {
      if (Number.isInteger(pid) && pid > 0) {
        this.knownPids.add(pid);
        for (const child of childrenOf(pid)) this.knownPids.add(child);
      }
    }
  }

  /** The exit statuses of the responders started so far (start({recordExit: true})), in order. */
  responderExits() {
    if (!this.exitFile) throw new Error('start({recordExit: true}) records exit statuses');
    try {
      return fs.readFileSync(this.exitFile, 'utf8').split('\n').filter(Boolean).map(Number);
    } catch { return []; }
  }

  /** Starts the test worker on the pipe and waits until /health counts it. */
  async startWorker(args = []) {
    if (!this.pipe) throw new Error('no pipe path (status --json has no "pipe")');
    const windowsBefore = (await this.health()).json?.windows ?? 0;
    this.worker = new TestWorker(this.paths.worker, [
      '--pipe', this.pipe, '--label', 'test', '--models', 'gpt-4o,claude-3.5-sonnet', '--default', 'gpt-4o', ...args,
    ]);
    await this.worker.waitEvent((e) => e.event === 'welcome', 'the worker to be welcomed');
    await this.waitWindows((n) => n > windowsBefore, `/health windows > ${windowsBefore}`);
    return this.worker;
  }

  /**
   * Stops the responder only (SIGTERM to `status --json`'s responder_pid, as
   * a crash or an admin would), leaving nginx up; waits until it has exited.
   * `litellmctl start` brings it back. Returns the pid it stopped.
   */
  async stopResponder(signal = 'SIGTERM') {
    const { json } = await this.status();
    if (!Number.isInteger(json.responder_pid) || json.responder_pid <= 0) {
      throw new Error(`litellmctl status --json names no responder_pid: ${JSON.stringify(json)}`);
    }
    this.rememberPids(json);
    const pid = this.throughRecorder(json.responder_pid);
    process.kill(pid, signal);
    await waitUntil(() => !isAlive(pid), `the responder (pid ${pid}) to exit after ${signal}`, COMMAND_GUARD_MS);
    return pid;
  }

  async stopWorker() {
    if (!this.worker) return;
    const worker = this.worker;
    this.worker = null;
    await worker.stop();
  }

  health() {
    return httpRequest(this.port, { path: '/health', host: this.host });
  }

  /** Waits until /health's "windows" satisfies pred. */
  waitWindows(pred, what) {
    return waitUntil(async () => {
      const response = await this.health();
      return response.status === 200 && response.json && pred(response.json.windows) ? response.json : false;
    }, what);
  }

  /**
   * Waits until the responder has finished every request it has taken: its
   * /health (served by the responder) counts itself as the only busy thread.
   * The responder writes a request's log line before it counts the request
   * done, so afterwards the log holds a line for every request answered so
   * far; a test that counts log lines waits for this first (a line is written
   * after its response has reached the client).
   */
  async responderIdle() {
    return waitUntil(async () => {
      const response = await this.health();
      const busy = response.json?.threads?.busy;
      if (!Number.isInteger(busy)) throw new Error(`/health has no threads.busy: ${response.text}`);
      return busy === 1;
    }, 'the responder to have no request in flight but /health');
  }

  /** Waits until a worker is connected again (after [[disconnect]]). */
  waitReady() {
    return this.waitWindows((n) => n >= 1, '/health windows >= 1');
  }

  logs() {
    if (!this.prefix) return '';
    const parts = [];
    for (const name of ['error.log', 'litellm-fcgi.log']) {
      const file = path.join(this.prefix, 'logs', name);
      try {
        const text = fs.readFileSync(file, 'utf8');
        parts.push(`--- ${file} (tail)\n${text.split('\n').slice(-30).join('\n')}`);
      } catch { /* absent */ }
    }
    return parts.join('\n');
  }

  /** The pid of the stack's responder (litellmctl status --json). */
  async responderPid() {
    const { json } = await this.status();
    this.rememberPids(json);
    if (!Number.isInteger(json.responder_pid) || json.responder_pid <= 0) {
      throw new Error(`litellmctl status --json names no responder_pid: ${JSON.stringify(json)}`);
    }
    return this.throughRecorder(json.responder_pid);
  }

  /** With start({recordExit}): the responder itself when `pid` is its recording shell. */
  throughRecorder(pid) {
    if (!this.exitFile) return pid;
    let cmdline = '';
    try { cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return pid; }
    if (!cmdline.includes('fcgi-exit-recorder')) return pid;
    const children = childrenOf(pid);
    if (children.length !== 1) throw new Error(`the exit recorder ${pid} has ${children.length} children`);
    this.knownPids.add(children[0]);
    return children[0];
  }

  /** `litellmctl keys ...args` for this prefix. */
  keys(args) {
    return this.ctl(['keys', ...args]);
  }

  /** The whole text of a log file under PREFIX/logs ('' if absent). */
  logText(name = 'litellm-fcgi.log') {
    try { return fs.readFileSync(path.join(this.prefix, 'logs', name), 'utf8'); } catch { return ''; }
  }

  /**
   * `litellmctl shutdown`, stop the worker, then check nothing is left:
   * no process of this prefix, none of the pids seen, no listener on the port.
   */
  async teardown() {
    if (!this.prefix) return;
    const problems = [];
    try {
      const { json } = await this.status();
      this.rememberPids(json);
    } catch { /* best effort */ }
    const wasRunning = this.knownPids.size > 0 || processesMentioning(this.prefix).length > 0;
    const shutdown = await this.ctl(['shutdown']);
    if (shutdown.code !== 0 && wasRunning) problems.push(`litellmctl shutdown exited ${shutdown.code}: ${shutdown.stderr}`);
    await this.stopWorker();
    try {
      await waitUntil(() => processesMentioning(this.prefix).length === 0 &&
        [...this.knownPids].every((pid) => !isAlive(pid)), 'every process of the stack to exit');
    } catch {
      const left = processesMentioning(this.prefix).map((p) => `${p.pid} ${p.cmdline}`);
      const pids = [...this.knownPids].filter(isAlive);
      problems.push(`processes left after shutdown: ${JSON.stringify(left)} pids alive: ${JSON.stringify(pids)}`);
      for (const pid of new Set([...pids, ...left.map((l) => Number(l.split(' ')[0]))])) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
    if (await canConnect(this.port, this.host)) problems.push(`port ${this.port} still accepts connections after shutdown`);
    if (process.env.LITELLM_SANITIZER_LOGS === '1') {
      // Every responder of the prefix has exited by now (shutdown waits for
      // its drain), so LeakSanitizer's and memcheck's exit reports are written.
      const reports = sanitizerReports(this.logText('litellm-fcgi.log'));
      if (reports.length) {
        problems.push(`${reports.length} sanitizer report(s) in ${path.join(this.prefix, 'logs', 'litellm-fcgi.log')}:\n` +
          reports.join('\n---\n'));
      }
    }
    if (problems.length === 0) fs.rmSync(this.prefix, { recursive: true, force: true });
    else problems.push(`prefix kept for inspection: ${this.prefix}\n${this.logs()}`);
    this.prefix = null;
    if (problems.length) throw new Error(problems.join('\n'));
  }
}


/**
 * Writes a responder configuration file (`name = value` lines, what
 * `litellmctl --fcgi-config FILE` hands the responder as --config); an array
 * value repeats the name (limits-model, limits-key-model). Returns `file`.
 */
export function writeFcgiConfig(file, settings) {
  const lines = [];
  for (const [name, value] of Object.entries(settings)) {
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name} = ${one}`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/**
 * A real redis-server of the tests' own: loopback only, no persistence, on a
 * free port (kept across stop/start so that a responder finds it again).
 */
export class RedisServer {
  static binary() {
    const fromEnv = process.env.REDIS_SERVER;
    if (fromEnv) return fromEnv;
    for (const dir of (process.env.PATH || '').split(':').concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
      const candidate = path.join(dir || '.', 'redis-server');
      try { fs.accessSync(candidate, fs.constants.X_OK); return candidate; } catch { /* next */ }
    }
    return null;
  }

  constructor() {
    this.port = null;
    this.child = null;
    this.dir = null;
    this.output = '';
  }

  get url() { return `redis://127.0.0.1:${this.port}`; }

  async start() {
    const binary = RedisServer.binary();
    if (!binary) {
      throw new Error('redis-server is not installed: the limits tests start a real Redis ' +
        '(apt-get install redis-server; contrib/bootstrap.sh test installs it)');
    }
    this.port ??= await freePort();
    this.dir ??= makeTempDir('redis');
    const child = spawn(binary, [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--daemonize', 'no',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.setEncoding('utf8').on('data', (c) => { this.output = (this.output + c).slice(-4000); });
    child.stderr.setEncoding('utf8').on('data', (c) => { this.output = (this.output + c).slice(-4000); });
    child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    await waitUntil(async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited: ${this.output}`);
      return (await this.command('PING')).startsWith('+PONG');
    }, `redis-server to answer PING on ${this.port}`);
    return this;
  }

  /** Sends one inline command, resolves with the raw reply text. */
  command(line) {
    return withTimeout(new Promise((resolve, reject) => {
      const socket = net.connect({ port: this.port, host: '127.0.0.1' });
      let reply = '';
      socket.setEncoding('utf8');
      socket.on('connect', () => socket.write(`${line}\r\n`));
      socket.on('data', (c) => { reply += c; if (reply.includes('\r\n')) { socket.destroy(); resolve(reply); } });
      socket.on('error', reject);
      socket.on('close', () => resolve(reply));
    }), `redis ${line}`);
  }

  /** Stops the server (SIGKILL: as a crash would) and waits for it. */
  async stop(signal = 'SIGKILL') {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await withTimeout(child.exited, 'redis-server to exit');
  }

  async teardown() {
    await this.stop();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

/** Per-file setup: one stack for all tests of a file (node:test before/after). */
export function useStack(hooks, options) {
  const stack = new Stack();
  hooks.before(async () => { await stack.start(options); });
  hooks.after(async () => { await stack.teardown(); });
  return stack;
}

/**
 * Per-file setup for files that need several stacks: `count` stacks, started
 * in order before the first test and all torn down after the last (every
 * teardown runs; the first failure is thrown). `optionsOf({dir})` returns the
 * start() options of each stack (null: leave that one unstarted); `dir` is a
 * fresh temp directory (mode 0755, for configuration and state files) that is
 * removed after the teardowns. The stacks are constructed at once, so a
 * missing binary fails the file before any temp file exists.
 */
export function useStacks(hooks, count, optionsOf = () => [], { tag = 'stacks' } = {}) {
  const stacks = Array.from({ length: count }, () => new Stack());
  let dir = null;
  hooks.before(async () => {
    dir = makeTempDir(tag);
    fs.chmodSync(dir, 0o755);
    const options = await optionsOf({ dir });
    for (const [i, stack] of stacks.entries()) {
      if (options[i] !== null) await stack.start(options[i] ?? {});
    }
  });
  hooks.after(async () => {
    const failures = [];
    for (const stack of stacks) {
      try { await stack.teardown(); } catch (err) { failures.push(err); }
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (failures.length) throw failures[0];
  });
  return stacks;
}

/**
 * `count` stacks (useStacks) sharing one real redis-server, started before
 * them and stopped after them, whatever their teardown says:
 * `optionsOf({ dir, redis })` gives each stack's options. With `skip`
 * (LITELLM_SKIP_REDIS=1, say) nothing starts. Returns {redis, stacks}.
 */
export function useRedisStacks(hooks, count, optionsOf, { tag = 'redis', skip = false } = {}) {
  const redis = new RedisServer();
  const stopsRedis = (fn) => hooks.after(async () => {
    try { await fn(); } finally { await redis.teardown(); }
  });
  const stacks = useStacks({ before: hooks.before, after: stopsRedis }, count, async ({ dir }) => {
    if (skip) return Array(count).fill(null);
    await redis.start();
    return optionsOf({ dir, redis });
  }, { tag });
  return { redis, stacks };
}

export const tmpRoot = os.tmpdir();
