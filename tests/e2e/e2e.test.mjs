// e2e.test.mjs: VSCode LiteLLM in a real VS Code, driven as a user would.
//
// code-server (VS Code 1.139 with a real extension host per window) runs the
// PACKAGED extension (extension/vscode-litellm-<version>.vsix) and the test
// model provider (test-provider/, vendor "test"); headless chromium opens the
// workspace; the keyboard chords and the command palette drive the
// extension; the status bar is read and photographed; and the official
// `openai` SDK talks to http://127.0.0.1:PORT/v1 through the real nginx and
// litellm-fcgi that the extension started with the built litellmctl.
//
// Run it with `make check-e2e` (from the build directory) or tests/e2e/run.sh.
// See README.md here for the environment variables.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

import {
  allLogFiles, codeServerLayout, extensionLogFiles, installExtensions, startCodeServer, writeSettings,
} from './lib/codeServer.mjs';
import {
  canConnect, descendants, endProcesses, freePort, processesMentioning, run, tail, waitUntil as waitFor,
} from './lib/processes.mjs';
import { ProviderEvents } from './lib/providerEvents.mjs';
import { CHROMIUM, ensureInstalled } from './lib/setup.mjs';
import { Workbench } from './lib/workbench.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const srcRoot = process.env.top_srcdir ? path.resolve(process.env.top_srcdir) : repoRoot;

// ---------------------------------------------------------------- what is tested

function resolvePath(envName, fallbacks) {
  const fromEnv = process.env[envName];
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new Error(`${envName}=${fromEnv} does not exist`);
    return path.resolve(fromEnv);
  }
  const found = fallbacks.find((candidate) => fs.existsSync(candidate));
  if (!found) {
    throw new Error(`${envName} is not set and ${fallbacks.join(', ')} does not exist: build the project and run ` +
      '`make check-e2e` from the build directory (or set the variable)');
  }
  return found;
}

/** The packaged extension; refuses one older than the sources it was built from. */
function packagedExtension() {
  const extensionDir = path.join(srcRoot, 'extension');
  const manifest = JSON.parse(fs.readFileSync(path.join(extensionDir, 'package.json'), 'utf8'));
  const vsix = path.resolve(process.env.E2E_VSIX || path.join(extensionDir, `${manifest.name}-${manifest.version}.vsix`));
  const build = 'cd extension && npm ci && npm run package';
  if (!fs.existsSync(vsix)) throw new Error(`${vsix} does not exist: build it (${build})`);
  if (!process.env.E2E_VSIX) {
    const sources = [path.join(extensionDir, 'package.json')];
    const walk = (dir) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else sources.push(full);
      }
    };
    walk(path.join(extensionDir, 'src'));
    const newer = sources.filter((file) => fs.statSync(file).mtimeMs > fs.statSync(vsix).mtimeMs);
    if (newer.length > 0) {
      throw new Error(`${vsix} is older than ${path.relative(srcRoot, newer[0])}: rebuild it (${build})`);
    }
  }
  return vsix;
}

// ---------------------------------------------------------------- small helpers

function getJson(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => {
        try { resolve({ status: res.statusCode, json: JSON.parse(text) }); } catch { resolve({ status: res.statusCode, text }); }
      });
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${urlPath} timed out`)));
  });
}

/** Polls `probe` until it is truthy (a state the scenario waits for); fails after `ms`. */
const waitUntil = (probe, what, ms = 15_000) => waitFor(probe, what, ms, 100);

/** Rejects if `promise` does not settle within `ms`. */
function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** Runs a shell command line (the clipboard's curl example) with a bound. */
function shell(commandLine, ms = 30_000) {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', commandLine], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** The text of the SSE `data:` events of a chat completion stream. */
function sseContent(body) {
  const events = body.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6));
  const done = events.at(-1) === '[DONE]';
  const chunks = events.filter((data) => data !== '[DONE]').map((data) => JSON.parse(data));
  const content = chunks.map((chunk) => chunk.choices?.[0]?.delta?.content ?? '').join('');
  return { done, chunks, content };
}

// ---------------------------------------------------------------- the run's state

const output = path.resolve(process.env.E2E_OUTPUT || path.join(here, 'output'));
const timings = { started: Date.now() };
const failures = [];
/** Set when a step the later ones need failed: they are skipped. */
let blocked = null;

const s = {
  paths: undefined,      // ensureInstalled()
  tmp: undefined,
  layout: undefined,
  prefix: undefined,
  apiPort: 0,
  codeServer: undefined,
  browser: undefined,
  context: undefined,
  window1: undefined,
  window2: undefined,
  events: undefined,
  client: undefined,
  OpenAI: undefined,
  litellmctl: undefined,
  litellmctlWrapper: undefined,
  fcgiConfig: undefined,
  litellmEnv: undefined,
};

function litellmctl(...args) {
  return run(s.litellmctl, ['--prefix', s.prefix, '--listen', `127.0.0.1:${s.apiPort}`, ...args], {
    env: s.litellmEnv, timeoutMs: 60_000, check: false,
  });
}

async function health() {
  const { status, json } = await getJson(s.apiPort, '/health');
  assert.equal(status, 200, `GET /health: ${status}`);
  return json;
}

function windows() {
  return [s.window1, s.window2].filter(Boolean);
}

/** One scenario step; `critical` ones block the rest when they fail. */
function step(name, fn, { critical = false, needs } = {}) {
  test(name, async (t) => {
    if (blocked) {
      t.skip(`skipped: "${blocked}" failed`);
      return;
    }
    if (needs && !needs()) {
      t.skip('skipped: its precondition is not met');
      return;
    }
    try {
      await fn(t);
    } catch (err) {
      failures.push(name);
      if (critical) blocked = name;
      for (const window of windows()) {
        await window.screenshot(`failure-${failures.length}`).catch(() => undefined);
      }
      throw err;
    }
  });
}

// ---------------------------------------------------------------- set-up

before(async () => {
  fs.rmSync(output, { recursive: true, force: true });
  fs.mkdirSync(output, { recursive: true });
  const vsix = packagedExtension();
  s.litellmctl = resolvePath('LITELLMCTL', [path.join(repoRoot, 'build', 'litellmctl')]);
  const fcgi = resolvePath('LITELLM_FCGI', [path.join(repoRoot, 'build', 'fcgi-app', 'litellm-fcgi')]);
  const templates = resolvePath('LITELLM_TEMPLATES', [path.join(srcRoot, 'nginx')]);

  s.paths = await ensureInstalled();
  timings.installed = Date.now();

  // Short: the pipe's Unix socket path lives under the prefix (108 bytes at most).
  s.tmp = fs.mkdtempSync('/tmp/lle2e-');
  // mkdtemp makes it 0700; nginx's workers (www-data when run as root) must reach the prefix.
  fs.chmodSync(s.tmp, 0o755);
  s.prefix = path.join(s.tmp, 'prefix');
  const providerDir = path.join(s.tmp, 'provider');
  s.litellmctlWrapper = path.join(s.tmp, 'bin', 'litellmctl');
  s.events = new ProviderEvents(providerDir);
  s.apiPort = process.env.E2E_API_PORT ? Number(process.env.E2E_API_PORT) : await freePort();
  const codeServerPort = await freePort();
  // Generous global limits (nothing in the scenario comes near them): the status bar's tooltip shows them.
  s.fcgiConfig = path.join(s.tmp, 'litellm-fcgi.conf');
  fs.writeFileSync(s.fcgiConfig, 'limits-rpm = 1000\nlimits-tpm = 10000000\nlimits-concurrent = 32\n');
  s.litellmEnv = { ...process.env, LITELLM_FCGI: fcgi, LITELLM_TEMPLATES: templates, LITELLM_FCGI_CONFIG: s.fcgiConfig };
  s.layout = codeServerLayout(s.tmp, {
    nodeBin: s.paths.nodeBin,
    // litellmctl, run by the extension, finds the nginx templates through this.
    extraEnv: { LITELLM_TEMPLATES: templates, LITELLM_E2E_PROVIDER_DIR: providerDir },
  });
  // playwright's own temporary files, and chromium's, stay in the run's directory.
  process.env.TMPDIR = s.layout.tmpdir;
  fs.writeFileSync(path.join(s.layout.workspace, 'README.md'),
    '# e2e workspace\n\nVSCode LiteLLM serves the models of this window on the port in the status bar.\n');
  writeSettings(s.layout, {
    user: { 'vscode-litellm.port': s.apiPort, 'litellmTestProvider.dir': providerDir },
    machine: {
      'vscode-litellm.prefix': s.prefix,
      // Missing at first (the Start that fails), then a wrapper of the built one.
      'vscode-litellm.litellmctlPath': s.litellmctlWrapper,
      'vscode-litellm.responderPath': fcgi,
    },
  });
  process.stderr.write(`e2e: temp ${s.tmp}, API port ${s.apiPort}, code-server port ${codeServerPort}, output ${output}\n`);

  const installed = await installExtensions(s.paths.codeServer, s.layout, {
    vsix, providerDir: path.join(here, 'test-provider'),
    // The reply-script language the pipe test worker plays too.
    withFiles: [path.join(repoRoot, 'tests', 'worker', 'reply-script.cjs')],
  });
  assert.ok(installed.some((line) => line.startsWith('vscode-litellm.vscode-litellm@')), `installed: ${installed.join(', ')}`);
  assert.ok(installed.some((line) => line.startsWith('vscode-litellm-tests.test-provider@')), `installed: ${installed.join(', ')}`);
  s.codeServer = await startCodeServer(s.paths.codeServer, s.layout, codeServerPort);
  timings.codeServer = Date.now();

  const require = createRequire(path.join(s.paths.modules, 'package.json'));
  const { chromium } = require('playwright-core');
  s.OpenAI = require('openai');
  s.client = new s.OpenAI.OpenAI({
    baseURL: `http://127.0.0.1:${s.apiPort}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 30_000,
  });
  s.browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    env: { ...s.layout.env },
  });
  s.context = await s.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 2 });
  await s.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.codeServer.url });
  s.window1 = new Workbench(await s.context.newPage(), 'window1', output);
  await s.window1.open(s.codeServer.workspaceUrl);
  timings.pageLoaded = Date.now();
}, { timeout: 30 * 60_000 });

// ---------------------------------------------------------------- the scenario

step('the packaged extension activates: the status bar shows stopped', async () => {
  const w = s.window1;
  await w.waitForStatus((text) => text === 'LiteLLM', 'stopped');
  assert.match(await w.statusLabel(), /^debug-disconnect\s+LiteLLM, VSCode LiteLLM is stopped/);
  await s.events.wait({ event: 'activated' }, 60_000);
  await w.statusScreenshots('stopped');
}, { critical: true });

step('Ctrl+Shift+L M opens the model quick pick; Test GPT-4o is picked', async () => {
  const w = s.window1;
  await w.chord('KeyM');
  await w.quickInput().waitFor({ timeout: 15_000 });
  const gpt = w.quickPickRow('Test GPT-4o');
  const claude = w.quickPickRow('Test Claude 3.5 Sonnet');
  await gpt.waitFor({ timeout: 15_000 });
  await claude.waitFor({ timeout: 15_000 });
  // claude-3.5-sonnet comes first from the provider, so it is the default until the pick.
  assert.match(await claude.textContent(), /current default/);
  assert.match(await gpt.textContent(), /test · gpt-4o/);
  assert.match(await gpt.textContent(), /served as "test\/gpt-4o"/);
  await w.screenshot('quick-pick');
  await w.screenshot('quick-pick-widget', w.quickInput());
  await gpt.click();
  await w.quickInput().waitFor({ state: 'hidden', timeout: 10_000 });
  await w.page.locator('.part.statusbar', { hasText: 'default model is now Test GPT-4o' }).waitFor({ timeout: 15_000 });
}, { critical: true });

step('Start without litellmctl: the status bar shows error, the notification says where to set its path', async () => {
  const w = s.window1;
  await w.chord('KeyS');
  await w.waitForStatus((text) => /error/.test(text), 'error', 30_000);
  assert.match(await w.statusLabel(), /Start failed: .*litellmctl not found/);
  const toast = w.page.locator('.notification-toast', { hasText: 'litellmctl not found' });
  await toast.waitFor({ timeout: 10_000 });
  const message = await toast.textContent();
  // A code-server window is a remote window: machine settings come from the Remote settings.
  const [activated] = s.events.find({ event: 'activated' });
  if (activated.remoteName) {
    assert.match(message, /set "vscode-litellm\.litellmctlPath" in the Remote settings \(Preferences: Open Remote Settings\)/);
  }
  assert.match(message, /Show Logs/);
  await w.statusScreenshots('error');
  await w.screenshot('start-failed');
  await w.runCommand('Notifications: Clear All Notifications');
  assert.equal(await canConnect(s.apiPort), false);
  const channel = await waitUntil(() => {
    const text = extensionLogFiles(s.layout).map((file) => fs.readFileSync(file, 'utf8')).join('');
    return /start failed: .*litellmctl not found/.test(text) && text;
  }, 'the failure in the log channel');
  // Nothing was started, so nothing is stopped (no second, confusing failure).
  assert.doesNotMatch(channel, /cleanup with litellmctl stop/);
}, { critical: true });

step('Ctrl+Shift+L S starts the server: the status bar shows running with Test GPT-4o', async () => {
  const w = s.window1;
  fs.mkdirSync(path.dirname(s.litellmctlWrapper), { recursive: true });
  fs.writeFileSync(s.litellmctlWrapper,
    `#!/bin/sh\nLITELLM_FCGI_CONFIG='${s.fcgiConfig}' exec '${s.litellmctl}' "$@"\n`, { mode: 0o755 });
  await w.chord('KeyS');
  const starting = await w.waitForStatus((text) => /starting/.test(text), 'starting', 10_000).catch(() => null);
  if (starting) await w.statusScreenshots('starting');
  const running = `:${s.apiPort} · Test GPT-4o · 0 active`;
  await w.waitForStatus((text) => text === running, `"${running}"`, 60_000);
  assert.match(await w.statusLabel(), new RegExp(`serving http://127\\.0\\.0\\.1:${s.apiPort}/v1`));
  await w.statusScreenshots('running');
  await w.screenshot('running');
  // A click on the item offers the actions; Stop first while running.
  await w.statusItem().click();
  await w.quickPickRow('Stop LM Proxy Server').waitFor({ timeout: 10_000 });
  await w.quickPickRow('Copy curl Example').waitFor({ timeout: 10_000 });
  await w.screenshot('actions');
  await w.page.keyboard.press('Escape');
  await w.quickInput().waitFor({ state: 'hidden', timeout: 10_000 });
  const status = await litellmctl('status', '--json');
  const json = JSON.parse(status.stdout);
  assert.equal(json.running, true, status.stdout);
  const info = await health();
  assert.equal(info.windows, 1);
  assert.deepEqual([...info.models].sort(), ['test/claude-3.5-sonnet', 'test/gpt-4o']);
  assert.equal(info.default_model, 'test/gpt-4o');
}, { critical: true });

step('openai SDK: a chat completion (system message mapped to a leading user message)', async () => {
  const reply = await s.client.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello from the e2e test' }],
  });
  assert.equal(reply.object, 'chat.completion');
  assert.equal(reply.choices[0].message.role, 'assistant');
  assert.equal(reply.choices[0].message.content, 'Hello from the e2e test');
  assert.equal(reply.choices[0].finish_reason, 'stop');
  assert.ok(reply.usage.prompt_tokens > 0 && reply.usage.completion_tokens > 0, JSON.stringify(reply.usage));
  const [request] = s.events.find({ event: 'request', text: 'Hello from the e2e test' });
  assert.equal(request.family, 'gpt-4o');
  assert.deepEqual(request.messages.map((m) => `${m.role}:${m.parts.join('+')}`), ['user:text', 'user:text']);
});

step('openai SDK: a stream arrives part by part (the gate holds the second part)', async () => {
  const stream = await within(s.client.chat.completions.create({
    model: 'gpt-4o', stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'stream [[gate:stream]]' }],
  }), 15_000, 'the stream to start');
  const iterator = stream[Symbol.asyncIterator]();
  let content = '';
  while (!content.includes('before-gate')) {
    const next = await within(iterator.next(), 15_000, 'the first part');
    assert.ok(!next.done, 'the stream ended before the gate');
    content += next.value.choices[0]?.delta?.content ?? '';
  }
  await s.events.wait({ event: 'gate', name: 'stream' });
  assert.equal(s.events.find({ event: 'release', name: 'stream' }).length, 0, 'the part arrived before the gate opened');
  s.events.release('stream');
  let finish = null;
  let usage = null;
  for (;;) {
    const next = await within(iterator.next(), 15_000, 'the rest of the stream');
    if (next.done) break;
    content += next.value.choices[0]?.delta?.content ?? '';
    finish = next.value.choices[0]?.finish_reason ?? finish;
    usage = next.value.usage ?? usage;
  }
  assert.equal(content, 'before-gateafter-gate');
  assert.equal(finish, 'stop');
  assert.ok(usage && usage.completion_tokens > 0, `usage: ${JSON.stringify(usage)}`);

  const chunked = await s.client.chat.completions.create({
    model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: '[[chunks:5]]' }],
  });
  let text = '';
  for await (const chunk of chunked) text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'c1 c2 c3 c4 c5 ');
});

step('openai SDK: a tool call round trip (plain and streamed)', async () => {
  const tools = [{
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  }];
  const ask = { role: 'user', content: '[[tool:get_weather:{"city":"Paris"}]]' };
  const first = await s.client.chat.completions.create({ model: 'gpt-4o', tools, messages: [ask] });
  const choice = first.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.tool_calls.length, 1);
  const call = choice.message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
  const [request] = s.events.find({ event: 'request', text: ask.content });
  assert.deepEqual(request.tools, ['get_weather']);

  const second = await s.client.chat.completions.create({
    model: 'gpt-4o',
    tools,
    messages: [ask, choice.message, { role: 'tool', tool_call_id: call.id, content: 'sunny, 21 C' }],
  });
  assert.equal(second.choices[0].finish_reason, 'stop');
  assert.equal(second.choices[0].message.content, 'tool result: sunny, 21 C');
  const roundTrip = s.events.find({ event: 'request', text: ask.content }).at(-1);
  assert.deepEqual(roundTrip.messages.map((m) => `${m.role}:${m.parts.join('+')}`),
    ['user:text', 'assistant:tool_call', 'user:tool_result']);

  const streamed = await s.client.chat.completions.create({ model: 'gpt-4o', tools, stream: true, messages: [ask] });
  let name = '';
  let args = '';
  let finish = null;
  for await (const chunk of streamed) {
    for (const delta of chunk.choices[0]?.delta?.tool_calls ?? []) {
      name += delta.function?.name ?? '';
      args += delta.function?.arguments ?? '';
    }
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(name, 'get_weather');
  assert.deepEqual(JSON.parse(args), { city: 'Paris' });
  assert.equal(finish, 'tool_calls');
});

step('openai SDK: a client abort cancels the model call in VS Code', async () => {
  const w = s.window1;
  const abort = new AbortController();
  // The model says nothing, but the gateway sends the stream's head and a
  // heartbeat within --keepalive-interval (2 s): the SDK has its stream
  // before the abort, whatever the timing of the steps below.
  const stream = await s.client.chat.completions.create({
    model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: '[[hang:abort]]' }],
  }, { signal: abort.signal });
  const pending = (async () => {
    for await (const _chunk of stream) { /* only the role chunk comes */ }
    return 'ended';
  })();
  pending.catch(() => undefined);
  await s.events.wait({ event: 'hang', name: 'abort' });
  await w.waitForStatus((text) => text.endsWith('· 1 active'), '1 active', 10_000);
  await w.statusScreenshots('running-1-active');
  // The tooltip follows the responder's status frames (sent on change, checked every 2 s): the global limits, this request in flight.
  const limits = /Limits: [\d,]+\/1,000 requests, [\d,]+\/10,000,000 tokens per minute left; 1\/32 concurrent requests in flight\./;
  await waitUntil(async () => limits.test(await w.statusLabel()), 'the tooltip to show the global limits', 10_000);
  assert.match(await w.statusLabel(), /API keys: none; clients on a loopback address need no key\./);
  await w.hoverScreenshot('running-hover', limits);
  abort.abort();
  // The SDK ends an aborted stream's iteration quietly (or with its abort error).
  const outcome = await pending.catch((err) => err);
  assert.ok(outcome === 'ended' || outcome instanceof s.OpenAI.APIUserAbortError || outcome?.name === 'AbortError',
    `the aborted stream ended: ${outcome}`);
  await s.events.wait({ event: 'cancel', name: 'abort' });
  await w.waitForStatus((text) => text.endsWith('· 0 active'), '0 active again', 10_000);
});

step('openai SDK: an unknown model is a 404 model_not_found naming the available ones', async () => {
  await assert.rejects(
    s.client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
    (err) => {
      assert.ok(err instanceof s.OpenAI.NotFoundError, `${err.constructor.name}: ${err.message}`);
      assert.equal(err.status, 404);
      assert.equal(err.code, 'model_not_found');
      assert.match(err.message, /test\/gpt-4o/);
      return true;
    },
  );
});

step('openai SDK: GET /v1/models lists the provider models', async () => {
  const ids = [];
  for await (const model of s.client.models.list()) ids.push(model.id);
  assert.deepEqual(ids.sort(), ['test/claude-3.5-sonnet', 'test/gpt-4o']);
  const one = await s.client.models.retrieve('test/claude-3.5-sonnet');
  assert.equal(one.id, 'test/claude-3.5-sonnet');
  assert.equal(one.object, 'model');
});

step('model names route to the right family: claude-3.5-sonnet, default, prefixed and dated names', async () => {
  const ask = async (model) => {
    const reply = await s.client.chat.completions.create({ model, messages: [{ role: 'user', content: '[[model:full]]' }] });
    return reply.choices[0].message.content;
  };
  assert.equal(await ask('claude-3.5-sonnet'), 'family=claude-3.5-sonnet id=test-claude-3.5-sonnet');
  assert.equal(await ask('test/claude-3.5-sonnet'), 'family=claude-3.5-sonnet id=test-claude-3.5-sonnet');
  assert.equal(await ask('default'), 'family=gpt-4o id=test-gpt-4o');
  assert.equal(await ask('openai/gpt-4o'), 'family=gpt-4o id=test-gpt-4o');
  assert.equal(await ask('gpt-4o-2024-08-06'), 'family=gpt-4o id=test-gpt-4o');
});

/** An RGB PNG of width x height, every pixel from `pixel(x, y)` ([r, g, b]). */
function pngImage(width, height, pixel = () => [0, 0, 0]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (bytes) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter method, no interlace
  const rows = Buffer.alloc((1 + 3 * width) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rows.set(pixel(x, y), y * (1 + 3 * width) + 1 + 3 * x);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(rows)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

const sha16 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 16);
const imageContent = (text, bytes, mimeType = 'image/png') => [
  { type: 'text', text },
  { type: 'image_url', image_url: { url: `data:${mimeType};base64,${bytes.toString('base64')}` } },
];

step('images: a data: URL reaches the provider as a LanguageModelDataPart; a model without image input gets a 400', async () => {
  // Small: VS Code passes it on byte for byte.
  const small = pngImage(24, 16, (x, y) => [x * 10, y * 15, 200]);
  const reply = await s.client.chat.completions.create({
    model: 'gpt-4o', messages: [{ role: 'user', content: imageContent('[[images:full]] small', small) }],
  });
  assert.equal(reply.choices[0].message.content, `images: 1 image/png:${small.length}:${sha16(small)}:24x16`);
  const [request] = s.events.find({ event: 'request', text: '[[images:full]] small' });
  assert.deepEqual(request.messages.map((m) => `${m.role}:${m.parts.join('+')}`), ['user:text+data(image/png)']);

  // Both sides over 768 px: VS Code's workbench scales it to 768 on the shorter side, as PNG.
  const large = pngImage(1000, 800);
  const scaled = await s.client.chat.completions.create({
    model: 'gpt-4o', messages: [{ role: 'user', content: imageContent('[[images:full]] large', large) }],
  });
  assert.match(scaled.choices[0].message.content, /^images: 1 image\/png:\d+:[0-9a-f]{16}:960x768$/);

  // Bytes no browser can show: VS Code rejects the request; the client learns why.
  await assert.rejects(
    s.client.chat.completions.create({
      model: 'gpt-4o', messages: [{ role: 'user', content: imageContent('[[images]] garbage', crypto.randomBytes(64)) }],
    }),
    (err) => {
      assert.equal(err.status, 502, `${err.constructor.name}: ${err.message}`);
      assert.match(err.message, /VS Code could not decode an image of the request/);
      return true;
    },
  );
  assert.equal(s.events.find({ event: 'request', text: '[[images]] garbage' }).length, 0, 'nothing reached the provider');

  // Test Claude reports imageInput false: the extension announced image_input false, the responder refuses.
  const before = s.events.find({ event: 'request', family: 'claude-3.5-sonnet' }).length;
  await assert.rejects(
    s.client.chat.completions.create({ model: 'claude-3.5-sonnet', messages: [{ role: 'user', content: imageContent('[[images]]', small) }] }),
    (err) => {
      assert.ok(err instanceof s.OpenAI.BadRequestError, `${err.constructor.name}: ${err.message}`);
      assert.equal(err.code, 'image_input_not_supported');
      return true;
    },
  );
  assert.equal(s.events.find({ event: 'request', family: 'claude-3.5-sonnet' }).length, before, 'nothing reached the provider');
});

step('a provider error is a 502 upstream_error with its message; mid-stream it ends the stream', async () => {
  await assert.rejects(
    s.client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: '[[error:the provider broke]]' }] }),
    (err) => {
      assert.equal(err.status, 502, `${err.constructor.name}: ${err.message}`);
      assert.equal(err.code, 'upstream_error');
      assert.match(err.message, /the provider broke/);
      return true;
    },
  );
  // A model that fails after it has streamed: the client got 200 and a part,
  // then an error event, and no [DONE].
  const stream = await within(s.client.chat.completions.create({
    model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: '[[error-after-gate:midstream:broke mid-stream]]' }],
  }), 15_000, 'the stream to start');
  const iterator = stream[Symbol.asyncIterator]();
  let content = '';
  while (content === '') {
    const next = await within(iterator.next(), 15_000, 'the first part');
    assert.ok(!next.done, 'the stream ended before its first part');
    content += next.value.choices[0]?.delta?.content ?? '';
  }
  assert.equal(content, 'partial ');
  s.events.release('midstream');
  await assert.rejects(async () => {
    for (;;) {
      const next = await within(iterator.next(), 15_000, 'the error event');
      if (next.done) break;
    }
  }, (err) => {
    assert.match(err.message, /broke mid-stream/);
    return true;
  });
});

step('a LanguageModelError from the provider keeps its meaning (Blocked → 429, NoPermissions → 403)', async () => {
  const statusOf = async (code) => {
    try {
      await s.client.chat.completions.create({
        model: 'gpt-4o', messages: [{ role: 'user', content: `[[error:${code}:provider says ${code}]]` }],
      });
      return 'no error';
    } catch (err) {
      return `${err.status} ${err.code}`;
    }
  };
  assert.equal(await statusOf('Blocked'), '429 rate_limit_exceeded');
  assert.equal(await statusOf('NoPermissions'), '403 no_permissions');
  assert.equal(await statusOf('NotFound'), '404 model_not_found');
});

step('Copy curl Example (command palette): the clipboard holds a curl command that works', async () => {
  const w = s.window1;
  await w.runCommand('VSCode LiteLLM: Copy curl Example');
  await w.page.locator('.notification-toast', { hasText: 'curl example copied' }).waitFor({ timeout: 10_000 });
  await w.screenshot('curl-copied');
  await w.page.bringToFront();
  const clipboard = await w.page.evaluate(() => navigator.clipboard.readText());
  fs.writeFileSync(path.join(output, 'clipboard-curl.txt'), `${clipboard}\n`);
  assert.match(clipboard, new RegExp(`^curl -sN http://127\\.0\\.0\\.1:${s.apiPort}/v1/chat/completions`));
  assert.match(clipboard, /"model":"test\/gpt-4o"/);
  const result = await shell(clipboard);
  assert.equal(result.code, 0, `curl failed: ${result.stderr}`);
  const sse = sseContent(result.stdout);
  assert.ok(sse.done, `no [DONE] in:\n${result.stdout}`);
  assert.equal(sse.content, 'Say hello in one sentence.');
  assert.ok(sse.chunks.every((chunk) => chunk.object === 'chat.completion.chunk'));
});

step('Show Logs opens the log channel: Start steps and one line per request, no prompt text', async () => {
  const w = s.window1;
  await w.runCommand('VSCode LiteLLM: Show Logs');
  const panel = w.page.locator('.part.panel');
  await panel.locator('.view-lines', { hasText: 'outcome=' }).waitFor({ timeout: 15_000 });
  await w.screenshot('logs');
  const channel = extensionLogFiles(s.layout).map((file) => fs.readFileSync(file, 'utf8')).join('');
  assert.match(channel, /start: serving on 127\.0\.0\.1:\d+ through /);
  assert.match(channel, /request id=\w+ model=test\/gpt-4o prompt_tokens=\d+ completion_tokens=\d+ ms=\d+ outcome=stop/);
  assert.match(channel, /outcome=cancelled/);
  assert.doesNotMatch(channel, /Hello from the e2e test/, 'prompt text in the log');
  await w.focus();
  await w.page.keyboard.press('Control+KeyJ'); // View: Toggle Panel
  await panel.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
});

step('Ctrl+Shift+L X stops: the port closes at once, the stream in flight finishes, the status bar shows stopped', async () => {
  const w = s.window1;
  const stream = await within(s.client.chat.completions.create({
    model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'in flight [[gate:stop]]' }],
  }), 15_000, 'the stream to start');
  const iterator = stream[Symbol.asyncIterator]();
  let content = '';
  while (!content.includes('before-gate')) {
    const next = await within(iterator.next(), 15_000, 'the first part');
    assert.ok(!next.done, 'the stream ended before the gate');
    content += next.value.choices[0]?.delta?.content ?? '';
  }
  await s.events.wait({ event: 'gate', name: 'stop' });

  await w.chord('KeyX');
  await waitUntil(async () => !(await canConnect(s.apiPort)), `port ${s.apiPort} to stop accepting connections`, 30_000);
  // This window still serves its stream: Stop waits for it.
  await w.waitForStatus((text) => /stopping/.test(text), 'stopping', 10_000);
  await w.statusScreenshots('stopping');
  await assert.rejects(
    s.client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'after stop' }] }),
    (err) => err instanceof s.OpenAI.APIConnectionError,
  );

  s.events.release('stop');
  let finish = null;
  for (;;) {
    const next = await within(iterator.next(), 15_000, 'the rest of the stream');
    if (next.done) break;
    content += next.value.choices[0]?.delta?.content ?? '';
    finish = next.value.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(content, 'before-gateafter-gate');
  assert.equal(finish, 'stop');
  await w.waitForStatus((text) => text === 'LiteLLM', 'stopped', 40_000);
  await w.statusScreenshots('stopped-again');
  assert.equal(await canConnect(s.apiPort), false);
  const status = JSON.parse((await litellmctl('status', '--json')).stdout);
  assert.equal(status.running, false);
}, { critical: true });

step('Start again with a second window on the workspace: both connect and both serve', async () => {
  const w1 = s.window1;
  await w1.chord('KeyS');
  const running = `:${s.apiPort} · Test GPT-4o · 0 active`;
  await w1.waitForStatus((text) => text === running, `"${running}"`, 60_000);

  s.window2 = new Workbench(await s.context.newPage(), 'window2', output);
  const w2 = s.window2;
  await w2.open(s.codeServer.workspaceUrl);
  await w2.waitForStatus((text) => text === 'LiteLLM', 'stopped', 30_000);
  // Its own extension host: a second provider activation, from another process.
  await waitUntil(() => new Set(s.events.find({ event: 'activated' }).map((e) => e.pid)).size >= 2,
    'the second window\'s extension host', 60_000);
  await w2.chord('KeyS');
  await w2.waitForStatus((text) => text === running, `"${running}" in the second window`, 60_000);
  await waitUntil(async () => (await health()).windows === 2, '/health to count 2 windows');

  // Two requests at once: the second goes to the less busy window.
  const first = s.client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: '[[gate:w1]]' }] });
  const gate1 = await s.events.wait({ event: 'gate', name: 'w1' });
  const second = s.client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: '[[gate:w2]]' }] });
  const gate2 = await s.events.wait({ event: 'gate', name: 'w2' });
  assert.notEqual(gate1.pid, gate2.pid, 'both requests went to the same window');
  for (const w of [w1, w2]) {
    await w.waitForStatus((text) => text.endsWith('· 1 active'), '1 active', 10_000);
  }
  await w1.statusScreenshots('two-windows');
  await w2.statusScreenshots('two-windows');
  await w2.screenshot('running');
  s.events.release('w1');
  s.events.release('w2');
  for (const reply of await Promise.all([first, second])) {
    assert.equal(reply.choices[0].message.content, 'before-gateafter-gate');
  }
  assert.equal((await health()).windows, 2);
});

step('models appearing and vanishing in VS Code are announced at once', async () => {
  const listed = async () => {
    const ids = [];
    for await (const model of s.client.models.list()) ids.push(model.id);
    return ids.sort().join(',');
  };
  s.events.setExtraModels(['o1']);
  await waitUntil(async () => (await listed()) === 'test/claude-3.5-sonnet,test/gpt-4o,test/o1', '/v1/models to list test/o1');
  const reply = await s.client.chat.completions.create({ model: 'o1', messages: [{ role: 'user', content: '[[model:full]]' }] });
  assert.equal(reply.choices[0].message.content, 'family=o1 id=test-o1');
  s.events.setExtraModels([]);
  await waitUntil(async () => (await listed()) === 'test/claude-3.5-sonnet,test/gpt-4o', '/v1/models to drop test/o1');
  await assert.rejects(
    s.client.chat.completions.create({ model: 'o1', messages: [{ role: 'user', content: 'hi' }] }),
    (err) => err.status === 404,
  );
  // The picked default survived the changes.
  assert.equal((await health()).default_model, 'test/gpt-4o');
}, { needs: () => s.window2 !== undefined });

step('Stop in one window: the other window shows the error state, then Stop there too', async () => {
  const [w1, w2] = [s.window1, s.window2];
  await w1.chord('KeyX');
  await w1.waitForStatus((text) => text === 'LiteLLM', 'stopped', 40_000);
  await w2.waitForStatus((text) => /error/.test(text), 'error (the server stopped under it)', 20_000);
  assert.match(await w2.statusLabel(), /The server is not running/);
  await w2.statusScreenshots('error-stopped-elsewhere');
  await w2.chord('KeyX');
  await w2.waitForStatus((text) => text === 'LiteLLM', 'stopped', 40_000);
  assert.equal(await canConnect(s.apiPort), false);
}, { needs: () => s.window2 !== undefined });

// ---------------------------------------------------------------- teardown

function report(title, text) {
  return `----- ${title}\n${text.trimEnd()}\n`;
}

function fileTail(file, lines = 80) {
  try { return tail(fs.readFileSync(file, 'utf8'), lines); } catch (err) { return `(${err.message})`; }
}

after(async () => {
  timings.scenario = Date.now();
  const problems = [];
  // 1. The browser, then code-server and every descendant it has (extension
  //    hosts, language servers), by PID.
  if (s.browser) await within(s.browser.close(), 20_000, 'closing chromium').catch((err) => problems.push(err.message));
  if (s.codeServer) await s.codeServer.stop();
  // 2. nginx and litellm-fcgi daemonize: litellmctl shuts them down.
  if (s.prefix && fs.existsSync(s.prefix)) {
    const shutdown = await litellmctl('shutdown').catch((err) => ({ code: -1, stderr: err.message }));
    if (shutdown.code !== 0) problems.push(`litellmctl shutdown failed: ${shutdown.stderr}`);
  }
  // 3. Nothing of ours may be left: not a descendant, not a process naming the temp dir.
  //    Processes that were told to end may take a moment to be gone: wait for
  //    that (bounded) before judging what is left.
  const ours = () => [...descendants(process.pid), ...(s.tmp ? processesMentioning(s.tmp) : [])];
  await waitFor(() => ours().length === 0, 'every process of the run to be gone', 30_000).catch(() => {});
  const leftovers = ours();
  if (leftovers.length > 0) {
    problems.push(`left running, now ended: ${leftovers.map((p) => `${p.pid} ${p.cmdline}`).join('; ')}`);
    await endProcesses([...new Set(leftovers.map((p) => p.pid))]);
  }
  if (s.apiPort && await canConnect(s.apiPort)) problems.push(`port ${s.apiPort} still accepts connections`);

  // Artifacts: the extension's log channel (one file per window) and the server's logs.
  const logsDir = path.join(output, 'logs');
  fs.mkdirSync(logsDir, { recursive: true });
  const logs = [];
  if (s.layout) {
    extensionLogFiles(s.layout).forEach((file, index) => logs.push([`extension-window${index + 1}.log`, file]));
    logs.push(['code-server.log', s.layout.logFile]);
  }
  if (s.prefix) {
    for (const name of ['litellm-fcgi.log', 'error.log', 'access.log']) logs.push([name, path.join(s.prefix, 'logs', name)]);
  }
  if (s.events) logs.push(['provider-events.jsonl', s.events.file]);
  for (const [name, file] of logs) {
    if (fs.existsSync(file)) fs.copyFileSync(file, path.join(logsDir, name));
  }

  if (failures.length > 0 || problems.length > 0 || !s.window1) {
    let text = report('e2e failed', [...failures.map((name) => `step failed: ${name}`), ...problems].join('\n') || 'set-up failed');
    const shots = windows().flatMap((w) => w.screenshots);
    text += report('screenshots', shots.join('\n') || '(none)');
    for (const [name, file] of logs) text += report(`${name} (${file})`, fileTail(file));
    if (s.layout) {
      for (const file of allLogFiles(s.layout).filter((f) => /exthost|remoteagent/.test(f) && !f.includes('VSCode LiteLLM'))) {
        text += report(file, fileTail(file, 30));
      }
    }
    fs.writeFileSync(path.join(output, 'failure-report.txt'), text);
    console.log(text);
  }

  if (s.tmp) {
    if (process.env.E2E_KEEP === '1') {
      console.log(`e2e: kept ${s.tmp} (E2E_KEEP=1)`);
    } else {
      fs.rmSync(s.tmp, { recursive: true, force: true });
    }
  }
  timings.done = Date.now();
  const seconds = (from, to) => (timings[from] && timings[to] ? `${((timings[to] - timings[from]) / 1000).toFixed(1)} s` : '-');
  console.log(`e2e timings: install/cache ${seconds('started', 'installed')}, code-server up ${seconds('installed', 'codeServer')}, ` +
    `workbench loaded ${seconds('codeServer', 'pageLoaded')}, scenario ${seconds('pageLoaded', 'scenario')}, ` +
    `teardown ${seconds('scenario', 'done')}, total ${seconds('started', 'done')}; artifacts in ${output}`);
  if (problems.length > 0) throw new Error(problems.join('\n'));
}, { timeout: 5 * 60_000 });
