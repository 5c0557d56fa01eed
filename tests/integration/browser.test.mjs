// Issue 13 in a real browser: headless Debian chromium (playwright-core, no
// browser download) against the real stack. A gateway on loopback without
// keys is reachable by every web page the user opens; these tests open such
// pages and check what the gateway lets them do:
//
//   1. a page of this machine (http://localhost:<page port>, and a
//      *.localhost name) streams a chat completion from
//      http://127.0.0.1:<gateway port> through CORS (a JSON POST: the browser
//      sends a preflight first), reads the text as it streams, and reads the
//      exposed x-request-id and x-ratelimit-* headers;
//   2. a foreign page (http://evil.example:<page port>) fires the three
//      requests a page can send to another origin: a `no-cors` text/plain POST
//      (no preflight), a JSON fetch (preflighted: must fail) and a hidden
//      `<form enctype=text/plain>` POST: the model never runs, the gateway
//      answers 403 to each;
//   3. DNS rebinding: a page served for a foreign name whose later requests
//      reach the gateway under that name (Host: rebind.example:<gateway port>)
//      reads neither the model list nor a completion.
//
// Names: chromium's --host-resolver-rules maps evil.example and rebind.example
// to 127.0.0.1 (localhost and *.localhost are loopback in chromium already).
// So the foreign pages are served from a loopback address: the browser's own
// Local/Private Network Access checks (public page → local address), which
// only some browsers have, never come into play, and what stops the attack is
// the gateway alone. That is the point: the gateway must not rely on them.
//
// Nothing here waits for time: every step waits for the event itself (a fetch
// promise settling, the form's target frame firing `load`, the worker's
// request or gate event, the log line itself). "The model never ran" is
// decided by a barrier: after the page's requests have all settled, the test
// sends one request of its own and waits for the worker to report it; the
// worker reports request frames in the order they reach it on its one pipe
// connection, so a frame of any earlier request would have come first.
// Which requests reached the gateway is read from nginx's access log by the
// page's user agent (each test's browser context has a unique one) and
// joined with the responder's log by request id.
//
// chromium: /usr/bin/chromium (Debian's package; `contrib/bootstrap.sh test`
// installs it), or LITELLM_CHROMIUM. Missing, the file fails (no skip).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  Stack, makeTempDir, writeFcgiConfig, nonce, postChat, chatBody, checkResponse, assertStreamBody,
  waitUntil, withTimeout, GUARD_MS,
} from './harness.mjs';
import { launchChromium, requireChromium } from '../lib/chromium.mjs';

const FOREIGN = 'evil.example';
const REBIND = 'rebind.example';
const RPM = 100000;
const TPM = 10000000;

const stack = new Stack();     // first: a missing binary fails here, before any temp file exists
const dir = makeTempDir('lbrowser');
// Limits, so that responses carry the x-ratelimit-* headers a page must be able to read.
const config = writeFcgiConfig(path.join(dir, 'litellm-fcgi.conf'), { 'limits-rpm': RPM, 'limits-tpm': TPM });
const chromiumHome = path.join(dir, 'chromium-home');

let browser = null;
let pageServer = null;         // the tests' own web server, another loopback port
let pagePort = null;
const pageRequests = [];       // what pageServer was asked: {method, url, host}

// ---------------------------------------------------------------- the pages

// One document for every page (the functions are the page's own code; the
// test calls them with page.evaluate and waits for the promise each returns).
// The data: icon keeps chromium from asking the page's origin for a favicon:
// under DNS rebinding that origin is the gateway, and every request there is
// accounted for.
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>browser test page</title><link rel="icon" href="data:,"></head>
<body>
<iframe name="sink" id="sink"></iframe>
<form id="attack" method="post" enctype="text/plain" target="sink"><input type="hidden" id="field"></form>
<script>
'use strict';
const chatJson = (content, extra = {}) =>
  JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...extra });

// A streamed chat completion through CORS: JSON content type, so a preflight.
// Progress is kept in window.streamState (the test waits for "before-gate" there).
window.streamChat = async (gateway, content) => {
  const state = window.streamState = { status: null, headers: {}, raw: '', text: '', done: false };
  const response = await fetch(gateway + '/v1/chat/completions', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: chatJson(content, { stream: true }),
  });
  state.status = response.status;
  for (const [name, value] of response.headers) state.headers[name] = value;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    state.raw += value;
    pending += value;
    let end;
    while ((end = pending.search(/\\r?\\n\\r?\\n/)) >= 0) {
      const block = pending.slice(0, end);
      pending = pending.slice(end).replace(/^\\r?\\n\\r?\\n/, '');
      for (const line of block.split(/\\r?\\n/)) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') state.done = true;
        else state.text += JSON.parse(data).choices?.[0]?.delta?.content ?? '';
      }
    }
  }
  return state;
};

// A plain fetch; resolves with what the page can see, or with the error.
window.tryFetch = async (url, init = {}) => {
  try {
    const response = await fetch(url, init);
    const headers = {};
    for (const [name, value] of response.headers) headers[name] = value;
    return { settled: 'resolved', type: response.type, status: response.status, headers, text: await response.text() };
  } catch (err) {
    return { settled: 'rejected', error: String(err) };
  }
};

// The three cross-origin POSTs a foreign page can make.
window.noCorsPost = (gateway, content) => window.tryFetch(gateway + '/v1/chat/completions', {
  method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: chatJson(content),
});
window.jsonPost = (gateway, content) => window.tryFetch(gateway + '/v1/chat/completions', {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: chatJson(content),
});
// enctype=text/plain sends "name=value\\r\\n" unescaped: a name ending inside
// the message's string and the value closing it make the body a chat request.
// Resolves when the target frame has loaded the gateway's answer.
window.formPost = (gateway, content) => new Promise((resolve) => {
  const form = document.getElementById('attack');
  const field = document.getElementById('field');
  const json = chatJson(content + ' =');
  const cut = json.lastIndexOf('=');
  field.name = json.slice(0, cut);
  field.value = json.slice(cut + 1);
  form.action = gateway + '/v1/chat/completions';
  document.getElementById('sink').addEventListener('load', () => resolve('loaded'), { once: true });
  form.submit();
});
</script>
</body></html>
`;

function startPageServer() {
  const server = http.createServer((req, res) => {
    pageRequests.push({ method: req.method, url: req.url, host: req.headers.host });
    req.resume();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(PAGE);
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// ---------------------------------------------------------------- the browser

let chromium = null;           // tests/lib/chromium.mjs: {browser, close()}

async function launchBrowser() {
  chromium = await launchChromium(chromiumHome, {
    who: 'browser.test.mjs', args: [`--host-resolver-rules=MAP ${FOREIGN} 127.0.0.1, MAP ${REBIND} 127.0.0.1`],
  });
  browser = chromium.browser;
}

/** Closes the browser and fails unless every chromium process is gone (those left are ended). */
async function closeBrowser() {
  if (!chromium) return;
  const closing = chromium;
  chromium = null;
  browser = null;
  await closing.close();
}

/**
 * A fresh browser context with a user agent of its own (which finds its
 * requests in nginx's access log) and one page; console messages are kept
 * (chromium explains a CORS refusal there). `use` gets {page, ua, consoleText()}.
 */
async function withPage(tag, use) {
  const ua = `litellm-browser-test/${nonce(tag)}`;
  const context = await browser.newContext({ userAgent: ua });
  try {
    const page = await context.newPage();
    const messages = [];
    page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (err) => messages.push(`pageerror: ${err.message}`));
    return await use({ page, ua, consoleText: () => messages.join('\n') || '(no console messages)' });
  } finally {
    await withTimeout(context.close(), 'the browser context to close');
  }
}

// ---------------------------------------------------------------- the gateway's view

/** nginx's access-log lines of requests sent with user agent `ua`: [{method, path, status, rid, line}]. */
function accessLines(ua) {
  const lines = [];
  for (const line of stack.logText('access.log').split('\n')) {
    if (!line.endsWith(` ua="${ua}"`)) continue;
    const match = line.match(/"(\S+) (\S+) [^"]*" (\d{3}) \d+ rid=(\S+)/);
    if (!match) throw new Error(`an access-log line of an unexpected shape: ${line}`);
    lines.push({ method: match[1], path: match[2], status: Number(match[3]), rid: match[4], line });
  }
  return lines;
}

/** Waits for `count` access-log lines of `ua` (the lines themselves: nginx writes one after its response). */
function waitAccessLines(ua, count, what) {
  return waitUntil(() => { const lines = accessLines(ua); return lines.length >= count ? lines : false; },
    `${count} access-log line(s) of ${what}`);
}

/** The statuses the responder logged for these request ids (after responderIdle every line is written). */
async function responderStatuses(rids) {
  await stack.responderIdle();
  const text = stack.logText('litellm-fcgi.log');
  return rids.map((rid) => {
    const match = text.match(new RegExp(`request ${rid} \\S+ \\S+ status=(\\d+)`));
    return match ? Number(match[1]) : 'not logged';
  });
}

const requestCount = () => stack.worker.events.filter((e) => e.event === 'request').length;
const reachedWorker = (marker) => stack.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker));

/**
 * A request of the test's own (no Origin: served as ever), awaited until the
 * worker reports it: any request that reached the model before it was
 * reported first.
 */
async function workerBarrier() {
  const marker = nonce('barrier');
  const response = await postChat(stack.port, chatBody(`barrier ${marker}`));
  assert.equal(response.status, 200, `the test's own request is served: ${response.text}`);
  await stack.worker.waitRequest(marker);
}

/** A promise that rejects when `promise` rejects and never resolves: a failing page call ends a wait at once. */
function failsWith(promise) {
  return new Promise((_, reject) => { promise.catch(reject); });
}

// ---------------------------------------------------------------- set-up

before(async () => {
  requireChromium('browser.test.mjs');
  await stack.start({ ctlArgs: ['--fcgi-config', config] });
  pageServer = await startPageServer();
  pagePort = pageServer.address().port;
  await launchBrowser();
});

after(async () => {
  const failures = [];
  for (const step of [
    closeBrowser,
    async () => { if (pageServer) await new Promise((resolve) => { pageServer.close(resolve); pageServer.closeAllConnections(); }); },
    () => stack.teardown(),
  ]) {
    try { await step(); } catch (err) { failures.push(err); }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  if (failures.length) throw failures[0];
});

const gateway = () => `http://127.0.0.1:${stack.port}`;

// ---------------------------------------------------------------- 1. a page of this machine

test('a page on http://localhost streams a chat completion through CORS and reads the exposed headers', async () => {
  await withPage('local', async ({ page, ua, consoleText }) => {
    const origin = `http://localhost:${pagePort}`;
    await page.goto(`${origin}/app`);
    assert.equal(await page.evaluate(() => location.origin), origin);

    const marker = nonce('cors');
    const streaming = page.evaluate(([g, c]) => window.streamChat(g, c), [gateway(), `[[gate]] ${marker}`]);
    streaming.catch(() => {}); // awaited below; a rejection before then ends the waits through failsWith
    const failed = failsWith(streaming);
    failed.catch(() => {});
    const request = await Promise.race([stack.worker.waitRequest(marker), failed]).catch((err) => {
      throw new Error(`the page's streamed request failed: ${err.message}\nchromium said:\n${consoleText()}`);
    });
    // The model holds at its gate: the page has read the first delta while the stream is still open.
    await stack.worker.waitEvent((e) => e.event === 'gate' && e.id === request.id, 'the worker to report the gate');
    await Promise.race([
      page.waitForFunction(() => window.streamState?.text.includes('before-gate'), null, { timeout: GUARD_MS }),
      failed,
    ]);
    assert.equal(await page.evaluate(() => window.streamState.done), false, 'the stream is still open at the gate');
    stack.worker.command(`release ${request.id}`);
    const state = await withTimeout(streaming, 'the page to read the stream to its end');

    assert.equal(state.status, 200, state.raw);
    assert.equal(state.text, 'before-gateafter-gate');
    assert.equal(state.done, true, 'the page read data: [DONE]');
    checkResponse({ method: 'POST', path: '/v1/chat/completions', status: 200, contentType: state.headers['content-type'], text: state.raw });
    assertStreamBody(assert, state.raw);
    // Exposed headers: without Access-Control-Expose-Headers a page sees only the safelisted ones.
    assert.equal(state.headers['x-request-id'], request.id, `the page reads x-request-id: ${JSON.stringify(state.headers)}`);
    assert.equal(state.headers['x-ratelimit-limit-requests'], String(RPM), `the page reads x-ratelimit-*: ${JSON.stringify(state.headers)}`);
    assert.equal(state.headers['x-ratelimit-limit-tokens'], String(TPM));

    // The gateway answered the preflight (204) and then the POST.
    const lines = await waitAccessLines(ua, 2, 'the preflight and the POST');
    assert.deepEqual(lines.map((l) => `${l.method} ${l.path} ${l.status}`),
      ['OPTIONS /v1/chat/completions 204', 'POST /v1/chat/completions 200']);
  });
});

test('a page on a *.localhost name reads a non-streamed completion through CORS', async () => {
  await withPage('sublocal', async ({ page, consoleText }) => {
    const origin = `http://app.localhost:${pagePort}`;
    await page.goto(`${origin}/app`);
    assert.equal(await page.evaluate(() => location.origin), origin);
    const marker = nonce('sub');
    const result = await page.evaluate(([g, c]) => window.jsonPost(g, c), [gateway(), `hello from ${marker}`]);
    assert.equal(result.settled, 'resolved', `the page's fetch failed: ${result.error}\nchromium said:\n${consoleText()}`);
    assert.equal(result.status, 200, result.text);
    checkResponse({ method: 'POST', path: '/v1/chat/completions', status: 200, contentType: result.headers['content-type'], text: result.text });
    assert.equal(JSON.parse(result.text).choices[0].message.content, `hello from ${marker}`);
    const request = await stack.worker.waitRequest(marker);
    assert.equal(result.headers['x-request-id'], request.id);
  });
});

// ---------------------------------------------------------------- 2. a foreign page

test('a foreign page (no-cors POST, JSON fetch, text/plain form) never makes the model run: 403 each', async () => {
  await withPage('foreign', async ({ page, ua, consoleText }) => {
    const origin = `http://${FOREIGN}:${pagePort}`;
    const served = pageRequests.length;
    await page.goto(`${origin}/attack`);
    assert.equal(await page.evaluate(() => location.origin), origin);
    assert.ok(pageRequests.slice(served).some((r) => r.url === '/attack' && r.host === `${FOREIGN}:${pagePort}`),
      `the page server served the document under the foreign name: ${JSON.stringify(pageRequests.slice(served))}`);

    const before = requestCount();
    const markers = { noCors: nonce('nocors'), json: nonce('json'), form: nonce('form') };
    // Each call resolves when the browser is done with its request.
    const noCors = await page.evaluate(([g, c]) => window.noCorsPost(g, c), [gateway(), `no-cors ${markers.noCors}`]);
    const json = await page.evaluate(([g, c]) => window.jsonPost(g, c), [gateway(), `json ${markers.json}`]);
    const form = await page.evaluate(([g, c]) => window.formPost(g, c), [gateway(), `form ${markers.form}`]);

    // What the page itself sees: an opaque answer, a network error, a loaded frame it cannot read.
    assert.deepEqual([noCors.settled, noCors.type, noCors.status], ['resolved', 'opaque', 0], JSON.stringify(noCors));
    assert.equal(json.settled, 'rejected', `the preflighted JSON fetch must fail: ${JSON.stringify(json)}\n${consoleText()}`);
    assert.equal(form, 'loaded');

    // The gateway's view, once all three have settled.
    await workerBarrier();
    const lines = await waitAccessLines(ua, 3, "the foreign page's three requests");
    const statuses = await responderStatuses(lines.map((l) => l.rid));
    assert.deepEqual({
      reachedTheModel: Object.entries(markers).filter(([, m]) => reachedWorker(m)).map(([name]) => name),
      requestsTheWorkerGot: requestCount() - before,
      nginxSaw: lines.map((l) => `${l.method} ${l.path} ${l.status}`).sort(),
      responderLogged: statuses,
    }, {
      reachedTheModel: [],
      requestsTheWorkerGot: 1, // the barrier's
      nginxSaw: ['OPTIONS /v1/chat/completions 403', 'POST /v1/chat/completions 403', 'POST /v1/chat/completions 403'],
      responderLogged: [403, 403, 403],
    }, `the foreign page's requests: ${lines.map((l) => l.line).join('\n')}`);
  });
});

// ---------------------------------------------------------------- 3. DNS rebinding

// DNS rebinding: the attacker's name first resolves to the attacker's server,
// which serves the page; then (short TTL) to 127.0.0.1. The page's origin is
// still http://rebind.example:<port>, so the browser treats its requests to
// that origin as same-origin (no CORS, no preflight; a GET carries no Origin)
// while they land on the gateway with `Host: rebind.example:<port>`. The port
// must be the gateway's: it is part of the origin.
// Here the first answer is played by playwright: the request for the
// document is sent on to the page server (route.continue with its URL: the
// page never sees it, its URL and origin stay rebind.example's), then the
// route is removed, and from then on the name resolves to 127.0.0.1
// (--host-resolver-rules), the rebound answer: the page's own fetches go over
// the network to the gateway's port, with the foreign name as Host.
// The attacker's server is on loopback like the foreign page's: a document
// from a public address (or fulfilled by playwright, which has none) would
// meet chromium's own Private Network Access check, which refuses a
// non-secure page's requests to loopback by itself; other browsers have no
// such check, and the gateway must not rely on it.
test('DNS rebinding: a page served for a foreign name on the gateway port reads neither the models nor a completion', async () => {
  await withPage('rebind', async ({ page, ua, consoleText }) => {
    const origin = `http://${REBIND}:${stack.port}`;
    const documentUrl = `${origin}/`;
    const served = pageRequests.length;
    await page.route((url) => url.href === documentUrl,
      (route) => route.continue({ url: `http://127.0.0.1:${pagePort}/rebind` }));
    await page.goto(documentUrl);
    await page.unrouteAll({ behavior: 'wait' });
    assert.equal(await page.evaluate(() => location.origin), origin);
    assert.deepEqual(pageRequests.slice(served).map((r) => r.url), ['/rebind'], 'the page server served the document');

    const before = requestCount();
    const marker = nonce('rebind');
    const models = await page.evaluate(() => window.tryFetch('/v1/models'));
    const chat = await page.evaluate((c) => window.tryFetch('/v1/chat/completions', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: c }] }),
    }), `rebind ${marker}`);
    for (const [what, result] of [['GET /v1/models', models], ['POST /v1/chat/completions', chat]]) {
      assert.equal(result.settled, 'resolved', `${what}: same-origin, so the page gets an answer: ${JSON.stringify(result)}\n${consoleText()}`);
      const [method, urlPath] = what.split(' ');
      checkResponse({ method, path: urlPath, status: result.status, contentType: result.headers['content-type'], text: result.text });
    }

    await workerBarrier();
    const lines = await waitAccessLines(ua, 2, "the rebound page's two requests");
    const statuses = await responderStatuses(lines.map((l) => l.rid));
    const code = (result) => { try { return JSON.parse(result.text).error?.code ?? null; } catch { return null; } };
    assert.deepEqual({
      modelsStatus: models.status,
      modelsCode: code(models),
      modelListReadable: models.text.includes('test/gpt-4o'),
      chatStatus: chat.status,
      chatRefusedFor: ['host_not_allowed', 'origin_not_allowed'].includes(code(chat)) ? 'its Host or Origin' : code(chat),
      reachedTheModel: reachedWorker(marker),
      requestsTheWorkerGot: requestCount() - before,
      nginxSaw: lines.map((l) => `${l.method} ${l.path} ${l.status}`),
      responderLogged: statuses,
    }, {
      modelsStatus: 403,
      modelsCode: 'host_not_allowed', // a same-origin GET carries no Origin: the Host alone refuses it
      modelListReadable: false,
      chatStatus: 403,
      chatRefusedFor: 'its Host or Origin',
      reachedTheModel: false,
      requestsTheWorkerGot: 1, // the barrier's
      nginxSaw: ['GET /v1/models 403', 'POST /v1/chat/completions 403'],
      responderLogged: [403, 403],
    }, `the rebound page saw: models ${models.status} ${models.text.slice(0, 300)} | chat ${chat.status} ${chat.text.slice(0, 300)}`);
    assert.ok(!accessLines(ua).some((l) => l.path === '/'), 'the document came from the "attacker", not the gateway');
  });
});
