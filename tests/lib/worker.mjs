// worker.mjs: the pipe test worker (tests/worker/test-worker.mjs) as a child
// process: its JSON-line events, waits on them, and its stdin commands.

import { spawn } from 'node:child_process';
import { GUARD_MS, withTimeout } from './procs.mjs';
import { splitLines } from './pipe.mjs';

export class TestWorker {
  constructor(workerPath, args) {
    this.events = [];
    this.waiters = new Set();
    this.exit = undefined;
    this.stderr = '';
    this.child = spawn(process.execPath, [workerPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.pid = this.child.pid;
    splitLines(this.child.stdout, (line) => {
      try { this.events.push(JSON.parse(line)); } catch { this.events.push({ event: 'unparsed', line }); }
      this.wake();
    });
    this.child.stderr.setEncoding('utf8').on('data', (c) => { this.stderr += c; });
    this.child.stdin.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => { // 'close': after the last line of stdout
        this.exit = { code, signal };
        this.wake();
        resolve(this.exit);
      });
    });
  }
  wake() { for (const w of [...this.waiters]) w(); }
  command(line) { this.child.stdin.write(line + '\n'); }
  /** Waits for the first event matching `predicate`. */
  waitEvent(predicate, what, ms = GUARD_MS) {
    return withTimeout(new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(predicate);
        if (found) { this.waiters.delete(check); resolve(found); } else if (this.exit) {
          this.waiters.delete(check);
          reject(new Error(`test worker exited ${JSON.stringify(this.exit)} before ${what}; stderr: ${this.stderr}`));
        }
      };
      this.waiters.add(check);
      check();
    }), what, ms);
  }
  /** The request event whose last user message contains `marker` (use a unique nonce). */
  waitRequest(marker, ms = GUARD_MS) {
    return this.waitEvent((e) => e.event === 'request' && JSON.stringify(lastUser(e.messages)).includes(marker),
      `a request frame carrying ${JSON.stringify(marker)}`, ms);
  }
  has(predicate) { return this.events.some(predicate); }
  async stop() {
    if (!this.exit) {
      this.child.kill('SIGTERM');
      try {
        await withTimeout(this.exited, 'the test worker to exit');
      } catch {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    }
    return this.exit;
  }
}

function lastUser(messages) {
  if (!Array.isArray(messages)) return null;
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === 'user') return messages[i];
  return null;
}

let nonceCounter = 0;
/** A marker unique within this run, to find one request among the worker's events. */
export function nonce(tag = 'n') {
  return `${tag}-${process.pid}-${++nonceCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

