// procs.mjs: bounds, waits, free ports, running commands, and what /proc says
// about processes (alive, children, descendants, sessions, who names a
// directory), and ending them: SIGTERM, a bounded grace, SIGKILL, and then
// WAITING until they are gone, so that nothing judges leftovers too early.
// Shared by the integration tests, the e2e test, the bench and the worker's
// own tests. No timing is measured: every bound here is a failure guard.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

// LITELLM_GUARD_SCALE multiplies every bound below, for a responder that runs
// many times slower than usual (`make check-valgrind` sets it).
export const GUARD_SCALE = Math.max(1, Number(process.env.LITELLM_GUARD_SCALE) || 1);
export const GUARD_MS = 10_000 * GUARD_SCALE;       // generous bound for things that should happen "now"
export const COMMAND_GUARD_MS = 60_000 * GUARD_SCALE; // bound for a litellmctl command

/** Tests that take minutes run only with LITELLM_LONG_TESTS=1 (`{ skip: longTestsSkip }`). */
export const LONG_TESTS = process.env.LITELLM_LONG_TESTS === '1';
export const longTestsSkip = LONG_TESTS ? false : 'long: set LITELLM_LONG_TESTS=1';

/** Rejects with "timed out after … waiting for `what`" unless `promise` settles within `ms`. */
export function withTimeout(promise, what, ms = GUARD_MS) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` (a state the test waits for: a port open, a process gone)
 * until it returns a truthy value; fails after `ms`. Returns that value.
 */
export async function waitUntil(probe, what, ms = GUARD_MS, intervalMs = 50) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await pause(intervalMs);
  }
}

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Does anything accept TCP connections on host:port right now? */
export function canConnect(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Runs a command to completion: {code, signal, stdout, stderr}. Bounded by
 * `timeout` (its process tree is ended, and the promise rejects). Options:
 * env, cwd, input (stdin text), check (reject on a non-zero exit, with the end
 * of the output), logFile (append the command line and its output).
 */
export function run(command, args, { env = process.env, cwd, input, timeout = COMMAND_GUARD_MS, check = false, logFile } = {}) {
  const what = `${path.basename(command)} ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const log = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : null;
    log?.write(`$ ${command} ${args.join(' ')}\n`);
    child.stdout.setEncoding('utf8').on('data', (c) => { stdout += c; log?.write(c); });
    child.stderr.setEncoding('utf8').on('data', (c) => { stderr += c; log?.write(c); });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void endTree(child.pid, 2000);
    }, timeout);
    child.on('error', (err) => {
      clearTimeout(timer);
      log?.end();
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      log?.end();
      if (timedOut) reject(new Error(`timed out after ${timeout} ms waiting for ${what}\n${tail(stdout + stderr)}`));
      else if (check && code !== 0) reject(new Error(`${what} failed (${signal ?? `exit ${code}`})\n${tail(stdout + stderr)}`));
      else resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The last `lines` lines of a text. */
export function tail(text, lines = 40) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** A word for /bin/sh, single-quoted. */
export function shellQuote(text) {
  return `'${String(text).replace(/'/g, `'\\''`)}'`;
}

/** A fresh temp directory under /tmp (short, for sockets); removed by the caller. */
export function makeTempDir(tag = 'lt') {
  return fs.mkdtempSync(path.join('/tmp', `${tag}-`));
}

// ---------------------------------------------------------------- /proc

/** /proc/PID/stat's fields after the command name: [state, ppid, pgrp, session, ...], or null. */
function statFields(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function cmdlineOf(pid) {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim(); } catch { return ''; }
}

/** The process table: pid -> {ppid, pgrp, session, state, cmdline}. */
export function processTable() {
  const table = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (!fields) continue;
    table.set(Number(entry), {
      state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]), session: Number(fields[3]), cmdline: cmdlineOf(entry),
    });
  }
  return table;
}

/** Is a process with this pid alive (and not a zombie)? */
export function isAlive(pid) {
  if (!pid) return false;
  const fields = statFields(pid);
  return fields !== null && fields[0] !== 'Z' && fields[0] !== 'X';
}

/** Children of `pid` (by /proc/N/stat ppid). */
export function childrenOf(pid) {
  const children = [];
  for (const [child, info] of processTable()) if (info.ppid === pid) children.push(child);
  return children;
}

/** Every live descendant of `pid`: [{pid, cmdline}]. */
export function descendants(pid) {
  const table = processTable();
  const children = new Map();
  for (const [child, info] of table) {
    if (!children.has(info.ppid)) children.set(info.ppid, []);
    children.get(info.ppid).push(child);
  }
  const found = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift();
    const info = table.get(next);
    if (info && info.state !== 'Z') found.push({ pid: next, cmdline: info.cmdline });
    queue.push(...(children.get(next) ?? []));
  }
  return found;
}

/**
 * Live processes of the session or process group led by `leader` (a child
 * spawned with `detached: true` leads both): they stay members after their
 * parent dies and they are re-parented, which walking the tree cannot see.
 */
export function sessionMembers(leader) {
  const found = [];
  for (const [pid, info] of processTable()) {
    if (pid === process.pid || info.state === 'Z') continue;
    if (info.session === leader || info.pgrp === leader) found.push({ pid, cmdline: info.cmdline });
  }
  return found;
}

/**
 * Live processes (not this one) whose command line mentions `text`, or whose
 * working directory is under it, or (with `environ: true`) whose environment
 * mentions it (HOME, TMPDIR... of a private run directory).
 */
export function processesMentioning(text, { environ = false } = {}) {
  const found = [];
  for (const [pid, info] of processTable()) {
    if (pid === process.pid || info.state === 'Z' || info.state === 'X') continue;
    let hit = info.cmdline.includes(text);
    if (!hit) {
      try { hit = fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(text); } catch { /* gone or not ours */ }
    }
    if (!hit && environ) {
      try { hit = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').includes(text); } catch { /* gone or not ours */ }
    }
    if (hit) found.push({ pid, cmdline: info.cmdline });
  }
  return found;
}

/**
 * Ends `pids`: SIGTERM, up to `graceMs` for them to exit, then SIGKILL, and
 * waits until every one is gone (a process that outlives SIGKILL for
 * `GUARD_MS` is reported). Returns the pids that needed SIGKILL.
 */
export async function endProcesses(pids, graceMs = 5000) {
  const targets = [...new Set(pids)].filter((pid) => pid !== process.pid && isAlive(pid));
  for (const pid of targets) {
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  }
  await waitUntil(() => !targets.some(isAlive), 'processes to exit after SIGTERM', graceMs).catch(() => {});
  const killed = targets.filter(isAlive);
  for (const pid of killed) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  await waitUntil(() => !killed.some(isAlive), `pids ${killed.join(' ')} to be gone after SIGKILL`);
  return killed;
}

/** Ends `pid` and all its descendants (collected before any is signalled). */
export async function endTree(pid, graceMs = 5000) {
  return endProcesses([pid, ...descendants(pid).map((p) => p.pid)], graceMs);
}

/**
 * Ends everything `find()` returns ([{pid}]), over and over, until it returns
 * nothing: what a dying parent spawns, or re-parents, in the meantime is
 * found on the next round. Returns every process it had to end.
 */
export async function endAll(find, what, graceMs = 5000) {
  const ended = new Map();
  await waitUntil(async () => {
    const found = find().filter((p) => p.pid !== process.pid);
    if (found.length === 0) return true;
    for (const p of found) ended.set(p.pid, p);
    await endProcesses(found.map((p) => p.pid), graceMs);
    return false;
  }, `every process of ${what} to be gone`, Math.max(GUARD_MS, 4 * graceMs), 0);
  return [...ended.values()];
}

/**
 * What /proc says about a process: {threads, fds, rssKiB} (Threads and VmRSS
 * of /proc/PID/status, entries of /proc/PID/fd).
 */
export function procStats(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => {
    const match = status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm'));
    if (!match) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(match[1]);
  };
  return { threads: field('Threads'), fds: fs.readdirSync(`/proc/${pid}/fd`).length, rssKiB: field('VmRSS') };
}

/** How many open file descriptors of `pid` are sockets (a FastCGI connection the responder accepted is one). */
export function socketFdCount(pid) {
  let count = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) count++;
    } catch { /* closed meanwhile */ }
  }
  return count;
}

/**
 * The lines of a responder's log that are sanitizer or memcheck reports:
 * AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer errors
 * (`make check-asan`), valgrind's non-zero ERROR SUMMARY and lost blocks
 * (`make check-valgrind`). Each report comes with the lines after it.
 */
export function sanitizerReports(text) {
  const lines = text.split('\n');
  const reports = [];
  const bad = [
    /ERROR: AddressSanitizer/, /LeakSanitizer/, /runtime error:/, /SUMMARY: UndefinedBehaviorSanitizer/,
    /==\d+== ERROR SUMMARY: [1-9]/, /==\d+==\s+definitely lost: [1-9]/,
  ];
  for (let i = 0; i < lines.length; i++) {
    if (bad.some((re) => re.test(lines[i]))) {
      reports.push(lines.slice(i, i + 40).join('\n'));
      i += 39;
    }
  }
  return reports;
}
