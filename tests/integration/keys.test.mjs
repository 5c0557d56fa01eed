// API keys (issue 6) on a real stack listening on loopback: open while no key
// exists; `litellmctl keys add/list/revoke`; once a key exists every API
// request needs one (401 invalid_api_key, x-should-retry: false), /health
// stays open; per-key limits (rpm, tpm, concurrent), key x model limits,
// allowed models (GET /v1/models and 403 model_not_allowed); the log names
// the key, never the secret. The responder re-reads the keys file within
// about a second, so each change is awaited with a bounded poll.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI, { AuthenticationError, PermissionDeniedError } from 'openai';
import { validatingFetch,
  Stack, makeTempDir, writeFcgiConfig, nonce, postChat, chatBody, openAiError, openStream, httpRequest,
  waitUntil, assertInvalidKey,
} from './harness.mjs';

const KEY_FORMAT = /^sk-litellm-[A-Za-z0-9_-]{40,}$/;

const stack = new Stack();    // first: a missing binary fails here, before any temp file exists
const dir = makeTempDir('lkeys');
const config = writeFcgiConfig(path.join(dir, 'litellm-fcgi.conf'), {
  'limits-key-model': 'alice@claude-3.5-sonnet:rpm=1',
});
const secrets = {};            // name -> key

before(async () => {
  await stack.start({ ctlArgs: ['--fcgi-config', config] });
});

after(async () => {
  try { await stack.teardown(); } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

const bearer = (name) => ({ authorization: `Bearer ${secrets[name]}` });
const post = (body, headers = {}) => postChat(stack.port, body, { headers });
const get = (urlPath, headers = {}) => httpRequest(stack.port, { path: urlPath, headers });

async function addKey(name, ...options) {
  const result = await stack.keys(['add', name, ...options]);
  assert.equal(result.code, 0, `keys add ${name}: ${result.stderr}`);
  const lines = result.stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `keys add prints the key and nothing else on stdout: ${JSON.stringify(result.stdout)}`);
  assert.match(lines[0], KEY_FORMAT);
  assert.match(result.stderr, /only this once/);
  secrets[name] = lines[0];
  return lines[0];
}

async function listJson() {
  const result = await stack.keys(['list', '--json']);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

const assert401 = (response) => assertInvalidKey(assert, response);

/** Waits until the responder has (re)read the keys file: `probe` answers `status`. */
function waitStatus(probe, status, what) {
  return waitUntil(async () => (await probe()).status === status, what);
}

test('no keys: loopback clients need none; keys list says so; /health says "open on loopback"', async () => {
  assert.equal((await post(chatBody(`open ${nonce('o')}`))).status, 200);
  assert.equal((await get('/v1/models')).status, 200);
  const health = await stack.health();
  assert.deepEqual(health.json.auth, { keys: 0, mode: 'open on loopback' });
  const list = await stack.keys(['list']);
  assert.equal(list.code, 0);
  assert.match(list.stdout, /no keys/);
  assert.deepEqual(await listJson(), []);
  assert.deepEqual((await stack.status()).json.auth, { keys: 0, mode: 'open on loopback' });
});

test('keys add prints each key once; keys list shows names and limits, never a secret; the file holds only hashes', async () => {
  await addKey('alice');
  await addKey('bob', '--models', 'gpt-4o');
  await addKey('carol', '--tpm', '500', '--concurrent', '1');
  await addKey('dave', '--rpm', '2');
  assert.equal(new Set(Object.values(secrets)).size, 4, 'every key is different');

  const list = await listJson();
  assert.deepEqual(list.map((k) => k.name).sort(), ['alice', 'bob', 'carol', 'dave']);
  const byName = Object.fromEntries(list.map((k) => [k.name, k]));
  assert.equal(byName.bob.models, 'gpt-4o');
  assert.equal(byName.alice.models, null);
  assert.equal(byName.carol.tpm, 500);
  assert.equal(byName.carol.concurrent, 1);
  assert.equal(byName.dave.rpm, 2);
  for (const key of list) assert.ok(Number.isInteger(key.created) && key.created > 0);

  const text = await stack.keys(['list']);
  const keysFile = fs.readFileSync((await stack.status()).json.keys_file, 'utf8');
  for (const secret of Object.values(secrets)) {
    const body = secret.slice('sk-litellm-'.length);
    for (const [what, output] of [['keys list', text.stdout], ['keys list --json', JSON.stringify(list)], ['the keys file', keysFile]]) {
      assert.ok(!output.includes(body), `${what} does not contain a secret`);
    }
  }
  assert.match(keysFile, /name=alice/);

  const duplicate = await stack.keys(['add', 'alice']);
  assert.notEqual(duplicate.code, 0, 'a second key of the same name is refused');
  assert.match(duplicate.stderr, /exists/);
  assert.equal(duplicate.stdout, '');
  const badName = await stack.keys(['add', 'no spaces please']);
  assert.notEqual(badName.code, 0);
});

test('once a key exists, every API request needs one: 401 invalid_api_key; /health stays open', async () => {
  const noKey = () => post(chatBody('no key'));
  await waitStatus(noKey, 401, 'the responder to require keys');
  const error = assert401(await noKey());
  assert.match(error.message, /API key/);
  assert401(await get('/v1/models'));
  assert401(await get('/v1/models/gpt-4o'));
  const wrong = assert401(await post(chatBody('wrong'), { authorization: 'Bearer sk-litellm-not-a-real-key' }));
  assert.match(wrong.message, /Incorrect API key/);
  assert401(await post(chatBody('wrong'), { 'x-api-key': 'sk-litellm-not-a-real-key' }));
  assert401(await post(chatBody('not bearer'), { authorization: `Basic ${secrets.alice}` }));

  const health = await stack.health();
  assert.equal(health.status, 200);
  assert.deepEqual(health.json.auth, { keys: 4, mode: 'keys' });

  const client = new OpenAI({ fetch: validatingFetch, baseURL: `${stack.baseUrl}/v1`, apiKey: 'sk-litellm-wrong', maxRetries: 2 });
  await assert.rejects(client.chat.completions.create(chatBody('sdk')), (err) => err instanceof AuthenticationError && err.status === 401);
});

test('a valid key works as Authorization: Bearer and as x-api-key, and through the SDK', async () => {
  const m1 = nonce('bearer');
  const viaBearer = await post(chatBody(`hello ${m1}`), bearer('alice'));
  assert.equal(viaBearer.status, 200, viaBearer.text);
  assert.equal(viaBearer.json.choices[0].message.content, `hello ${m1}`);
  const viaHeader = await post(chatBody(`hello ${nonce('xkey')}`), { 'x-api-key': secrets.alice });
  assert.equal(viaHeader.status, 200, viaHeader.text);
  const client = new OpenAI({ fetch: validatingFetch, baseURL: `${stack.baseUrl}/v1`, apiKey: secrets.alice, maxRetries: 0 });
  const completion = await client.chat.completions.create(chatBody('via sdk'));
  assert.equal(completion.choices[0].message.content, 'via sdk');
  const models = await client.models.list();
  assert.ok(models.data.length >= 2, 'alice sees every model');
});

test('a key limited to some models sees only those and gets 403 model_not_allowed for the others', async () => {
  const models = await get('/v1/models', bearer('bob'));
  assert.equal(models.status, 200);
  assert.deepEqual(models.json.data.map((m) => m.id), ['test/gpt-4o']);
  assert.equal((await get('/v1/models/gpt-4o', bearer('bob'))).status, 200);
  openAiError(assert, await get('/v1/models/claude-3.5-sonnet', bearer('bob')), 404);
  assert.equal((await get('/v1/models/claude-3.5-sonnet', bearer('alice'))).status, 200, 'alice may see it');
  assert.equal((await post(chatBody('bob on gpt-4o'), bearer('bob'))).status, 200);
  const marker = nonce('bob-claude');
  const refused = await post(chatBody(`bob on claude ${marker}`, { model: 'claude-3.5-sonnet' }), bearer('bob'));
  const error = openAiError(assert, refused, 403);
  assert.equal(error.code, 'model_not_allowed');
  assert.equal(error.param, 'model');
  assert.match(error.message, /bob/);
  assert.equal(refused.headers['x-should-retry'], 'false');
  assert.ok(!stack.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker)));
  const client = new OpenAI({ fetch: validatingFetch, baseURL: `${stack.baseUrl}/v1`, apiKey: secrets.bob, maxRetries: 0 });
  await assert.rejects(client.chat.completions.create(chatBody('x', { model: 'claude-3.5-sonnet' })),
    (err) => err instanceof PermissionDeniedError);
});

test('per-key RPM: the key\'s own budget, others unaffected', async () => {
  for (let i = 0; i < 2; i++) assert.equal((await post(chatBody(`dave ${i}`), bearer('dave'))).status, 200);
  const refused = await post(chatBody('dave again'), bearer('dave'));
  const error = openAiError(assert, refused, 429);
  assert.equal(error.code, 'rate_limit_exceeded');
  assert.match(error.message, /2 requests per minute for API key 'dave'/);
  assert.equal(refused.headers['x-ratelimit-limit-requests'], '2');
  assert.equal(refused.headers['x-ratelimit-remaining-requests'], '0');
  assert.ok(refused.headers['retry-after']);
  assert.equal((await post(chatBody('alice meanwhile'), bearer('alice'))).status, 200);
});

test('per-key TPM and concurrency', async () => {
  const tooBig = await post(chatBody('carol big', { max_tokens: 600 }), bearer('carol'));
  const error = openAiError(assert, tooBig, 429);
  assert.match(error.message, /500 tokens per minute for API key 'carol'/);
  assert.equal(tooBig.headers['x-should-retry'], 'false');

  const marker = nonce('carol-held');
  const held = await openStream(stack.port, chatBody(`[[gate]] ${marker}`, { stream: true, max_tokens: 50 }),
    { headers: bearer('carol') });
  assert.equal(held.status, 200);
  assert.equal(held.headers['x-ratelimit-limit-tokens'], '500');
  const event = await stack.worker.waitRequest(marker);
  const second = await post(chatBody('carol second', { max_tokens: 50 }), bearer('carol'));
  assert.match(openAiError(assert, second, 429).message, /1 concurrent request for API key 'carol'/);
  assert.equal((await post(chatBody('alice meanwhile'), bearer('alice'))).status, 200);
  stack.worker.command(`release ${event.id}`);
  await held.readToEnd();
  const after = await post(chatBody('carol after', { max_tokens: 50 }), bearer('carol'));
  assert.equal(after.status, 200, after.text);
});

test('key x model limits (limits-key-model alice@claude-3.5-sonnet:rpm=1)', async () => {
  assert.equal((await post(chatBody('alice claude 1', { model: 'claude-3.5-sonnet' }), bearer('alice'))).status, 200);
  const refused = await post(chatBody('alice claude 2', { model: 'claude-3.5-sonnet' }), bearer('alice'));
  assert.match(openAiError(assert, refused, 429).message, /1 request per minute for API key 'alice' on model 'claude-3\.5-sonnet'/);
  assert.equal((await post(chatBody('alice gpt-4o'), bearer('alice'))).status, 200, 'her other models are not limited');
  assert.equal((await post(chatBody('bob gpt-4o'), bearer('bob'))).status, 200);
});

test('the request log names the key, never the secret (nor does any other log)', async () => {
  const marker = nonce('logged');
  const response = await post(chatBody(`log ${marker}`), bearer('alice'));
  assert.equal(response.status, 200);
  const requestId = response.headers['x-request-id'];
  const line = await waitUntil(() => stack.logText().split('\n').find((l) => l.includes(requestId)), 'the request\'s log line');
  assert.match(line, /status=200 key=alice /);
  await stack.responderIdle(); // the refusals of earlier tests are logged by now
  assert.match(stack.logText(), /status=401 key=- /, 'refusals are logged without a key name');
  const logs = fs.readdirSync(path.join(stack.prefix, 'logs'));
  assert.ok(logs.includes('litellm-fcgi.log'));
  for (const name of logs) {
    const text = stack.logText(name);
    for (const secret of Object.values(secrets)) {
      assert.ok(!text.includes(secret.slice('sk-litellm-'.length)), `logs/${name} does not contain a secret`);
    }
  }
});

test('keys revoke: the key stops working within about a second; with no keys left, loopback is open again', async () => {
  const revoke = await stack.keys(['revoke', 'bob']);
  assert.equal(revoke.code, 0, revoke.stderr);
  await waitStatus(() => post(chatBody('bob after revoke'), bearer('bob')), 401, 'bob\'s key to stop working');
  assert401(await post(chatBody('bob after revoke'), bearer('bob')));
  assert.equal((await post(chatBody('alice still'), bearer('alice'))).status, 200);
  assert.ok(!(await listJson()).some((k) => k.name === 'bob'));
  const again = await stack.keys(['revoke', 'bob']);
  assert.notEqual(again.code, 0, 'revoking an unknown key fails');

  for (const name of ['alice', 'carol', 'dave']) {
    const result = await stack.keys(['revoke', name]);
    assert.equal(result.code, 0, result.stderr);
  }
  assert.deepEqual(await listJson(), []);
  await waitStatus(() => post(chatBody('open again')), 200, 'loopback to be open again');
  assert.deepEqual((await stack.health()).json.auth, { keys: 0, mode: 'open on loopback' });
  // A revoked key is not "a key": with no keys at all, a stale one is not checked either.
  assert.equal((await post(chatBody('stale key'), bearer('alice'))).status, 200);
});
