// chromium.mjs: Debian's headless chromium driven by playwright-core (no
// browser download), with a private HOME so that every process it starts can
// be found and none is left behind. Used by browser.test.mjs and
// status-page.test.mjs.
//
// chromium: /usr/bin/chromium (`contrib/bootstrap.sh test` installs it), or
// LITELLM_CHROMIUM. Missing, the caller fails (never a skip).

import fs from 'node:fs';
import path from 'node:path';
import playwright from 'playwright-core';
import { childrenOf, descendants, endProcesses, isAlive, processesMentioning, sessionMembers, waitUntil, withTimeout } from './procs.mjs';

export const CHROMIUM = process.env.LITELLM_CHROMIUM || '/usr/bin/chromium';

export function requireChromium(who) {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: ${who} drives a real chromium ` +
      '(Debian: apt-get install chromium; `contrib/bootstrap.sh test` installs it; or set LITELLM_CHROMIUM)');
  }
}

/** Launches chromium with its HOME under `home`; returns {browser, close()}, close() failing if a process is left. */
export async function launchChromium(home, { who = 'this test', args = [] } = {}) {
  requireChromium(who);
  // A HOME of its own: chromium's profile data and crash database stay out of
  // the user's, and every process it starts can be found by it.
  const before = new Set(childrenOf(process.pid));
  fs.mkdirSync(path.join(home, 'tmp'), { recursive: true });
  const browser = await playwright.chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    env: {
      ...process.env, HOME: home, TMPDIR: path.join(home, 'tmp'),
      XDG_CONFIG_HOME: path.join(home, '.config'), XDG_CACHE_HOME: path.join(home, '.cache'),
    },
    args: ['--no-sandbox', '--disable-dev-shm-usage', ...args],
  });
  // playwright spawns chromium detached: it leads a session of its own.
  const started = childrenOf(process.pid).filter((pid) => !before.has(pid));
  if (started.length !== 1) {
    await browser.close();
    throw new Error(`expected one chromium child process, found ${JSON.stringify(started)}`);
  }
  const leader = started[0];
  // Its tree, its session, and whatever has the private HOME in its
  // environment or command line (crashpad's handlers double-fork out of
  // both, into sessions of their own).
  const processes = () => {
    const found = new Map();
    if (isAlive(leader)) found.set(leader, { pid: leader });
    for (const p of [...descendants(leader), ...sessionMembers(leader)]) found.set(p.pid, p);
    for (const p of processesMentioning(home, { environ: true })) found.set(p.pid, p);
    return [...found.values()];
  };
  return {
    browser,
    async close() {
      const problems = [];
      await withTimeout(browser.close(), 'chromium to close').catch((err) => problems.push(err.message));
      try {
        await waitUntil(() => processes().length === 0, 'every chromium process to exit');
      } catch {
        const left = processes();
        problems.push(`chromium processes left after close: ${left.map((p) => `${p.pid} ${p.cmdline ?? ''}`).join('; ')}`);
        await endProcesses(left.map((p) => p.pid));
      }
      if (problems.length) throw new Error(problems.join('\n'));
    },
  };
}
