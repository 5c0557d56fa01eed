// Hostile HTTP input through the real nginx (issue 8, "Reliability" 4):
// bodies at and past the size limit, deeply nested JSON, invalid UTF-8, NUL
// bytes, numbers out of range, 100,000 messages, huge tool schemas, slowloris
// headers and bodies, header floods. Each is answered cleanly (an OpenAI
// error, or a reply when the input is legal), nothing reaches VS Code that
// should not, and the stack serves a normal request afterwards. Pipe peers
// and socket permissions are in hostile-pipe.test.mjs.
//
// The worker reports a context of 10^9 tokens, so that the large legal bodies
// reach it instead of stopping at the context-length check.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  useStack, httpRequest, postChat, openStream, nonce, waitUntil, socketFdCount, openAiError, assertCompletion,
  assertStreamBody, longTestsSkip, GUARD_SCALE,
} from './harness.mjs';

const stack = useStack({ before, after }, { workerArgs: ['--max-input-tokens', '1000000000'] });

const MAX_BODY = 16 * 1024 * 1024;    // litellmctl's default --max-body (16m), nginx's and the responder's

/** Posts raw bytes (a Buffer: no re-encoding) with an explicit Content-Length. */
function postBytes(bytes, headers = {}) {
  return httpRequest(stack.port, {
    method: 'POST', path: '/v1/chat/completions', body: bytes,
    headers: { 'content-type': 'application/json', 'content-length': String(bytes.length), ...headers },
  });
}

/**
 * One HTTP exchange on a raw socket, for what node's http client will not
 * send or would decode: returns {status, headers, body (Buffer, de-chunked)}
 * once the server closes (the request says Connection: close).
 */
function rawHttp(requestBytes, { localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: stack.port, host: '127.0.0.1', localAddress });
    const chunks = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) { reject(new Error(`no response head: ${JSON.stringify(all.toString('latin1').slice(0, 200))}`)); return; }
      const lines = all.subarray(0, end).toString('latin1').split('\r\n');
      const headers = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body = all.subarray(end + 4);
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
        const parts = [];
        for (let at = 0; ;) {
          const lineEnd = body.indexOf('\r\n', at);
          const size = parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
          if (!size) break;
          parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
          at = lineEnd + 2 + size + 2;
        }
        body = Buffer.concat(parts);
      }
      resolve({ status: Number(lines[0].split(' ')[1]), headers, body });
    });
    // Not end(): nginx takes a client that half-closes for one that left (499).
    socket.write(requestBytes);
  });
}

function rawPost(bodyBytes, extraHeaderLines = '') {
  const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${bodyBytes.length}\r\nConnection: close\r\n${extraHeaderLines}\r\n`;
  return rawHttp(Buffer.concat([Buffer.from(head, 'latin1'), bodyBytes]));
}

/** The text is well-formed UTF-8 (throws otherwise). */
const strictUtf8 = (bytes) => new TextDecoder('utf-8', { fatal: true }).decode(bytes);

/** A normal request still works (and, with `marker`, the stack is the one it was). */
async function stillServes() {
  const marker = nonce('alive');
  const response = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: marker }] });
  assert.equal(assertCompletion(assert, response.json).message.content, marker);
}

/**
 * Lines of the responder's log that record a chat request, once every request
 * the responder has taken is logged (a line is written after its response
 * reached the client: counting at once raced the previous test's last line).
 */
async function chatLogLines() {
  await stack.responderIdle();
  return stack.logText().split('\n').filter((line) => line.includes(' POST /v1/chat/completions ')).length;
}

const chat = (content, extra = {}) => ({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...extra });

// ---------------------------------------------------------------- size limit

test('a body of exactly the size limit (16 MiB) is read and served', async () => {
  const marker = nonce('at-limit');
  const skeleton = JSON.stringify(chat(marker, { user: '' }));
  const body = Buffer.from(skeleton.replace('"user":""', `"user":"${'u'.repeat(MAX_BODY - skeleton.length)}"`));
  assert.equal(body.length, MAX_BODY);
  const response = await postBytes(body);
  assert.equal(assertCompletion(assert, response.json).message.content, marker);
});

test('one byte past the size limit: 413 request_too_large from nginx, with Content-Length or chunked', async () => {
  const skeleton = JSON.stringify(chat('x', { user: '' }));
  const body = Buffer.from(skeleton.replace('"user":""', `"user":"${'u'.repeat(MAX_BODY + 1 - skeleton.length)}"`));
  assert.equal(body.length, MAX_BODY + 1);
  const before = await chatLogLines();
  assert.equal(openAiError(assert, await postBytes(body), 413).code, 'request_too_large');
  // No Content-Length: node's client sends it chunked; nginx counts as it reads.
  const chunked = await httpRequest(stack.port, { method: 'POST', path: '/v1/chat/completions', body, headers: { 'content-type': 'application/json' } });
  assert.equal(openAiError(assert, chunked, 413).code, 'request_too_large');
  assert.equal(await chatLogLines(), before, 'the responder never saw either request');
  await stillServes();
});

// ---------------------------------------------------------------- JSON shapes

test('deeply nested JSON: 100,000 levels → 400 invalid_json; 990 levels in an ignored field → served', async () => {
  const deep = await postBytes(Buffer.from('['.repeat(100_000)));
  assert.equal(openAiError(assert, deep, 400).code, 'invalid_json');
  const deepObject = await postBytes(Buffer.from('{"a":'.repeat(100_000)));
  assert.equal(openAiError(assert, deepObject, 400).code, 'invalid_json');
  const marker = nonce('nested');
  const ignored = JSON.stringify(chat(marker)).replace(/}$/, `,"metadata":${'{"a":'.repeat(990)}1${'}'.repeat(990)}}`);
  const response = await postBytes(Buffer.from(ignored));
  assert.equal(assertCompletion(assert, response.json).message.content, marker);
  const content = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: JSON.parse('['.repeat(900) + ']'.repeat(900)) }] });
  assert.equal(openAiError(assert, await postBytes(Buffer.from(content)), 400).type, 'invalid_request_error');
  await stillServes();
});

test('a tool schema nested 990 levels deep reaches the window intact', async () => {
  const marker = nonce('deep-tool');
  const parameters = JSON.parse(`{"type":"object","x":${'{"a":'.repeat(990)}1${'}'.repeat(990)}}`);
  const response = await postChat(stack.port, chat(marker, { tools: [{ type: 'function', function: { name: 'deep', parameters } }] }));
  assert.equal(assertCompletion(assert, response.json).message.content, marker);
  const request = await stack.worker.waitRequest(marker);
  let depth = 0;
  for (let node = request.tools[0].function?.parameters?.x ?? request.tools[0].parameters?.x; node && typeof node === 'object'; node = node.a) depth++;
  assert.equal(depth, 990, `the schema's depth as the window got it: ${JSON.stringify(request.tools[0]).slice(0, 200)}`);
});

test('invalid UTF-8, NUL bytes and control characters: a clean answer in valid UTF-8, never a 5xx', async () => {
  const cases = [
    ['invalid UTF-8 in content', Buffer.from('{"model":"gpt-4o","messages":[{"role":"user","content":"a\xff\xfeb\xc0\xafc\xed\xa0\x80d"}]}', 'latin1')],
    ['invalid UTF-8 in the model name', Buffer.from('{"model":"gpt\xff\xfe","messages":[{"role":"user","content":"x"}]}', 'latin1')],
    ['invalid UTF-8 in a role', Buffer.from('{"model":"gpt-4o","messages":[{"role":"user\xff","content":"x"}]}', 'latin1')],
    ['invalid UTF-8 in a stop sequence', Buffer.from('{"model":"gpt-4o","stop":"\xff","messages":[{"role":"user","content":"x"}]}', 'latin1')],
    ['a lone surrogate escape', Buffer.from('{"model":"gpt-4o","messages":[{"role":"user","content":"a\\ud800b"}]}')],
    ['an escaped NUL in content', Buffer.from('{"model":"gpt-4o","messages":[{"role":"user","content":"a\\u0000b"}]}')],
    ['a raw NUL in content', Buffer.from('{"model":"gpt-4o","messages":[{"role":"user","content":"a\x00b"}]}', 'latin1')],
    ['raw control characters in content', Buffer.from('{"model":"gpt-4o","messages":[{"role":"user","content":"a\x01\x1f\x7fb"}]}', 'latin1')],
    ['a NUL before the JSON', Buffer.from('\x00{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}', 'latin1')],
    ['a NUL after the JSON', Buffer.from('{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}\x00', 'latin1')],
    ['only NULs', Buffer.alloc(4096)],
    ['random bytes', Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 256))],
  ];
  for (const [name, bytes] of cases) {
    const response = await rawPost(bytes);
    assert.ok([200, 400, 404].includes(response.status), `${name}: status ${response.status}: ${response.body.toString('latin1').slice(0, 300)}`);
    assert.match(response.headers['content-type'] ?? '', /^application\/json/, `${name}: content-type`);
    let text;
    assert.doesNotThrow(() => { text = strictUtf8(response.body); }, `${name}: the answer is valid UTF-8`);
    const value = JSON.parse(text);
    if (response.status === 200) assertCompletion(assert, value);
    else assert.ok(value.error && typeof value.error.message === 'string', `${name}: an OpenAI error: ${text}`);
  }
  await stillServes();
});

test('an escaped NUL (\\u0000) in content is refused with 400, never silently cut there', async () => {
  const marker = nonce('nul');
  const response = await postBytes(Buffer.from(`{"model":"gpt-4o","messages":[{"role":"user","content":"a\\u0000b ${marker}"}]}`));
  assert.equal(response.status, 400, response.text);
  assert.match(response.json.error.message, /NUL/);
});

test('raw invalid UTF-8 anywhere in the body → 400 invalid_json; the window never sees it', async () => {
  const before = stack.worker.events.filter((e) => e.event === 'request').length;
  for (const bytes of ['a\xffb', '\xc0\xaf', '\xed\xa0\x80', 'caf\xe9', '\xf4\x90\x80\x80']) {
    const body = Buffer.from(`{"model":"gpt-4o","messages":[{"role":"user","content":"${bytes}"}]}`, 'latin1');
    const error = openAiError(assert, await postBytes(body), 400);
    assert.equal(error.code, 'invalid_json', JSON.stringify(bytes));
    assert.match(error.message, /UTF-8/);
  }
  assert.equal(stack.worker.events.filter((e) => e.event === 'request').length, before, 'nothing reached the window');
  // Well-formed UTF-8 of every length passes through unchanged.
  const text = `${nonce('utf8')} é € 𝄞 ✓`;
  const response = await postBytes(Buffer.from(JSON.stringify(chat(text))));
  assert.equal(assertCompletion(assert, response.json).message.content, text);
});

test('numbers out of range → 400 naming the parameter; the extremes that are legal are served', async () => {
  const refused = [
    ['temperature', '1e400'], ['temperature', '-1e400'], ['temperature', '2.0000001'], ['top_p', '-1e-300'],
    ['max_tokens', '1e400'], ['max_tokens', '9007199254740993'], ['max_tokens', '-0'], ['max_tokens', '0.5'],
    ['max_completion_tokens', '2147483648'], ['seed', '1e300'], ['seed', '9007199254740992'],
    ['n', '1e999'], ['n', '2'], ['presence_penalty', '-2.5'], ['frequency_penalty', '1e308'],
  ];
  for (const [param, literal] of refused) {
    const body = Buffer.from(`{"model":"gpt-4o","${param}":${literal},"messages":[{"role":"user","content":"x"}]}`);
    const error = openAiError(assert, await postBytes(body), 400);
    assert.equal(error.param, param, `${param}: ${literal} → ${error.message}`);
  }
  const served = [
    ['temperature', '1e-400'], ['temperature', '2'], ['max_tokens', '1e9'], ['max_tokens', '1E+1'],
    ['seed', '-9007199254740991'], ['n', '1.0'], ['logit_bias', '{"1":1e400}'],
  ];
  for (const [param, literal] of served) {
    const marker = nonce('num');
    const body = Buffer.from(`{"model":"gpt-4o","${param}":${literal},"messages":[{"role":"user","content":"${marker}"}]}`);
    const response = await postBytes(body);
    assert.equal(assertCompletion(assert, response.json).message.content, marker, `${param}: ${literal}`);
  }
});

test('100,000 messages are parsed, estimated and relayed', async () => {
  const marker = nonce('many');
  const messages = Array.from({ length: 100_000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i}` }));
  messages.push({ role: 'user', content: marker });
  const response = await postChat(stack.port, { model: 'gpt-4o', messages });
  assert.equal(assertCompletion(assert, response.json).message.content, marker);
  assert.ok(response.json.usage.prompt_tokens > 0);
  const request = await stack.worker.waitRequest(marker);
  assert.equal(request.messages.length, 100_001);
});

test('huge tool schemas: 2,000 tools, and one schema of 4 MiB', async () => {
  const marker = nonce('tools');
  const tools = Array.from({ length: 2000 }, (_, i) => ({
    type: 'function',
    function: { name: `tool_${i}`, description: `tool number ${i}`, parameters: { type: 'object', properties: { a: { type: 'string' } } } },
  }));
  const response = await postChat(stack.port, chat(marker, { tools }));
  assert.equal(assertCompletion(assert, response.json).message.content, marker);
  assert.equal((await stack.worker.waitRequest(marker)).tools.length, 2000);

  const bigMarker = nonce('bigtool');
  const properties = {};
  for (let i = 0; i < 40_000; i++) properties[`property_${i}`] = { type: 'string', description: 'd'.repeat(64) };
  const big = await postChat(stack.port, chat(bigMarker, { tools: [{ type: 'function', function: { name: 'big', parameters: { type: 'object', properties } } }] }));
  assert.equal(assertCompletion(assert, big.json).message.content, bigMarker);
  await stillServes();
});

// ---------------------------------------------------------------- slowloris and header floods

/**
 * Opens `count` connections that send part of a request and then nothing:
 * [{socket, received (what came back), ended (closed by the server)}].
 */
function slowClients(count, partial) {
  return Promise.all(Array.from({ length: count }, () => new Promise((resolve, reject) => {
    const client = { socket: net.connect({ port: stack.port, host: '127.0.0.1' }), received: '', ended: false };
    client.socket.on('data', (c) => { client.received += c.toString('latin1'); });
    client.socket.on('close', () => { client.ended = true; });
    client.socket.on('error', () => {});
    client.socket.once('connect', () => client.socket.write(partial, () => resolve(client)));
    client.socket.once('error', reject);
  })));
}

const SLOW_HEADERS = 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Slow: ';
const SLOW_BODY = 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
  'Content-Length: 100000\r\n\r\n{"model":"gpt-4o","messages":[';

test('slowloris: slow headers and slow bodies never reach the responder, which serves others meanwhile', async () => {
  const pid = await stack.responderPid();
  const before = socketFdCount(pid);
  const slow = [...await slowClients(30, SLOW_HEADERS), ...await slowClients(30, SLOW_BODY)];
  try {
    // nginx holds every one of them itself: the responder has accepted none
    // (a FastCGI connection would be one more socket), and serves as usual.
    await stillServes();
    const stream = await openStream(stack.port, { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: '[[chunks:3]]' }] });
    assert.equal(assertStreamBody(assert, await stream.readToEnd()).content, 'c1 c2 c3 ');
    // None of them holds a thread: only /health's own is busy.  (The
    // responder's sockets alone no longer tell: nginx keeps FastCGI
    // connections alive, each at most one idle thread, never a busy one.)
    await stack.responderIdle();
    assert.ok(socketFdCount(pid) < before + slow.length, `the responder holds a connection per slow client (${before} sockets before)`);
    assert.equal((await stack.health()).json.in_flight, 0);
    assert.ok(slow.every((c) => !c.ended && c.received === ''), 'the slow clients are still waiting');
  } finally {
    for (const { socket } of slow) socket.destroy();
  }
});

test('slowloris (long): nginx times slow headers and slow bodies out (60 s), the responder never sees them', { skip: longTestsSkip }, async () => {
  await stack.responderIdle();
  const before = stack.logText().length;
  const slow = [...await slowClients(5, SLOW_HEADERS), ...await slowClients(5, SLOW_BODY)];
  try {
    // nginx's client_header_timeout and client_body_timeout: 60 s by default.
    await Promise.all(slow.map((c, i) => waitUntil(() => c.ended, `nginx to close slow client ${i}`, 120_000 * GUARD_SCALE)));
    for (const { received } of slow) assert.ok(received === '' || /^HTTP\/1\.1 408/.test(received), `nginx's answer: ${received.slice(0, 100)}`);
    await stack.responderIdle();
    assert.doesNotMatch(stack.logText().slice(before), /POST \/v1\/chat\/completions/, 'the responder never saw them');
    await stillServes();
  } finally {
    for (const { socket } of slow) socket.destroy();
  }
});

test('header floods: a 9 KiB header, 5,000 headers, 200 such clients at once → 400 from nginx; the responder never sees them', async () => {
  const body = Buffer.from(JSON.stringify(chat('x')));
  const before = await chatLogLines();
  const huge = await rawPost(body, `X-Huge: ${'h'.repeat(9 * 1024)}\r\n`);
  assert.equal(huge.status, 400);
  const many = await rawPost(body, Array.from({ length: 5000 }, (_, i) => `X-H${i}: v${i}\r\n`).join(''));
  assert.equal(many.status, 400);
  const flood = await Promise.all(Array.from({ length: 200 }, () => rawPost(body, `X-Huge: ${'h'.repeat(9 * 1024)}\r\n`)));
  assert.ok(flood.every((r) => r.status === 400), `statuses: ${[...new Set(flood.map((r) => r.status))]}`);
  assert.equal(await chatLogLines(), before, 'the responder never saw them');
  await stillServes();
});

test('many and large headers that nginx lets through are served by the responder', async () => {
  const marker = nonce('headers');
  const body = Buffer.from(JSON.stringify(chat(marker)));
  const many = await rawPost(body, Array.from({ length: 400 }, (_, i) => `X-H${i}: v${i}\r\n`).join(''));
  assert.equal(many.status, 200, many.body.toString());
  assert.equal(JSON.parse(strictUtf8(many.body)).choices[0].message.content, marker);
  const large = await rawPost(body, [1, 2, 3].map((i) => `X-Large-${i}: ${'l'.repeat(7000)}\r\n`).join(''));
  assert.equal(large.status, 200, large.body.toString());
});

test('nginx\'s own refusals (bad request line, header too large, URI too long, %00 in the path, broken chunked body) are OpenAI error objects', async () => {
  const body = Buffer.from(JSON.stringify(chat('x')));
  const before = await chatLogLines();
  const refusals = [
    await rawPost(body, `X-Huge: ${'h'.repeat(9 * 1024)}\r\n`),
    await rawHttp(Buffer.from(`GET /v1/models/${'a'.repeat(9000)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)),
    await rawHttp(Buffer.from('GET /v1/models/%00abc HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')),
    await rawHttp(Buffer.from('NOT AN HTTP REQUEST\r\n\r\n')),
    await rawHttp(Buffer.from('POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n')),
  ];
  assert.deepEqual(refusals.map((r) => r.status), [400, 414, 400, 400, 400]);
  const codes = refusals.map((response) => {
    assert.match(response.headers['content-type'] ?? '', /^application\/json/);
    assert.match(response.headers['x-request-id'] ?? '', /^[0-9a-f]{32}$/);
    const { error } = JSON.parse(response.body.toString());
    assert.equal(error.type, 'invalid_request_error');
    assert.ok(error.message.length > 0);
    return error.code;
  });
  assert.deepEqual(codes, ['request_header_too_large', 'uri_too_long', 'bad_request', 'bad_request', 'bad_request']);
  // The pages are internal: asking for one directly is not a way in.
  const direct = await rawHttp(Buffer.from('GET /.vscode-litellm/error/400 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
  assert.equal(direct.status, 404);
  assert.equal(JSON.parse(direct.body.toString()).error.code, 'not_found');
  assert.equal(await chatLogLines(), before, 'the responder never saw them');
  await stillServes();
});
