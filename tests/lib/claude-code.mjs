// claude-code.mjs: Claude Code (`@anthropic-ai/claude-code`, pinned below) for
// the tests that run it against the gateway: installed by the test itself,
// once, into a cache directory outside the repository (reused by later runs,
// keyed by version), never globally; and run SEALED: a temporary HOME, every
// proxy pointing at a closed loopback port (so any stray egress fails here,
// at once), non-essential traffic, telemetry and the auto-updater off.
//
//   const claude = await ensureClaudeCode();          // {dir, bin, version, installed}
//   const sealed = sealedClaude({ bin, baseUrl, token, cwd });
//   const { code, stdout, json } = await sealed.print('say hi', ['--allowedTools', 'Bash']);
//   sealed.cleanup();
//
// Cache: cache.mjs's (LITELLM_TOOLS_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/vscode-litellm-tests);
// the installed piece is claude-code-<version>/, stamped when complete.
// The package is ~400 MB (its native binary is an optional dependency,
// @anthropic-ai/claude-code-linux-x64): the first run takes a few minutes.
//
// What the sealed environment is made of, and why, comes from measuring 2.1.332
// on this machine (README "Use with Claude Code").

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installPinned } from './cache.mjs';
import { makeTempDir, run } from './procs.mjs';
import { sealedBaseEnv } from './sealed.mjs';

export const CLAUDE_CODE_VERSION = '2.1.332';
const PACKAGE = '@anthropic-ai/claude-code';

/**
 * Installs Claude Code CLAUDE_CODE_VERSION into the cache (or finds it there)
 * and checks `claude --version`. Resolves with {dir, bin, version, installed}.
 */
export async function ensureClaudeCode(version = CLAUDE_CODE_VERSION) {
  const { dir, installed } = await installPinned(`claude-code-${version}`, `${PACKAGE}@${version}`);
  const bin = path.join(dir, 'node_modules', '.bin', 'claude');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing after installing ${PACKAGE}@${version} (remove ${dir} to reinstall)`);
  const probe = await run(bin, ['--version'], { env: sealedEnv({ home: os.tmpdir(), baseUrl: 'http://127.0.0.1:9' }) });
  const printed = probe.stdout.trim();
  if (probe.code !== 0 || !printed.startsWith(version)) {
    throw new Error(`${bin} --version printed ${JSON.stringify(printed)} (exit ${probe.code}), not ${version}: ${probe.stderr.slice(-1000)}`);
  }
  return { dir, bin, version: printed, installed };
}

/**
 * The whole environment of a sealed run (sealed.mjs): the gateway as ANTHROPIC_BASE_URL (no /v1:
 * the client adds it), the token as ANTHROPIC_AUTH_TOKEN (sent as
 * `Authorization: Bearer`) or ANTHROPIC_API_KEY (`x-api-key`).
 */
export function sealedEnv({ home, baseUrl, token, apiKey, extra = {} }) {
  const env = {
    ...sealedBaseEnv(home),
    ANTHROPIC_BASE_URL: baseUrl,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    CI: '1',
    ...extra,
  };
  if (token !== undefined) env.ANTHROPIC_AUTH_TOKEN = token;
  if (apiKey !== undefined) env.ANTHROPIC_API_KEY = apiKey;
  return env;
}

/**
 * A sealed Claude Code for one test: its own HOME and working directory
 * (temp), print(prompt, args) runs `claude -p PROMPT --output-format json
 * ...args` there and parses the JSON it printed; cleanup() removes both.
 */
export function sealedClaude({ bin, baseUrl, token, apiKey, extra, timeout = 180_000 }) {
  const home = makeTempDir('cc-home');
  const cwd = makeTempDir('cc-work');
  const env = sealedEnv({ home, baseUrl, token, apiKey, extra });
  return {
    home,
    cwd,
    env,
    async print(prompt, args = []) {
      const result = await run(bin, ['-p', prompt, '--output-format', 'json', ...args], { env, cwd, timeout });
      let json;
      try { json = JSON.parse(result.stdout.trim().split('\n').at(-1)); } catch { json = undefined; }
      return { ...result, json };
    },
    cleanup() {
      fs.rmSync(home, { recursive: true, force: true });
      fs.rmSync(cwd, { recursive: true, force: true });
    },
  };
}
