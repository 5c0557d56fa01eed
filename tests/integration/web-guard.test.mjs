// Web pages and the gateway (issue 13), by raw HTTP through the real nginx:
// the four holes the issue found on a default gateway are closed (a
// cross-site simple POST, a DNS-rebinding Host, a preflight answered 405, a
// foreign page reading models), local pages get CORS, clients without an
// Origin are served as before, and --allowed-hosts / --allowed-origins in
// the responder's configuration open exactly the names they list.
// tests/integration/browser.test.mjs proves the same in a real browser.
//
// "The model never ran" is proven with a barrier: the pipe carries requests
// in order, so once a later allowed request reaches the worker, a refused
// one sent before it would have reached it first.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  Stack, makeTempDir, writeFcgiConfig, nonce, httpRequest, postChat, chatBody, openAiError, curl,
  parseCurlResponse, openStream,
} from './harness.mjs';

const plain = new Stack();
const configured = new Stack();
const dir = makeTempDir('lweb');
const config = writeFcgiConfig(path.join(dir, 'litellm-fcgi.conf'), {
  'allowed-hosts': 'llm.team.example, *.corp.example',
  'allowed-origins': 'https://chat.team.example',
});

before(async () => {
  await plain.start();
  await configured.start({ ctlArgs: ['--fcgi-config', config] });
});

after(async () => {
  try {
    await plain.teardown();
    await configured.teardown();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const EXPOSED = ['x-request-id', 'request-id', 'retry-after', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-tokens'];

function assertRefused(response, code) {
  const error = openAiError(assert, response, 403);
  assert.equal(error.code, code);
  assert.equal(error.type, 'permission_error');
  assert.equal(response.headers['access-control-allow-origin'], undefined, 'no CORS headers for a refused page');
  return error;
}

/** Proves no request carrying `marker` reached the worker (see the barrier above). */
async function assertModelNeverRan(stack, marker) {
  const barrier = nonce('barrier');
  const response = await postChat(stack.port, chatBody(barrier));
  assert.equal(response.status, 200, response.text);
  await stack.worker.waitRequest(barrier);
  assert.ok(!stack.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker)),
    'the refused request reached the model');
}

test('a cross-site simple POST (text/plain, foreign Origin) is 403 and never runs the model', async () => {
  const marker = nonce('xsite');
  const response = await postChat(plain.port, JSON.stringify(chatBody(marker)), {
    headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
  });
  const error = assertRefused(response, 'origin_not_allowed');
  assert.match(error.message, /https:\/\/evil\.example/);
  assert.match(error.message, /--allowed-origins/);
  await assertModelNeverRan(plain, marker);
  const log = plain.logText();
  assert.match(log, new RegExp(`request ${response.headers['x-request-id']} refused: Origin 'https://evil.example'`));
});

test('a form POST (urlencoded) and Origin: null are refused the same way', async () => {
  for (const origin of ['http://evil.example:8080', 'null']) {
    const marker = nonce('form');
    const response = await postChat(plain.port, `q=${marker}`, {
      headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
    });
    assertRefused(response, 'origin_not_allowed');
    await assertModelNeverRan(plain, marker);
  }
});

test('DNS rebinding: a foreign Host on loopback can neither list models nor run one', async () => {
  const models = await httpRequest(plain.port, { path: '/v1/models', headers: { host: `evil.example:${plain.port}` } });
  const error = assertRefused(models, 'host_not_allowed');
  assert.match(error.message, /evil\.example/);
  assert.match(error.message, /--allowed-hosts/);
  assert.ok(!models.text.includes('gpt-4o'), 'no model list leaks');

  const marker = nonce('rebind');
  const chat = await postChat(plain.port, chatBody(marker), {
    headers: { host: `EVIL.example:${plain.port}`, origin: `http://evil.example:${plain.port}` },
  });
  assertRefused(chat, 'host_not_allowed');
  await assertModelNeverRan(plain, marker);
  assert.match(plain.logText(), /refused: Host 'EVIL\.example:\d+' is not a local or allowed one/);
});

test('loopback names are served in any case and on any port; clients without Origin as before', async () => {
  for (const host of ['localhost', `LOCALHOST:${plain.port}`, 'app.localhost:1', '127.0.0.1', '[::1]:4000']) {
    const response = await httpRequest(plain.port, { path: '/v1/models', headers: { host } });
    assert.equal(response.status, 200, `${host}: ${response.text}`);
  }
  // curl -d sends a form Content-Type and no Origin: a client, not a page.
  const marker = nonce('curld');
  const result = await curl(['-sS', '-i', `http://127.0.0.1:${plain.port}/v1/chat/completions`,
    '-d', JSON.stringify(chatBody(marker))]);
  const response = parseCurlResponse(result.stdout);
  assert.equal(response.status, 200, response.body);
  await plain.worker.waitRequest(marker);
});

test('a local page: preflight 204 with CORS, then a stream that carries CORS headers', async () => {
  const origin = 'http://localhost:5173';
  const preflight = await httpRequest(plain.port, {
    method: 'OPTIONS', path: '/v1/chat/completions',
    headers: {
      origin, 'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type,x-stainless-os,x-stainless-retry-count',
    },
  });
  assert.equal(preflight.status, 204, preflight.text);
  assert.equal(preflight.text, '');
  assert.equal(preflight.headers['access-control-allow-origin'], origin);
  assert.match(preflight.headers['access-control-allow-methods'], /\bPOST\b/);
  assert.equal(preflight.headers['access-control-allow-headers'], 'authorization,content-type,x-stainless-os,x-stainless-retry-count');
  assert.ok(Number(preflight.headers['access-control-max-age']) > 0);
  assert.match(preflight.headers.vary, /Origin/);

  const stream = await openStream(plain.port, chatBody('[[chunks:3]] cors', { stream: true }), { headers: { origin } });
  assert.equal(stream.status, 200);
  assert.equal(stream.headers['access-control-allow-origin'], origin);
  assert.match(stream.headers.vary, /Origin/);
  const exposed = stream.headers['access-control-expose-headers'].split(/,\s*/);
  for (const name of EXPOSED) assert.ok(exposed.includes(name), `${name} is exposed`);
  const text = await stream.readToEnd();
  assert.match(text, /data: \[DONE\]/);

  // An error to a local page is readable by it too.
  const missing = await httpRequest(plain.port, { path: '/v1/models/no-such-model', headers: { origin: 'vscode-webview://abc123' } });
  assert.equal(missing.status, 404);
  assert.equal(missing.headers['access-control-allow-origin'], 'vscode-webview://abc123');
});

test('a foreign preflight is 403 without CORS headers; a plain OPTIONS lists the methods', async () => {
  const preflight = await httpRequest(plain.port, {
    method: 'OPTIONS', path: '/v1/chat/completions',
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
  });
  assertRefused(preflight, 'origin_not_allowed');
  assert.equal(preflight.headers['access-control-allow-methods'], undefined);

  const options = await httpRequest(plain.port, { method: 'OPTIONS', path: '/v1/models' });
  assert.equal(options.status, 204);
  assert.equal(options.headers.allow, 'GET, HEAD, OPTIONS');
  assert.equal(options.headers['access-control-allow-origin'], undefined);
});

test('--allowed-hosts and --allowed-origins open exactly the names they list', async () => {
  for (const host of ['llm.team.example', `LLM.Team.Example:${configured.port}`, 'a.corp.example']) {
    const response = await httpRequest(configured.port, { path: '/v1/models', headers: { host } });
    assert.equal(response.status, 200, `${host}: ${response.text}`);
  }
  for (const host of ['corp.example', 'llm.team.example.evil.example']) {
    assertRefused(await httpRequest(configured.port, { path: '/v1/models', headers: { host } }), 'host_not_allowed');
  }
  const allowed = await httpRequest(configured.port, { path: '/v1/models', headers: { origin: 'https://chat.team.example' } });
  assert.equal(allowed.status, 200, allowed.text);
  assert.equal(allowed.headers['access-control-allow-origin'], 'https://chat.team.example');
  assertRefused(await httpRequest(configured.port, { path: '/v1/models', headers: { origin: 'http://chat.team.example' } }),
    'origin_not_allowed');
  // The defaults stay: a local page is still one.
  const local = await httpRequest(configured.port, { path: '/v1/models', headers: { origin: 'http://127.0.0.1:3000' } });
  assert.equal(local.status, 200);
});
