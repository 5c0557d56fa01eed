// processes.mjs: running commands, and ending what the e2e started by PID.
//
// Everything the harness starts is a descendant of this process (code-server
// and its extension hosts and language servers, chromium and its helpers),
// except what daemonizes: nginx and litellm-fcgi, which litellmctl starts in
// the test's prefix; those end with `litellmctl shutdown` and are then looked
// for by the prefix in their command line. Descendants are collected before
// anything is signalled, since a child whose parent dies is re-parented and
// cannot be found by walking the tree afterwards.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The process table: pid -> { ppid, state, cmdline }. */
function processTable() {
  const table = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      let cmdline = '';
      try {
        cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      } catch { /* gone */ }
      table.set(Number(entry), { ppid: Number(fields[1]), state: fields[0], cmdline });
    } catch { /* gone */ }
  }
  return table;
}

/** Is `pid` alive and not a zombie? */
export function isAlive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Every live descendant of `pid` (children first discovered, then theirs). */
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

/** Live processes whose command line mentions `text` (not this process). */
export function processesMentioning(text) {
  const found = [];
  for (const [pid, info] of processTable()) {
    if (pid === process.pid || info.state === 'Z') continue;
    if (info.cmdline.includes(text)) found.push({ pid, cmdline: info.cmdline });
  }
  return found;
}

/**
 * Ends `pids` (numbers): SIGTERM, up to `graceMs` to exit, then SIGKILL.
 * Returns the pids that had to be killed.
 */
export async function endProcesses(pids, graceMs = 5000) {
  const targets = pids.filter((pid) => pid !== process.pid && isAlive(pid));
  for (const pid of targets) {
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && targets.some(isAlive)) await sleep(50);
  const killed = targets.filter(isAlive);
  for (const pid of killed) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  const killDeadline = Date.now() + 5000;
  while (Date.now() < killDeadline && killed.some(isAlive)) await sleep(50);
  return killed;
}

/** Ends `pid` and all its descendants (collected first). */
export async function endTree(pid, graceMs = 5000) {
  const tree = [pid, ...descendants(pid).map((p) => p.pid)];
  return endProcesses(tree, graceMs);
}

/**
 * Runs a command to completion. Resolves {code, stdout, stderr}; rejects
 * when it cannot start, runs over `timeoutMs` (its tree is ended), or (with
 * `check`, the default) exits non-zero, with the end of its output.
 */
export function run(command, args, { env = process.env, cwd, timeoutMs = 600_000, check = true, logFile, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const log = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : null;
    log?.write(`$ ${command} ${args.join(' ')}\n`);
    child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; log?.write(chunk); });
    child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; log?.write(chunk); });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void endTree(child.pid, 2000);
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      log?.end();
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      log?.end();
      const what = `${path.basename(command)} ${args.join(' ')}`;
      if (timedOut) {
        reject(new Error(`${what} did not finish within ${timeoutMs / 1000} s\n${tail(stdout + stderr)}`));
      } else if (check && code !== 0) {
        reject(new Error(`${what} failed (${signal ?? `exit ${code}`})\n${tail(stdout + stderr)}`));
      } else {
        resolve({ code, signal, stdout, stderr });
      }
    });
  });
}

export function tail(text, lines = 40) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
