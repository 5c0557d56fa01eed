// codex.mjs: Codex CLI (`@openai/codex`, pinned below) for the tests that run
// it against the gateway: installed by the test itself, once, into a cache
// directory outside the repository (keyed by version, reused by later runs and
// then needing no network), never globally; and run SEALED: a temporary HOME
// and CODEX_HOME whose config.toml is the README's provider block, every proxy
// pointing at a closed loopback port (stray egress fails here, at once),
// analytics off, --strict-config (a key this version does not know fails).
//
//   const codex = await ensureCodex();            // {dir, bin, version, installed}
//   const sealed = sealedCodex({ bin: codex.bin, config, apiKey });
//   const { code, stdout, stderr, lastMessage } = await sealed.exec('say hi');
//   sealed.cleanup();
//   const recorder = await recordingProxy(stack.port);   // what Codex sent, what it got
//
// Cache: cache.mjs's (LITELLM_TOOLS_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/vscode-litellm-tests);
// the installed piece is codex-<version>/, stamped when complete. The
// npm package is a small node launcher; the program is a native binary in the
// optional dependency @openai/codex-linux-x64 (an alias of
// @openai/codex@<version>-linux-x64, ~420 MB), which npm installs in the same
// step: ensureCodex checks that it is there (an optional dependency that
// failed is skipped by npm without an error) and that `codex --version` runs
// with the network sealed. The first run takes about 20 s to a few minutes.
//
// What the sealed run is made of, and what 0.171.0 sends, comes from measuring
// it on this machine (README "Use with Codex CLI").

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { installPinned } from './cache.mjs';
import { freePort, makeTempDir, run } from './procs.mjs';
import { sealedBaseEnv } from './sealed.mjs';
import { responseValidator } from './spec-guard.mjs';

export const CODEX_VERSION = '0.171.0';
const PACKAGE = '@openai/codex';
/** The platform packages the launcher looks for (bin/codex.js), by node's platform-arch. */
const PLATFORM_PACKAGES = {
  'linux-x64': ['@openai/codex-linux-x64', 'x86_64-unknown-linux-musl'],
  'linux-arm64': ['@openai/codex-linux-arm64', 'aarch64-unknown-linux-musl'],
};

/**
 * Installs Codex CODEX_VERSION into the cache (or finds it there), checks its
 * native binary and `codex --version` (sealed). Resolves with {dir, bin, binary, version, installed}.
 */
export async function ensureCodex(version = CODEX_VERSION) {
  const platform = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`];
  if (!platform) throw new Error(`Codex tests: no ${PACKAGE} binary package for ${process.platform}-${process.arch}`);
  const { dir, installed } = await installPinned(`codex-${version}`, `${PACKAGE}@${version}`, {
    env: { npm_config_optional: 'true' }, // the binary is an optional dependency
    check(target, logFile) {
      const binary = path.join(target, 'node_modules', platform[0], 'vendor', platform[1], 'bin', 'codex');
      if (!fs.existsSync(binary)) {
        throw new Error(`npm installed ${PACKAGE}@${version} without its binary package ${platform[0]} (${binary} missing); see ${logFile}`);
      }
    },
  });
  const bin = path.join(dir, 'node_modules', '.bin', 'codex');
  const binary = path.join(dir, 'node_modules', platform[0], 'vendor', platform[1], 'bin', 'codex');
  for (const file of [bin, binary]) {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing in the cached ${PACKAGE}@${version} (remove ${dir} to reinstall)`);
  }
  const home = makeTempDir('codex-v');
  try {
    const probe = await run(bin, ['--version'], { env: sealedEnv({ home, codexHome: home }) });
    const printed = probe.stdout.trim();
    if (probe.code !== 0 || printed !== `codex-cli ${version}`) {
      throw new Error(`${bin} --version printed ${JSON.stringify(printed)} (exit ${probe.code}), not codex-cli ${version}: ${probe.stderr.slice(-1000)}`);
    }
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
  return { dir, bin, binary, version, installed };
}

/** The whole environment of a sealed run (sealed.mjs), CODEX_HOME its own. */
export function sealedEnv({ home, codexHome, extra = {} }) {
  return {
    ...sealedBaseEnv(home),
    CODEX_HOME: codexHome,
    NO_COLOR: '1',
    ...extra,
  };
}

/** Settings of the tests' own, appended to the README's block: no analytics. */
const SEALING_CONFIG = '\n# added by the tests: nothing leaves the machine\n[analytics]\nenabled = false\n';

/**
 * A sealed Codex for one test: HOME, CODEX_HOME (config.toml = `config`, the
 * README's provider block, plus SEALING_CONFIG) and the working directory are
 * fresh temp directories; the API key is in the env variable the block names
 * (`envKey`). exec(prompt, args) runs `codex exec --strict-config
 * --skip-git-repo-check --ephemeral --color never -o LAST ...args PROMPT`
 * there; cleanup() removes the directories.
 */
export function sealedCodex({ bin, config, envKey = 'LITELLM_API_KEY', apiKey = 'unused', extraEnv = {}, timeout = 180_000 }) {
  const home = makeTempDir('codex-home');
  const codexHome = path.join(home, '.codex');
  const cwd = path.join(home, 'work');
  fs.mkdirSync(codexHome);
  fs.mkdirSync(cwd);
  fs.writeFileSync(path.join(codexHome, 'config.toml'), config + SEALING_CONFIG);
  const env = sealedEnv({ home, codexHome, extra: { [envKey]: apiKey, ...extraEnv } });
  let runs = 0;
  return {
    home,
    codexHome,
    cwd,
    env,
    async exec(prompt, args = []) {
      const last = path.join(home, `last-message-${++runs}.txt`);
      const result = await run(bin, ['exec', '--strict-config', '--skip-git-repo-check', '--ephemeral', '--color', 'never',
        '-o', last, ...args, prompt], { env, cwd, timeout });
      let lastMessage = null;
      try { lastMessage = fs.readFileSync(last, 'utf8'); } catch { /* none written */ }
      return { ...result, lastMessage };
    },
    cleanup() {
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * A transparent recorder between Codex and the gateway (nginx on
 * 127.0.0.1:targetPort): every request is forwarded as it came (method,
 * path, headers, body) and its response streamed back as it comes; each
 * exchange is recorded as {method, url, headers, body (parsed JSON or the
 * text), status, responseHeaders, responseText}. So a test sees exactly what
 * Codex sent and what the gateway answered, and counts Codex's requests. What
 * the gateway answered is validated like every response of the suite
 * (spec-guard.mjs: a violation fails the running test).
 */
export async function recordingProxy(targetPort, targetHost = '127.0.0.1') {
  const exchanges = [];
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body = raw.toString('utf8');
      try { body = JSON.parse(body); } catch { /* kept as text */ }
      const exchange = { method: req.method, url: req.url, headers: req.headers, body, status: null, responseHeaders: null, responseText: '', done: false };
      exchanges.push(exchange);
      const upstream = http.request({
        host: targetHost, port: targetPort, method: req.method, path: req.url, agent: false,
        headers: { ...req.headers, host: `${targetHost}:${targetPort}`, 'content-length': String(raw.length) },
      }, (answer) => {
        exchange.status = answer.statusCode;
        exchange.responseHeaders = answer.headers;
        const validator = responseValidator({
          method: req.method, path: req.url, status: answer.statusCode, contentType: answer.headers['content-type'] ?? '',
        });
        const decoder = new TextDecoder();
        res.writeHead(answer.statusCode, answer.headers);
        answer.on('data', (c) => {
          const text = decoder.decode(c, { stream: true });
          exchange.responseText += text;
          validator.push(text);
          res.write(c);
        });
        answer.on('end', () => {
          const text = decoder.decode();
          exchange.responseText += text;
          validator.push(text);
          validator.end(true);
          exchange.done = true;
          res.end();
        });
        answer.on('error', () => { validator.end(false); res.destroy(); });
      });
      upstream.on('error', (err) => {
        exchange.status = 599;
        exchange.responseText = `recordingProxy: ${err.message}`;
        exchange.done = true;
        res.destroy();
      });
      res.on('close', () => upstream.destroy());
      upstream.end(raw);
    });
  });
  server.on('connection', (socket) => { sockets.add(socket); socket.on('close', () => sockets.delete(socket)); });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    exchanges,
    /** The exchanges on POST .../responses. */
    responses: () => exchanges.filter((e) => e.method === 'POST' && /\/responses$/.test(e.url.split('?')[0])),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
