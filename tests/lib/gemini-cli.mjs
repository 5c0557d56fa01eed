// gemini-cli.mjs: Gemini CLI (`@google/gemini-cli`, pinned below) for the
// tests that run it against the gateway: installed by the test itself, once,
// into a cache directory outside the repository (keyed by version, reused by
// later runs and then needing no network), never globally; and run SEALED and
// headless: a temporary HOME whose ~/.gemini/settings.json pins the auth type
// (without it a set GOOGLE_GEMINI_BASE_URL makes `gemini -p` exit 41, "Invalid
// auth method selected") and turns usage statistics, telemetry and the
// auto-updater off; every proxy pointing at a closed loopback port (stray
// egress fails here, at once); the workspace trusted (--skip-trust, else exit
// 55); no self-relaunch (GEMINI_CLI_NO_RELAUNCH).
//
//   const cli = await ensureGeminiCli();            // {dir, bin, version, installed}
//   const sealed = sealedGemini({ bin: cli.bin, baseUrl, apiKey });
//   const { code, stdout, stderr, json, errorJson } = await sealed.prompt('say hi', ['-m', 'gpt-4o']);
//   sealed.cleanup();
//
// Cache: cache.mjs's (LITELLM_TOOLS_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/vscode-litellm-tests);
// the installed piece is gemini-cli-<version>/, stamped when complete. The
// package is one esbuild bundle (with its own copy of @google/genai 1.30.0).
//
// The recipe, and what 0.61.0 sends, come from measuring it on this machine
// (README.md, "Use with Gemini CLI" and "What Gemini CLI does with each answer").

import fs from 'node:fs';
import path from 'node:path';
import { installPinned } from './cache.mjs';
import { makeTempDir, run } from './procs.mjs';
import { DEAD_PROXY, sealedBaseEnv } from './sealed.mjs';

export const GEMINI_CLI_VERSION = '0.61.0';
const PACKAGE = '@google/gemini-cli';

/**
 * ~/.gemini/settings.json of a sealed run: the API-key auth type pinned (the
 * only way a headless run honours GOOGLE_GEMINI_BASE_URL), nothing reported,
 * no update check. `extra` is merged in at the top level.
 */
export function sealedSettings(extra = {}) {
  return {
    security: { auth: { selectedType: 'gemini-api-key' } },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    ...extra,
  };
}

/**
 * The whole environment of a sealed run (sealed.mjs): the gateway as
 * GOOGLE_GEMINI_BASE_URL (no /v1beta: the SDK adds it), the key as
 * GEMINI_API_KEY (sent as x-goog-api-key).
 */
export function sealedEnv({ home, baseUrl, apiKey = 'unused', extra = {} }) {
  return {
    ...sealedBaseEnv(home),
    // The CLI writes gemini-client-error-*.json into the OS temp dir on every API error.
    TMPDIR: path.join(home, 'tmp'),
    TERM: 'dumb',
    SHELL: '/bin/bash',
    NO_COLOR: '1',
    GOOGLE_GEMINI_BASE_URL: baseUrl,
    GEMINI_API_KEY: apiKey,
    GEMINI_CLI_NO_RELAUNCH: 'true',
    ...extra,
  };
}

/** Makes a sealed HOME: HOME/.gemini/settings.json, HOME/tmp, HOME/work (the workspace). */
function makeSealedHome(settings) {
  const home = makeTempDir('gemini-home');
  fs.mkdirSync(path.join(home, '.gemini'));
  fs.mkdirSync(path.join(home, 'tmp'));
  fs.mkdirSync(path.join(home, 'work'));
  fs.writeFileSync(path.join(home, '.gemini', 'settings.json'), JSON.stringify(settings, null, 2));
  return home;
}

/**
 * Installs Gemini CLI GEMINI_CLI_VERSION into the cache (or finds it there)
 * and checks `gemini --version` (sealed). Resolves with {dir, bin, version, installed}.
 */
export async function ensureGeminiCli(version = GEMINI_CLI_VERSION) {
  const { dir, installed } = await installPinned(`gemini-cli-${version}`, `${PACKAGE}@${version}`);
  const bin = path.join(dir, 'node_modules', '.bin', 'gemini');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing after installing ${PACKAGE}@${version} (remove ${dir} to reinstall)`);
  const home = makeSealedHome(sealedSettings());
  try {
    const probe = await run(bin, ['--version'], { env: sealedEnv({ home, baseUrl: DEAD_PROXY }), cwd: path.join(home, 'work') });
    const printed = probe.stdout.trim();
    if (probe.code !== 0 || printed !== version) {
      throw new Error(`${bin} --version printed ${JSON.stringify(printed)} (exit ${probe.code}), not ${version}: ${probe.stderr.slice(-1000)}`);
    }
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
  return { dir, bin, version, installed };
}

/** The last JSON object a text holds on a line of its own, or the whole text parsed; undefined if none. */
function lastJson(text) {
  const trimmed = text.trim();
  try { return JSON.parse(trimmed); } catch { /* mixed with other output */ }
  const start = trimmed.lastIndexOf('\n{');
  if (start < 0) return undefined;
  try { return JSON.parse(trimmed.slice(start + 1)); } catch { return undefined; }
}

/**
 * A sealed Gemini CLI for one test: its own HOME (settings.json from
 * sealedSettings(settings)) and working directory HOME/work (trusted with
 * --skip-trust). prompt(text, args) runs `gemini -p TEXT -o json --skip-trust
 * ...args` there, bounded by `timeout` (its process tree is ended), and parses
 * what it printed: `json` (stdout: {session_id, response, stats}) and
 * `errorJson` (stderr: {session_id, error: {type, message, code}}).
 * cleanup() removes the home.
 */
export function sealedGemini({ bin, baseUrl, apiKey, settings = {}, extraEnv = {}, timeout = 180_000 }) {
  const home = makeSealedHome(sealedSettings(settings));
  const cwd = path.join(home, 'work');
  const env = sealedEnv({ home, baseUrl, apiKey, extra: extraEnv });
  return {
    home,
    cwd,
    env,
    async prompt(text, args = []) {
      const result = await run(bin, ['-p', text, '-o', 'json', '--skip-trust', ...args], { env, cwd, timeout });
      return { ...result, json: lastJson(result.stdout), errorJson: lastJson(result.stderr) };
    },
    cleanup() {
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
