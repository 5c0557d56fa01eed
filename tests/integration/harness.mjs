// harness.mjs: starts the REAL stack (litellmctl → private nginx + litellm-fcgi)
// in a temp prefix on a free port, plus the pipe-protocol test worker, and
// gives the tests small HTTP/SSE/curl helpers. No timing is ever measured:
// every wait here is a bounded failure guard.
//
// Paths come from the environment (set by the Makefile):
//   LITELLMCTL         built litellmctl script
//   LITELLM_FCGI       built responder binary
//   LITELLM_TEMPLATES  nginx templates directory
//   TEST_WORKER        tests/worker/test-worker.mjs
// Optional: LITELLM_NGINX (nginx binary), CURL (curl binary, default "curl"),
// LITELLM_OPENAPI_BUNDLE (the schemas extracted from tests/spec/, written by
// run.sh; without it each test file parses the YAML itself),
// LITELLM_SPEC_EXTRAS (a file to append the fields our responses carry beyond
// OpenAI's schemas to, one JSON line per test file),
// LITELLM_SANITIZER_LOGS=1 (`make check-asan`, `make check-valgrind`: at
// teardown, a sanitizer or memcheck report in the responder's log fails the
// file; see sanitizerReports), LITELLM_GUARD_SCALE (multiplies every bound
// below), LITELLM_LONG_TESTS=1 (runs the tests marked long).
//
// Every response these helpers receive is validated against OpenAI's OpenAPI
// document (see "OpenAI spec validation" below): a violation fails the test.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, after } from 'node:test';
import { load as loadOpenApi } from '../spec/openapi.mjs';

// LITELLM_GUARD_SCALE multiplies every bound below, for a responder that runs
// many times slower than usual (`make check-valgrind` sets it).
export const GUARD_SCALE = Math.max(1, Number(process.env.LITELLM_GUARD_SCALE) || 1);
export const GUARD_MS = 10_000 * GUARD_SCALE;       // generous bound for things that should happen "now"
export const COMMAND_GUARD_MS = 60_000 * GUARD_SCALE; // bound for a litellmctl command

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

function resolvePath(envName, fallbacks) {
  const fromEnv = process.env[envName];
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new Error(`${envName}=${fromEnv} does not exist`);
    return path.resolve(fromEnv);
  }
  for (const candidate of fallbacks) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${envName} is not set and none of ${fallbacks.join(', ')} exists; build the project ` +
    'and run the suite through `make check` (or set the variable)');
}

/** Paths of the binaries under test. */
export function stackPaths() {
  return {
    litellmctl: resolvePath('LITELLMCTL', [path.join(repoRoot, 'build', 'litellmctl'), path.join(repoRoot, 'contrib', 'litellmctl')]),
    fcgi: resolvePath('LITELLM_FCGI', [path.join(repoRoot, 'build', 'fcgi-app', 'litellm-fcgi'), path.join(repoRoot, 'fcgi-app', 'litellm-fcgi')]),
    templates: resolvePath('LITELLM_TEMPLATES', [path.join(repoRoot, 'nginx')]),
    worker: resolvePath('TEST_WORKER', [path.join(repoRoot, 'tests', 'worker', 'test-worker.mjs')]),
  };
}

/**
 * The extension's harness bundle (extension/out/harness.mjs, built by
 * `npm run build:harness` in extension/; run.sh builds it and passes its path
 * as LITELLM_EXTENSION_HARNESS): the extension's real pipe client and model
 * calls, plus ScriptedModel and the `vscode` stand-in classes.
 */
export function extensionHarnessPath() {
  const fromEnv = process.env.LITELLM_EXTENSION_HARNESS;
  const candidates = fromEnv ? [path.resolve(fromEnv)] : [
    ...(process.env.top_srcdir ? [path.join(path.resolve(process.env.top_srcdir), 'extension', 'out', 'harness.mjs')] : []),
    path.join(repoRoot, 'extension', 'out', 'harness.mjs'),
  ];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) {
    throw new Error(`the extension harness is missing (looked for ${candidates.join(', ')}); build it with ` +
      '`npm ci && npm run build:harness` in extension/, or run the suite through tests/integration/run.sh ' +
      '(`make check`), which does');
  }
  return found;
}

/** Imports the extension's harness bundle (see extensionHarnessPath). */
export function loadExtensionHarness() {
  return import(pathToFileURL(extensionHarnessPath()).href);
}

export const repoReadme = path.join(process.env.top_srcdir ? path.resolve(process.env.top_srcdir) : repoRoot, 'README.md');

// ---------------------------------------------------------------- small utilities

export function withTimeout(promise, what, ms = GUARD_MS) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A raw client of the responder's pipe that collects every frame it is sent.
 * A line that is not JSON throws (failing the test), or with `keepUnparsed`
 * is kept as {unparsed: line}. send() resolves false once the socket is gone;
 * until(pred) waits for pred(client).
 */
export function rawPipeClient(pipePath, { keepUnparsed = false } = {}) {
  const socket = net.connect(pipePath);
  const client = { socket, frames: [], closed: false, waiters: new Set() };
  let buffered = '';
  const wake = () => { for (const w of [...client.waiters]) w(); };
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (keepUnparsed) {
        try { client.frames.push(JSON.parse(line)); } catch { client.frames.push({ unparsed: line }); }
      } else {
        client.frames.push(JSON.parse(line));
      }
      wake();
    }
  });
  socket.on('close', () => { client.closed = true; wake(); });
  socket.on('error', () => {}); // EPIPE / ECONNRESET once the responder has cut us off
  client.send = (data) => new Promise((resolve) => {
    if (socket.destroyed) { resolve(false); return; }
    socket.write(data, (err) => resolve(!err));
  });
  client.until = (pred, what, ms = GUARD_MS) => withTimeout(new Promise((resolve) => {
    const check = () => { if (pred(client)) { client.waiters.delete(check); resolve(client); } };
    client.waiters.add(check);
    check();
  }), what, ms);
  return client;
}

/** Polls `probe` until it returns a truthy value; fails after `ms`. Returns that value. */
export async function waitUntil(probe, what, ms = GUARD_MS) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await sleep(50);
  }
}

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Runs a command to completion: {code, signal, stdout, stderr}. */
export function run(command, args, { env = process.env, input, timeout = COMMAND_GUARD_MS } = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  }), `${path.basename(command)} ${args.join(' ')}`, timeout);
}

/** Is a process with this pid alive (and not a zombie)? */
export function isAlive(pid) {
  if (!pid) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Tests that take minutes run only with LITELLM_LONG_TESTS=1 (`{ skip: longTestsSkip }`). */
export const LONG_TESTS = process.env.LITELLM_LONG_TESTS === '1';
export const longTestsSkip = LONG_TESTS ? false : 'long: set LITELLM_LONG_TESTS=1';

/**
 * What /proc says about a process: {threads, fds, rssKiB} (Threads and VmRSS
 * of /proc/PID/status, entries of /proc/PID/fd).
 */
export function procStats(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => {
    const match = status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm'));
    if (!match) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(match[1]);
  };
  return { threads: field('Threads'), fds: fs.readdirSync(`/proc/${pid}/fd`).length, rssKiB: field('VmRSS') };
}

/**
 * The lines of a responder's log that are sanitizer or memcheck reports:
 * AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer errors
 * (`make check-asan`), valgrind's non-zero ERROR SUMMARY and lost blocks
 * (`make check-valgrind`). Each report comes with the lines after it.
 */
export function sanitizerReports(text) {
  const lines = text.split('\n');
  const reports = [];
  const bad = [
    /ERROR: AddressSanitizer/, /LeakSanitizer/, /runtime error:/, /SUMMARY: UndefinedBehaviorSanitizer/,
    /==\d+== ERROR SUMMARY: [1-9]/, /==\d+==\s+definitely lost: [1-9]/,
  ];
  for (let i = 0; i < lines.length; i++) {
    if (bad.some((re) => re.test(lines[i]))) {
      reports.push(lines.slice(i, i + 40).join('\n'));
      i += 39;
    }
  }
  return reports;
}

/** Live processes whose command line or working directory mentions `text`. */
export function processesMentioning(text) {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline = '';
    let cwd = '';
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch { continue; }
    try { cwd = fs.readlinkSync(`/proc/${entry}/cwd`); } catch { /* gone or not ours */ }
    if ((cmdline.includes(text) || cwd.startsWith(text)) && isAlive(Number(entry))) {
      found.push({ pid: Number(entry), cmdline });
    }
  }
  return found;
}

/** Children of `pid` (by /proc/N/stat ppid). */
export function childrenOf(pid) {
  const children = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch { /* gone */ }
  }
  return children;
}

/** Does anything accept TCP connections on host:port right now? */
export function canConnect(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

// ---------------------------------------------------------------- OpenAI spec validation
//
// Every response the suite gets from the gateway is checked against OpenAI's
// own OpenAPI document (tests/spec/openai-openapi.yaml, via tests/spec/openapi.mjs):
// chat completions, every SSE chunk (and error event) of a stream, model
// lists, models, and every error (ErrorResponse). httpRequest/postChat,
// openRequest/openStream, curl and validatingFetch (the `fetch` handed to the
// openai SDK, LangChain and the AI SDK) all check what they receive.
//
// A violation is recorded, and the helper that received it throws it
// (httpRequest and curl reject; readUntil/readToEnd reject). An afterEach hook
// also fails the running test if any violation was recorded during it, so a
// violation fails the test that produced it even when a client library
// swallowed it (validatingFetch only records: a throwing fetch would turn into
// an SDK "connection error").

const openApi = await loadOpenApi();

/** A response that does not match OpenAI's schema. */
export class SpecViolation extends Error {
  constructor(where, problems, value) {
    const body = typeof value === 'string' ? value : JSON.stringify(value);
    super(`${where}: not what OpenAI's OpenAPI document allows:\n  ${problems.join('\n  ')}\n  body: ${String(body).slice(0, 1500)}`);
    this.name = 'SpecViolation';
    this.where = where;
    this.problems = problems;
  }
}

const recordedViolations = [];
/** Fields our responses carry that OpenAI's schemas do not describe: "Schema /path" → count. */
export const undocumentedFields = new Map();

function recordViolation(where, problems, value) {
  const violation = new SpecViolation(where, problems, value);
  recordedViolations.push(violation);
  return violation;
}

/** Removes and returns the violations recorded so far (for the validator's own tests). */
export function drainSpecViolations() {
  return recordedViolations.splice(0);
}

function takeViolations() {
  const found = recordedViolations.splice(0);
  if (found.length) throw new Error(`${found.length} response(s) violated OpenAI's OpenAPI schema:\n${found.map((v) => v.message).join('\n')}`);
}

// node --test runs each file in its own process: these hooks apply to every test of the file.
afterEach(takeViolations);
after(() => {
  const file = process.env.LITELLM_SPEC_EXTRAS;
  if (file && undocumentedFields.size) {
    fs.appendFileSync(file, JSON.stringify({ file: process.argv[1], fields: Object.fromEntries(undocumentedFields) }) + '\n');
  }
  takeViolations();
});

const CHAT_PATH = /^\/(?:v1\/)?chat\/completions$/;
const MODELS_PATH = /^\/(?:v1\/)?models$/;
const MODEL_PATH = /^\/(?:v1\/)?models\/.+$/;

/** The OpenAI schema a (JSON) response must satisfy, or null when OpenAI's API has no such response. */
export function responseSchema(method, urlPath, status) {
  const pathOnly = String(urlPath).split('?')[0];
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) return null;
  if (status >= 400) return 'ErrorResponse';
  if (status >= 300) return null;
  if (method === 'POST' && CHAT_PATH.test(pathOnly)) return 'CreateChatCompletionResponse';
  if (method === 'GET' && MODELS_PATH.test(pathOnly)) return 'ListModelsResponse';
  if (method === 'GET' && MODEL_PATH.test(pathOnly)) return 'Model';
  return null;
}

/** Validates one JSON value against `schema`; returns a recorded SpecViolation or null. */
export function checkValue(where, schema, value) {
  const problems = openApi.validate(schema, value);
  for (const field of openApi.undocumented(schema, value)) {
    const key = `${schema} ${field.replace(/\/\d+(?=\/|$)/g, '/*')}`;
    undocumentedFields.set(key, (undocumentedFields.get(key) ?? 0) + 1);
  }
  return problems.length ? recordViolation(where, problems, value) : null;
}

/**
 * A validator for one response, fed its text as it arrives:
 * {push(text), end(complete), violations}. JSON bodies are checked at the end;
 * SSE streams event by event (every `data:` a chat.completion.chunk or an
 * error object, `[DONE]` last).
 */
export function responseValidator({ method = 'GET', path: urlPath, status, contentType = '' }) {
  const where = `${method} ${urlPath} → ${status}`;
  const violations = [];
  const note = (v) => { if (v) violations.push(v); };
  const isSse = /^text\/event-stream/i.test(contentType);
  const chat = CHAT_PATH.test(String(urlPath).split('?')[0]);
  let text = '';
  let checkedUpTo = 0;
  let events = 0;
  let done = false;
  const checkEvent = (block) => {
    const data = [];
    for (const line of block.split(/\r?\n/)) if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    if (!data.length) return; // a comment (": keep-alive") or an empty block
    const payload = data.join('\n');
    const at = `${where}, SSE event ${++events}`;
    if (done) { note(recordViolation(at, ['an event after data: [DONE]'], payload)); return; }
    if (payload === '[DONE]') { done = true; return; }
    let value;
    try { value = JSON.parse(payload); } catch { note(recordViolation(at, ['data is neither JSON nor [DONE]'], payload)); return; }
    note(checkValue(at, value && typeof value === 'object' && 'error' in value ? 'ErrorResponse' : 'CreateChatCompletionStreamResponse', value));
  };
  const scan = () => {
    for (;;) {
      const rest = text.slice(checkedUpTo);
      const match = /\r?\n\r?\n/.exec(rest);
      if (!match) return;
      checkEvent(rest.slice(0, match.index));
      checkedUpTo += match.index + match[0].length;
    }
  };
  return {
    violations,
    push(chunk) {
      text += chunk;
      if (isSse) scan();
    },
    /** complete: the response ended normally (not cut off by the client). */
    end(complete = true) {
      if (isSse) {
        scan();
        if (complete && text.slice(checkedUpTo).trim() !== '') checkEvent(text.slice(checkedUpTo));
        if (status === 200 && !chat) note(recordViolation(where, ['an event stream where OpenAI answers JSON'], text.slice(0, 300)));
        return violations;
      }
      if (!complete) return violations;
      const schema = responseSchema(method, urlPath, status);
      if (!schema) return violations;
      let value;
      try { value = JSON.parse(text); } catch {
        note(recordViolation(where, [`the body is not JSON (content-type ${contentType || 'none'})`], text.slice(0, 500)));
        return violations;
      }
      if (!/^application\/json/i.test(contentType)) note(recordViolation(where, [`content-type ${contentType || 'none'}, not application/json`], value));
      note(checkValue(where, schema, value));
      return violations;
    },
  };
}

/** Validates a whole response at once; throws the first violation. */
export function checkResponse({ method, path: urlPath, status, contentType, text }) {
  const validator = responseValidator({ method, path: urlPath, status, contentType });
  validator.push(text);
  const violations = validator.end(true);
  if (violations.length) throw violations[0];
}

/**
 * A `fetch` that validates what it receives (give it to the openai SDK,
 * LangChain's ChatOpenAI `configuration.fetch`, the AI SDK's providers). It
 * only records violations (the afterEach hook fails the test): were it to
 * throw, the SDKs would report a connection error instead.
 */
export async function validatingFetch(input, init = {}) {
  const response = await fetch(input, init);
  const url = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url);
  const method = String(init.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET')).toUpperCase();
  const validator = responseValidator({
    method, path: url.pathname + url.search, status: response.status, contentType: response.headers.get('content-type') ?? '',
  });
  if (!response.body) {
    validator.end(true);
    return response;
  }
  const decoder = new TextDecoder();
  const body = response.body.pipeThrough(new TransformStream({
    transform(chunk, controller) {
      validator.push(decoder.decode(chunk, { stream: true }));
      controller.enqueue(chunk);
    },
    flush() {
      validator.push(decoder.decode());
      validator.end(true);
    },
  }));
  const wrapped = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  Object.defineProperty(wrapped, 'url', { value: response.url });
  return wrapped;
}

// ---------------------------------------------------------------- HTTP

/** A plain HTTP request on a fresh connection; resolves with the whole response. */
export function httpRequest(port, { method = 'GET', path: urlPath = '/', headers = {}, body, host = '127.0.0.1' } = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    let responded = false;
    const req = http.request({ host, port, method, path: urlPath, headers, agent: false }, (res) => {
      responded = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        try {
          checkResponse({ method, path: urlPath, status: res.statusCode, contentType: res.headers['content-type'], text });
        } catch (violation) {
          reject(violation);
          return;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    // A server may answer (413) before it has read the whole body and close:
    // a write error after the response started is not a failure.
    req.on('error', (err) => { if (!responded) reject(err); });
    if (body !== undefined) req.write(body);
    req.end();
  }), `${method} ${urlPath}`);
}

/** POST a JSON value (or a raw string) to /v1/chat/completions. */
export function postChat(port, body, { path: urlPath = '/v1/chat/completions', headers = {}, host } = {}) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return httpRequest(port, {
    method: 'POST',
    host,
    path: urlPath,
    headers: { 'content-type': 'application/json', ...headers },
    body: payload,
  });
}

/** Splits an SSE text into events: [{data, comment}] (data joined over data: lines). */
export function parseSse(text) {
  const events = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (block.trim() === '') continue;
    const data = [];
    let comment = false;
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) comment = true;
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length) events.push({ data: data.join('\n') });
    else if (comment) events.push({ comment: true });
  }
  return events;
}

/** The JSON payloads of an SSE text, with "[DONE]" kept as the string. Comments dropped. */
export function sseData(text) {
  return parseSse(text).filter((e) => e.data !== undefined).map((e) => (e.data === '[DONE]' ? '[DONE]' : JSON.parse(e.data)));
}

/**
 * Starts a POST and returns at once {ready, destroy}: `ready` resolves once the
 * response headers are in, with {status, headers, text(), ended(),
 * readUntil(pred, what), readToEnd(), destroy()}; `destroy()` closes the client
 * connection (the client goes away), usable before any header arrived.
 */
export function openRequest(port, body, { path: urlPath = '/v1/chat/completions', headers = {}, host = '127.0.0.1' } = {}) {
  let req;
  const ready = withTimeout(new Promise((resolve, reject) => {
    req = http.request({
      host, port, method: 'POST', path: urlPath, agent: false,
      headers: { 'content-type': 'application/json', ...headers },
    }, (res) => {
      let text = '';
      let ended = false;
      let failure = null;
      const waiters = new Set();
      const wake = () => { for (const w of [...waiters]) w(); };
      // Every SSE event is validated as it arrives; a JSON body at its end.
      const validator = responseValidator({ method: 'POST', path: urlPath, status: res.statusCode, contentType: res.headers['content-type'] });
      const finish = (complete) => { if (!ended) validator.end(complete); ended = true; wake(); };
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; validator.push(c); wake(); });
      res.on('end', () => finish(true));
      res.on('error', (err) => { failure = err; finish(false); });
      res.on('close', () => finish(false));
      resolve({
        status: res.statusCode,
        headers: res.headers,
        text: () => text,
        ended: () => ended,
        /** Waits until pred(text) is true; fails if the stream ends first or after the guard. */
        readUntil(pred, what, ms = GUARD_MS) {
          return withTimeout(new Promise((ok, fail) => {
            const check = () => {
              if (validator.violations.length) { waiters.delete(check); fail(validator.violations[0]); } else if (pred(text)) { waiters.delete(check); ok(text); } else if (ended) {
                waiters.delete(check);
                fail(new Error(`stream ended before ${what}; got: ${JSON.stringify(text)}${failure ? ` (${failure.message})` : ''}`));
              }
            };
            waiters.add(check);
            check();
          }), what, ms);
        },
        /** Waits for the end of the response and returns all its text. */
        readToEnd(ms = GUARD_MS) {
          return withTimeout(new Promise((ok, fail) => {
            const check = () => {
              if (validator.violations.length) { waiters.delete(check); fail(validator.violations[0]); } else if (ended) { waiters.delete(check); ok(text); }
            };
            waiters.add(check);
            check();
          }), 'the end of the stream', ms);
        },
        destroy() { req.destroy(); res.destroy(); },
      });
    });
    req.on('error', reject);
    req.end(typeof body === 'string' ? body : JSON.stringify(body));
  }), `response headers of POST ${urlPath}`);
  ready.catch(() => {}); // a caller that only destroys need not await it
  return { ready, destroy: () => req.destroy() };
}

/** openRequest(...).ready: a POST whose response headers are in. */
export function openStream(port, body, options) {
  return openRequest(port, body, options).ready;
}

/** Runs the real curl binary; what it printed of a response is validated (see checkCurlOutput). */
export async function curl(args, options) {
  const result = await run(process.env.CURL || 'curl', args, options);
  const url = args.find((arg) => /^https?:\/\//.test(arg));
  const writesElsewhere = args.some((arg, i) => ['-o', '--output', '-w', '--write-out'].includes(arg) ||
    (arg === '-D' && args[i + 1] !== '-'));
  if (url && result.code === 0 && !writesElsewhere) {
    const dataFlags = ['-d', '--data', '--data-raw', '--data-binary', '--json', '-F', '--form'];
    const explicit = args.findIndex((arg) => arg === '-X' || arg === '--request');
    const method = explicit >= 0 ? args[explicit + 1].toUpperCase()
      : args.includes('-I') || args.includes('--head') ? 'HEAD'
        : args.some((arg) => dataFlags.includes(arg)) ? 'POST' : 'GET';
    const withHeaders = args.includes('-i') || args.includes('--include') || args.some((arg, i) => arg === '-D' && args[i + 1] === '-');
    checkCurlOutput(url, method, result.stdout, { withHeaders });
  }
  return result;
}

/**
 * Validates what curl printed for `url`: with headers (-i), the response as
 * parsed by parseCurlResponse; without, the body alone (an event stream when it
 * starts with "data:" or ":", an error when it is {"error": …}, else the
 * success schema of the path). Throws the first violation.
 */
export function checkCurlOutput(url, method, output, { withHeaders = false } = {}) {
  const { pathname, search } = new URL(url);
  if (withHeaders) {
    const response = parseCurlResponse(output);
    checkResponse({ method, path: pathname + search, status: response.status, contentType: response.headers['content-type'], text: response.body });
    return;
  }
  const sse = /^(data:|:)/.test(output);
  let status = 200;
  if (!sse) {
    try { if (JSON.parse(output)?.error) status = 400; } catch { /* checkResponse reports a non-JSON body */ }
  }
  checkResponse({ method, path: pathname + search, status, contentType: sse ? 'text/event-stream' : 'application/json', text: output });
}

/** Splits `curl -i` / `-D -` output into {status, headers (lower-case names), body}. */
export function parseCurlResponse(output) {
  let rest = output;
  let head;
  // Skip interim responses (100 Continue).
  for (;;) {
    const end = rest.search(/\r?\n\r?\n/);
    if (end < 0) throw new Error(`no header block in curl output: ${JSON.stringify(output.slice(0, 500))}`);
    head = rest.slice(0, end);
    rest = rest.slice(end).replace(/^\r?\n\r?\n/, '');
    if (!/^HTTP\/\S+ 1\d\d/.test(head)) break;
  }
  const lines = head.split(/\r?\n/);
  const status = Number(lines[0].split(' ')[1]);
  const headers = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, body: rest };
}

// ---------------------------------------------------------------- OpenAI error shape

/** Asserts the body is {"error":{"message","type","param","code"}} and returns the error. */
export function openAiError(assert, response, status) {
  assert.equal(response.status, status, `HTTP status; body: ${response.text}`);
  assert.match(String(response.headers['content-type']), /application\/json/, 'content-type of an error');
  assert.ok(response.headers['x-request-id'], 'x-request-id header on an error');
  assert.ok(response.json && typeof response.json === 'object', `error body is JSON: ${response.text}`);
  const error = response.json.error;
  assert.ok(error && typeof error === 'object', `body has "error": ${response.text}`);
  for (const key of ['message', 'type', 'param', 'code']) {
    assert.ok(key in error, `error.${key} is present in ${response.text}`);
  }
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0, 'error.message is not empty');
  assert.equal(typeof error.type, 'string');
  return error;
}

// ---------------------------------------------------------------- test worker

export class TestWorker {
  constructor(workerPath, args) {
    this.events = [];
    this.waiters = new Set();
    this.exit = undefined;
    this.stderr = '';
    this.child = spawn(process.execPath, [workerPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.pid = this.child.pid;
    let buffered = '';
    this.child.stdout.setEncoding('utf8').on('data', (chunk) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        try { this.events.push(JSON.parse(line)); } catch { this.events.push({ event: 'unparsed', line }); }
        this.wake();
      }
    });
    this.child.stderr.setEncoding('utf8').on('data', (c) => { this.stderr += c; });
    this.child.stdin.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
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

// ---------------------------------------------------------------- the stack

export class Stack {
  constructor() {
    this.paths = stackPaths();
    this.prefix = null;
    this.port = null;
    this.worker = null;
    this.pipe = null;
    this.knownPids = new Set();
    this.host = '127.0.0.1';            // the address nginx listens on (start({host}))
    this.exitFile = null;               // start({recordExit: true}): see responderExits()
  }

  get baseUrl() { return `http://${this.host}:${this.port}`; }

  env(extra = {}) {
    const env = { ...process.env };
    delete env.LITELLM_PREFIX;
    delete env.LITELLM_LISTEN;
    delete env.LITELLM_MODE;
    return {
      ...env,
      LITELLM_FCGI: this.exitFile ? path.join(this.prefix, 'fcgi-exit-recorder') : this.paths.fcgi,
      // litellmctl looks for litellm-keys beside LITELLM_FCGI; a wrapper has none.
      ...(this.exitFile && !process.env.LITELLM_KEYS ? { LITELLM_KEYS: path.join(path.dirname(this.paths.fcgi), 'litellm-keys') } : {}),
      LITELLM_TEMPLATES: this.paths.templates,
      LITELLM_DEMO_WORKER: this.paths.worker,
      ...extra,
    };
  }

  /** Runs `litellmctl --prefix P --listen HOST:PORT ...args` (HOST: 127.0.0.1 unless start({host})). */
  ctl(args, { listen = `${this.host}:${this.port}`, prefix = this.prefix, env } = {}) {
    return run(this.paths.litellmctl, ['--prefix', prefix, '--listen', listen, ...args], { env: this.env(env) });
  }

  async status() {
    const result = await this.ctl(['status', '--json']);
    let json;
    try { json = JSON.parse(result.stdout); } catch {
      throw new Error(`litellmctl status --json printed no JSON (exit ${result.code}): ${result.stdout} ${result.stderr}`);
    }
    return { ...result, json };
  }

  /**
   * A fresh short prefix under /tmp. mkdtemp makes it 0700; nginx workers may
   * run as another user (www-data when the suite runs as root) and must reach
   * run/fcgi.sock inside it, so it is made searchable.
   */
  static makePrefix() {
    const prefix = fs.mkdtempSync(path.join('/tmp', 'll-'));
    fs.chmodSync(prefix, 0o755);
    return prefix;
  }

  /**
   * Creates the prefix, picks a port and runs `litellmctl start`; starts the test worker unless worker:false.
   * host: the local address nginx listens on (default 127.0.0.1). stateFile: makes PREFIX/state/limits.state
   * (the limiter state litellmctl always hands its responder) a symlink to this file, so that the
   * responders of several prefixes share one budget. recordExit: every responder litellmctl
   * starts runs under a small shell that appends its exit status to PREFIX/responder-exits
   * (responderExits()), since litellmctl's setsid leaves nobody else to see it.
   */
  async start({ worker = true, workerArgs = [], ctlArgs = [], host = '127.0.0.1', stateFile, recordExit = false } = {}) {
    this.prefix = Stack.makePrefix();
    this.host = host;
    if (recordExit) {
      this.exitFile = path.join(this.prefix, 'responder-exits');
      // The shell passes SIGTERM/SIGINT on: the pid file may name it rather than
      // the responder (litellmctl writes its own child's pid when the responder
      // has not written the file yet); responderPid() looks through it.
      const recorder = path.join(this.prefix, 'fcgi-exit-recorder');
      fs.writeFileSync(recorder, [
        '#!/bin/sh',
        '# The responder, then its exit status appended to responder-exits.',
        `${shellQuote(this.paths.fcgi)} "$@" &`,
        'child=$!',
        'trap \'kill -TERM $child 2>/dev/null\' TERM',
        'trap \'kill -INT $child 2>/dev/null\' INT',
        'while :; do',
        '  wait $child',
        '  status=$?',
        '  kill -0 $child 2>/dev/null || break',
        'done',
        `echo $status >> ${shellQuote(this.exitFile)}`,
        '',
      ].join('\n'), { mode: 0o755 });
    }
    this.port = await freePort();
    if (stateFile) {
      fs.mkdirSync(path.join(this.prefix, 'state'), { recursive: true });
      fs.symlinkSync(stateFile, path.join(this.prefix, 'state', 'limits.state'));
    }
    const started = await this.ctl([...ctlArgs, 'start']);
    if (started.code !== 0) {
      throw new Error(`litellmctl start failed (exit ${started.code}): ${started.stderr}${started.stdout}\n${this.logs()}`);
    }
    const { json } = await this.status();
    this.pipe = json.pipe;
    this.rememberPids(json);
    await waitUntil(() => canConnect(this.port, this.host), `nginx to listen on ${this.host}:${this.port}`);
    if (worker) await this.startWorker(workerArgs);
    return this;
  }

  rememberPids(status) {
    for (const pid of [status.nginx_pid, status.responder_pid]) {
      if (Number.isInteger(pid) && pid > 0) {
        this.knownPids.add(pid);
        for (const child of childrenOf(pid)) this.knownPids.add(child);
      }
    }
  }

  /** The exit statuses of the responders started so far (start({recordExit: true})), in order. */
  responderExits() {
    if (!this.exitFile) throw new Error('start({recordExit: true}) records exit statuses');
    try {
      return fs.readFileSync(this.exitFile, 'utf8').split('\n').filter(Boolean).map(Number);
    } catch { return []; }
  }

  /** Starts the test worker on the pipe and waits until /health counts it. */
  async startWorker(args = []) {
    if (!this.pipe) throw new Error('no pipe path (status --json has no "pipe")');
    const windowsBefore = (await this.health()).json?.windows ?? 0;
    this.worker = new TestWorker(this.paths.worker, [
      '--pipe', this.pipe, '--label', 'test', '--models', 'gpt-4o,claude-3.5-sonnet', '--default', 'gpt-4o', ...args,
    ]);
    await this.worker.waitEvent((e) => e.event === 'welcome', 'the worker to be welcomed');
    await this.waitWindows((n) => n > windowsBefore, `/health windows > ${windowsBefore}`);
    return this.worker;
  }

  /**
   * Stops the responder only (SIGTERM to `status --json`'s responder_pid, as
   * a crash or an admin would), leaving nginx up; waits until it has exited.
   * `litellmctl start` brings it back. Returns the pid it stopped.
   */
  async stopResponder(signal = 'SIGTERM') {
    const { json } = await this.status();
    if (!Number.isInteger(json.responder_pid) || json.responder_pid <= 0) {
      throw new Error(`litellmctl status --json names no responder_pid: ${JSON.stringify(json)}`);
    }
    this.rememberPids(json);
    const pid = this.throughRecorder(json.responder_pid);
    process.kill(pid, signal);
    await waitUntil(() => !isAlive(pid), `the responder (pid ${pid}) to exit after ${signal}`, COMMAND_GUARD_MS);
    return pid;
  }

  async stopWorker() {
    if (!this.worker) return;
    const worker = this.worker;
    this.worker = null;
    await worker.stop();
  }

  health() {
    return httpRequest(this.port, { path: '/health', host: this.host });
  }

  /** Waits until /health's "windows" satisfies pred. */
  waitWindows(pred, what) {
    return waitUntil(async () => {
      const response = await this.health();
      return response.status === 200 && response.json && pred(response.json.windows) ? response.json : false;
    }, what);
  }

  /** Waits until a worker is connected again (after [[disconnect]]). */
  waitReady() {
    return this.waitWindows((n) => n >= 1, '/health windows >= 1');
  }

  logs() {
    if (!this.prefix) return '';
    const parts = [];
    for (const name of ['error.log', 'litellm-fcgi.log']) {
      const file = path.join(this.prefix, 'logs', name);
      try {
        const text = fs.readFileSync(file, 'utf8');
        parts.push(`--- ${file} (tail)\n${text.split('\n').slice(-30).join('\n')}`);
      } catch { /* absent */ }
    }
    return parts.join('\n');
  }

  /** The pid of the stack's responder (litellmctl status --json). */
  async responderPid() {
    const { json } = await this.status();
    this.rememberPids(json);
    if (!Number.isInteger(json.responder_pid) || json.responder_pid <= 0) {
      throw new Error(`litellmctl status --json names no responder_pid: ${JSON.stringify(json)}`);
    }
    return this.throughRecorder(json.responder_pid);
  }

  /** With start({recordExit}): the responder itself when `pid` is its recording shell. */
  throughRecorder(pid) {
    if (!this.exitFile) return pid;
    let cmdline = '';
    try { cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return pid; }
    if (!cmdline.includes('fcgi-exit-recorder')) return pid;
    const children = childrenOf(pid);
    if (children.length !== 1) throw new Error(`the exit recorder ${pid} has ${children.length} children`);
    this.knownPids.add(children[0]);
    return children[0];
  }

  /** `litellmctl keys ...args` for this prefix. */
  keys(args) {
    return this.ctl(['keys', ...args]);
  }

  /** The whole text of a log file under PREFIX/logs ('' if absent). */
  logText(name = 'litellm-fcgi.log') {
    try { return fs.readFileSync(path.join(this.prefix, 'logs', name), 'utf8'); } catch { return ''; }
  }

  /**
   * `litellmctl shutdown`, stop the worker, then check nothing is left:
   * no process of this prefix, none of the pids seen, no listener on the port.
   */
  async teardown() {
    if (!this.prefix) return;
    const problems = [];
    try {
      const { json } = await this.status();
      this.rememberPids(json);
    } catch { /* best effort */ }
    const wasRunning = this.knownPids.size > 0 || processesMentioning(this.prefix).length > 0;
    const shutdown = await this.ctl(['shutdown']);
    if (shutdown.code !== 0 && wasRunning) problems.push(`litellmctl shutdown exited ${shutdown.code}: ${shutdown.stderr}`);
    await this.stopWorker();
    try {
      await waitUntil(() => processesMentioning(this.prefix).length === 0 &&
        [...this.knownPids].every((pid) => !isAlive(pid)), 'every process of the stack to exit');
    } catch {
      const left = processesMentioning(this.prefix).map((p) => `${p.pid} ${p.cmdline}`);
      const pids = [...this.knownPids].filter(isAlive);
      problems.push(`processes left after shutdown: ${JSON.stringify(left)} pids alive: ${JSON.stringify(pids)}`);
      for (const pid of new Set([...pids, ...left.map((l) => Number(l.split(' ')[0]))])) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
    if (await canConnect(this.port, this.host)) problems.push(`port ${this.port} still accepts connections after shutdown`);
    if (process.env.LITELLM_SANITIZER_LOGS === '1') {
      // Every responder of the prefix has exited by now (shutdown waits for
      // its drain), so LeakSanitizer's and memcheck's exit reports are written.
      const reports = sanitizerReports(this.logText('litellm-fcgi.log'));
      if (reports.length) {
        problems.push(`${reports.length} sanitizer report(s) in ${path.join(this.prefix, 'logs', 'litellm-fcgi.log')}:\n` +
          reports.join('\n---\n'));
      }
    }
    if (problems.length === 0) fs.rmSync(this.prefix, { recursive: true, force: true });
    else problems.push(`prefix kept for inspection: ${this.prefix}\n${this.logs()}`);
    this.prefix = null;
    if (problems.length) throw new Error(problems.join('\n'));
  }
}

// ---------------------------------------------------------------- limits, keys, Redis (issue 6)

/**
 * Writes a responder configuration file (`name = value` lines, what
 * `litellmctl --fcgi-config FILE` hands the responder as --config); an array
 * value repeats the name (limits-model, limits-key-model). Returns `file`.
 */
export function writeFcgiConfig(file, settings) {
  const lines = [];
  for (const [name, value] of Object.entries(settings)) {
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name} = ${one}`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** A word for /bin/sh, single-quoted. */
export function shellQuote(text) {
  return `'${String(text).replace(/'/g, `'\\''`)}'`;
}

/** A fresh temp directory under /tmp (short, for sockets); removed by the caller. */
export function makeTempDir(tag = 'lt') {
  return fs.mkdtempSync(path.join('/tmp', `${tag}-`));
}

/** The x-ratelimit-* and retry headers of a response (lower-case names; absent ones left out). */
export function rateLimitHeaders(headers) {
  const picked = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('x-ratelimit-') || name === 'retry-after' || name === 'retry-after-ms' || name === 'x-should-retry') {
      picked[name] = value;
    }
  }
  return picked;
}

/**
 * A Go duration as time.Duration.String() prints it, which is what OpenAI's
 * x-ratelimit-reset-* headers carry: "0s", "850ms", "1.5s", "12s", "6m0s",
 * "1h0m0s" (minutes always with seconds, hours always with minutes, no
 * trailing zeros in a fraction).
 */
export const GO_DURATION = /^(?:0s|[1-9]\d*ms|(?:(?:[1-9]\d*h)?(?:\d+m))?\d+(?:\.\d*[1-9])?s)$/;

/** Milliseconds of a GO_DURATION text. */
export function goDurationMs(text) {
  if (!GO_DURATION.test(text)) throw new Error(`not a Go duration: ${JSON.stringify(text)}`);
  if (text.endsWith('ms')) return Number(text.slice(0, -2));
  const match = text.match(/^(?:(\d+)h)?(?:(\d+)m)?([\d.]+)s$/);
  return ((Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * 60 + Number(match[3])) * 1000;
}

/** The request's (non-stream) body asking `text` of `model`, with extra fields. */
export function chatBody(text, { model = 'gpt-4o', ...extra } = {}) {
  return { model, messages: [{ role: 'user', content: text }], ...extra };
}

/** How many open file descriptors of `pid` are sockets (a FastCGI connection the responder accepted is one). */
export function socketFdCount(pid) {
  let count = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) count++;
    } catch { /* closed meanwhile */ }
  }
  return count;
}

/**
 * A real redis-server of the tests' own: loopback only, no persistence, on a
 * free port (kept across stop/start so that a responder finds it again).
 */
export class RedisServer {
  static binary() {
    const fromEnv = process.env.REDIS_SERVER;
    if (fromEnv) return fromEnv;
    for (const dir of (process.env.PATH || '').split(':').concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
      const candidate = path.join(dir || '.', 'redis-server');
      try { fs.accessSync(candidate, fs.constants.X_OK); return candidate; } catch { /* next */ }
    }
    return null;
  }

  constructor() {
    this.port = null;
    this.child = null;
    this.dir = null;
    this.output = '';
  }

  get url() { return `redis://127.0.0.1:${this.port}`; }

  async start() {
    const binary = RedisServer.binary();
    if (!binary) {
      throw new Error('redis-server is not installed: the limits tests start a real Redis ' +
        '(apt-get install redis-server; contrib/bootstrap.sh test installs it)');
    }
    this.port ??= await freePort();
    this.dir ??= makeTempDir('redis');
    const child = spawn(binary, [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--daemonize', 'no',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.setEncoding('utf8').on('data', (c) => { this.output = (this.output + c).slice(-4000); });
    child.stderr.setEncoding('utf8').on('data', (c) => { this.output = (this.output + c).slice(-4000); });
    child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    await waitUntil(async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited: ${this.output}`);
      return (await this.command('PING')).startsWith('+PONG');
    }, `redis-server to answer PING on ${this.port}`);
    return this;
  }

  /** Sends one inline command, resolves with the raw reply text. */
  command(line) {
    return withTimeout(new Promise((resolve, reject) => {
      const socket = net.connect({ port: this.port, host: '127.0.0.1' });
      let reply = '';
      socket.setEncoding('utf8');
      socket.on('connect', () => socket.write(`${line}\r\n`));
      socket.on('data', (c) => { reply += c; if (reply.includes('\r\n')) { socket.destroy(); resolve(reply); } });
      socket.on('error', reject);
      socket.on('close', () => resolve(reply));
    }), `redis ${line}`);
  }

  /** Stops the server (SIGKILL: as a crash would) and waits for it. */
  async stop(signal = 'SIGKILL') {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await withTimeout(child.exited, 'redis-server to exit');
  }

  async teardown() {
    await this.stop();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

/** Per-file setup: one stack for all tests of a file (node:test before/after). */
export function useStack(hooks, options) {
  const stack = new Stack();
  hooks.before(async () => { await stack.start(options); });
  hooks.after(async () => { await stack.teardown(); });
  return stack;
}

export const tmpRoot = os.tmpdir();

// ---------------------------------------------------------------- OpenAI shapes

/** Asserts a non-stream chat.completion body; returns choices[0]. */
export function assertCompletion(assert, body) {
  assert.ok(body && typeof body === 'object', 'completion body is an object');
  assert.equal(body.object, 'chat.completion');
  assert.equal(typeof body.id, 'string');
  assert.ok(body.id.length > 0, 'completion id');
  assert.ok(Number.isInteger(body.created), 'created is an integer');
  assert.equal(typeof body.model, 'string');
  assert.ok(Array.isArray(body.choices) && body.choices.length === 1, 'one choice');
  const choice = body.choices[0];
  assert.equal(choice.index, 0);
  assert.equal(choice.message.role, 'assistant');
  assert.ok(body.usage, 'usage present');
  for (const key of ['prompt_tokens', 'completion_tokens', 'total_tokens']) {
    assert.ok(Number.isInteger(body.usage[key]), `usage.${key} is an integer`);
  }
  assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
  return choice;
}

/**
 * Asserts an SSE chat.completion.chunk stream that ends normally; returns
 * {chunks, content, finishReason, toolCalls} (tool call deltas merged by index).
 */
export function assertStreamBody(assert, text) {
  const events = sseData(text);
  assert.ok(events.length >= 3, `at least role, final and [DONE] events; got ${text}`);
  assert.equal(events.at(-1), '[DONE]', 'the stream ends with data: [DONE]');
  assert.ok(/data: \[DONE\]\n\n$/.test(text), 'the body ends with "data: [DONE]\\n\\n"');
  const chunks = events.slice(0, -1);
  for (const chunk of chunks) {
    assert.notEqual(chunk, '[DONE]', '[DONE] only once, at the end');
    assert.equal(chunk.error, undefined, `no error event in a good stream: ${JSON.stringify(chunk)}`);
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.equal(chunk.id, chunks[0].id, 'every chunk has the same id');
    assert.ok(Array.isArray(chunk.choices));
  }
  const first = chunks[0];
  assert.equal(first.choices[0].delta.role, 'assistant', 'first chunk has delta.role assistant');
  const withChoices = chunks.filter((c) => c.choices.length > 0);
  const final = withChoices.at(-1);
  assert.ok(final.choices[0].finish_reason, 'the last chunk with a choice has finish_reason');
  for (const chunk of withChoices.slice(0, -1)) {
    assert.equal(chunk.choices[0].finish_reason ?? null, null, 'finish_reason only in the final chunk');
  }
  let content = '';
  const toolCalls = [];
  for (const chunk of withChoices) {
    const delta = chunk.choices[0].delta || {};
    if (typeof delta.content === 'string') content += delta.content;
    for (const call of delta.tool_calls || []) {
      const index = call.index ?? 0;
      toolCalls[index] ??= { id: '', type: '', function: { name: '', arguments: '' } };
      if (call.id) toolCalls[index].id += call.id;
      if (call.type) toolCalls[index].type = call.type;
      if (call.function?.name) toolCalls[index].function.name += call.function.name;
      if (call.function?.arguments) toolCalls[index].function.arguments += call.function.arguments;
    }
  }
  return { chunks, content, finishReason: final.choices[0].finish_reason, toolCalls };
}

/** Asserts an SSE stream that ends with an error event (and no [DONE]); returns {content, error}. */
export function assertStreamError(assert, text) {
  const events = sseData(text);
  assert.ok(!events.includes('[DONE]'), `no [DONE] after an error; got ${text}`);
  const last = events.at(-1);
  assert.ok(last && last.error, `the stream ends with an error event; got ${text}`);
  for (const key of ['message', 'type', 'param', 'code']) assert.ok(key in last.error, `error.${key} in ${JSON.stringify(last)}`);
  let content = '';
  for (const chunk of events.slice(0, -1)) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    content += chunk.choices?.[0]?.delta?.content ?? '';
  }
  return { content, error: last.error };
}
