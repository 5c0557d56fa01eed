// processes.mjs: the e2e test's view of tests/lib/procs.mjs (shared with the
// integration tests, the bench and the worker's tests).
//
// Everything the harness starts is a descendant of this process (code-server
// and its extension hosts and language servers, chromium and its helpers),
// except what daemonizes: nginx and litellm-fcgi, which litellmctl starts in
// the test's prefix; those end with `litellmctl shutdown` and are then looked
// for by the run's temp directory. code-server runs in a session of its own
// (codeServer.mjs), so that a helper it re-parents is still found.

import { run as runCommand } from '../../lib/procs.mjs';

export {
  descendants, endAll, endProcesses, endTree, isAlive, processesMentioning, sessionMembers, tail, waitUntil,
  freePort, canConnect, withTimeout,
} from '../../lib/procs.mjs';

/**
 * Runs a command to completion. Resolves {code, stdout, stderr}; rejects
 * when it cannot start, runs over `timeoutMs` (its tree is ended), or (with
 * `check`, the default) exits non-zero, with the end of its output.
 */
export function run(command, args, { timeoutMs = 600_000, check = true, ...options } = {}) {
  return runCommand(command, args, { ...options, timeout: timeoutMs, check });
}
