// http.mjs: HTTP, SSE and curl clients of the gateway. Everything they
// receive is validated against OpenAI's OpenAPI document, or on Anthropic's
// routes against tests/spec/anthropic-messages.schema.json (spec-guard.mjs):
// a violation fails the test.

import http from 'node:http';
import { GUARD_MS, run, withTimeout } from './procs.mjs';
import { checkResponse, responseValidator } from './spec-guard.mjs';
import { ERROR_TYPE_BY_STATUS } from '../spec/anthropic.mjs';

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
          checkResponse({
            method, path: urlPath, status: res.statusCode, contentType: res.headers['content-type'], text, requestHeaders: headers, headers: res.headers,
          });
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
      const validator = responseValidator({
        method: 'POST', path: urlPath, status: res.statusCode, contentType: res.headers['content-type'], requestHeaders: headers, headers: res.headers,
      });
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
    const requestHeaders = {};
    args.forEach((arg, i) => {
      if ((arg === '-H' || arg === '--header') && typeof args[i + 1] === 'string') {
        const colon = args[i + 1].indexOf(':');
        if (colon > 0) requestHeaders[args[i + 1].slice(0, colon).trim().toLowerCase()] = args[i + 1].slice(colon + 1).trim();
      }
    });
    checkCurlOutput(url, method, result.stdout, { withHeaders, requestHeaders });
  }
  return result;
}

/**
 * Validates what curl printed for `url`: with headers (-i), the response as
 * parsed by parseCurlResponse; without, the body alone (an event stream when it
 * starts with "data:", "event:" or ":", an error when it is {"error": …}, else
 * the success schema of the path; an Anthropic error's status is the one its
 * type stands for). requestHeaders: the -H headers (anthropic-version picks
 * Anthropic's model list). Throws the first violation.
 */
export function checkCurlOutput(url, method, output, { withHeaders = false, requestHeaders = {} } = {}) {
  const { pathname, search } = new URL(url);
  if (withHeaders) {
    const response = parseCurlResponse(output);
    checkResponse({
      method, path: pathname + search, status: response.status, contentType: response.headers['content-type'], text: response.body,
      requestHeaders, headers: response.headers,
    });
    return;
  }
  const sse = /^(data:|event:|:)/.test(output);
  let status = 200;
  if (!sse) {
    try {
      const body = JSON.parse(output);
      if (body?.type === 'error') {
        status = Number(Object.entries(ERROR_TYPE_BY_STATUS).find(([, type]) => type === body.error?.type)?.[0] ?? 400);
      } else if (body?.error) status = 400;
    } catch { /* checkResponse reports a non-JSON body */ }
  }
  checkResponse({ method, path: pathname + search, status, contentType: sse ? 'text/event-stream' : 'application/json', text: output, requestHeaders });
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

