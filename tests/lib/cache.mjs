// cache.mjs: pinned tools installed by the tests themselves, once, into a
// cache directory outside the repository, keyed by version and reused by
// later runs (which then need no network); never globally. Used by
// claude-code.mjs and codex.mjs, and by the e2e's setup (tests/e2e/lib/setup.mjs,
// its own cache and stamp).
//
//   const { dir, installed } = await installPinned('codex-0.171.0', '@openai/codex@0.171.0');
//
// Cache: LITELLM_TOOLS_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/vscode-litellm-tests.
// Each cached piece is a directory with a stamp file written last: a piece
// without its stamp (an interrupted install) is removed and installed again.
// npm's own cache goes into the cache directory too, so nothing is written to
// the user's ~/.npm; its output goes to install.log there.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from './procs.mjs';

const STAMP = '.tests-installed';
const INSTALL_TIMEOUT_MS = 1_200_000;

export function toolsCacheRoot() {
  if (process.env.LITELLM_TOOLS_CACHE) return path.resolve(process.env.LITELLM_TOOLS_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'vscode-litellm-tests');
}

/** Runs `install(dir)` unless `dir` carries the stamp; writes it after. */
export async function cachedDir(dir, install, stamp = STAMP) {
  if (fs.existsSync(path.join(dir, stamp))) return { dir, installed: false };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  await install(dir);
  fs.writeFileSync(path.join(dir, stamp), `${new Date().toISOString()}\n`);
  return { dir, installed: true };
}

/** npm's environment: its cache in `cache`, quiet (no update notice, funding or audit); `extra` on top. */
export function npmEnv(cache, extra = {}) {
  return {
    ...process.env,
    npm_config_cache: path.join(cache, 'npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...extra,
  };
}

/**
 * `npm install --prefix DIR --no-save --no-package-lock SPEC` into the tools
 * cache's directory `name` (or finds it there). `env` is added to
 * npm's; `check(dir, logFile)`, run after npm, may throw to leave the piece
 * unstamped. Resolves with {dir, installed}.
 */
export async function installPinned(name, spec, { env = {}, check } = {}) {
  const cache = toolsCacheRoot();
  fs.mkdirSync(cache, { recursive: true });
  const logFile = path.join(cache, 'install.log');
  return cachedDir(path.join(cache, name), async (target) => {
    const result = await run('npm', ['install', '--prefix', target, '--no-save', '--no-package-lock', spec], {
      env: npmEnv(cache, env), logFile, timeout: INSTALL_TIMEOUT_MS,
    });
    if (result.code !== 0) throw new Error(`npm install ${spec} failed (exit ${result.code}); see ${logFile}\n${result.stderr.slice(-2000)}`);
    await check?.(target, logFile);
  });
}
