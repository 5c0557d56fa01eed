// Keys are required whenever nginx listens on anything but loopback (issue 6):
// a stack listening on this machine's own non-loopback address (connections
// stay on this machine) refuses keyless requests even with no key defined,
// while /health stays open; and `auth = required` closes a loopback gateway
// too. The non-loopback case is skipped when the machine has no such address.
// litellmctl refuses such a keyless start (listen-keys.test.mjs), so that
// stack starts with --allow-no-keys: the responder's own guard is tested here.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  useStacks, writeFcgiConfig, nonce, postChat, chatBody, httpRequest, waitUntil, assertInvalidKey,
} from './harness.mjs';

/** A non-loopback IPv4 address of this machine, or null. */
function localAddress() {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses || []) {
      if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('127.') && !a.address.startsWith('169.254.')) return a.address;
    }
  }
  return null;
}

const address = localAddress();
const skipRemote = address ? false : 'this machine has no non-loopback IPv4 address';
const [remote, required] = useStacks({ before, after }, 2, ({ dir }) => [
  address ? { host: address, ctlArgs: ['--allow-no-keys'] } : null,
  { ctlArgs: ['--fcgi-config', writeFcgiConfig(path.join(dir, 'litellm-fcgi.conf'), { auth: 'required' })] },
], { tag: 'lkreq' });

const assert401 = (response) => assertInvalidKey(assert, response);

test('listening beyond loopback with no key defined: every API request gets 401, /health stays open', { skip: skipRemote }, async () => {
  assert.equal(remote.baseUrl, `http://${address}:${remote.port}`);
  const again = await remote.ctl(['start']);
  assert.equal(again.code, 0);
  assert.match(again.stderr, /warning: .*beyond this machine with no API key/, 'litellmctl warns about the exposure');

  const marker = nonce('remote');
  const error = assert401(await postChat(remote.port, chatBody(`hi ${marker}`), { host: address }));
  assert.match(error.message, /beyond loopback/);
  assert.match(error.message, /litellmctl keys add/);
  assert401(await httpRequest(remote.port, { host: address, path: '/v1/models' }));
  const health = await remote.health();
  assert.equal(health.status, 200);
  assert.equal(health.json.auth.keys, 0);
  assert.ok(!remote.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker)));
});

test('listening beyond loopback: a key created with litellmctl keys add lets its holder in', { skip: skipRemote }, async () => {
  const added = await remote.keys(['add', 'teammate']);
  assert.equal(added.code, 0, added.stderr);
  const key = added.stdout.trim();
  const marker = nonce('teammate');
  const response = await waitUntil(async () => {
    const r = await postChat(remote.port, chatBody(`hello ${marker}`), { host: address, headers: { authorization: `Bearer ${key}` } });
    return r.status === 200 ? r : false;
  }, 'the new key to be accepted');
  assert.equal(response.json.choices[0].message.content, `hello ${marker}`);
  assert401(await postChat(remote.port, chatBody('still no key'), { host: address }));
  await remote.responderIdle(); // every request answered is logged by now
  assert.match(remote.logText(), /status=200 key=teammate /);
});

test('auth = required: a loopback gateway with no key refuses keyless requests too', async () => {
  const health = await required.health();
  assert.equal(health.status, 200);
  assert.deepEqual(health.json.auth, { keys: 0, mode: 'required' });
  assert401(await postChat(required.port, chatBody('loopback but required')));
  const added = await required.keys(['add', 'solo']);
  assert.equal(added.code, 0, added.stderr);
  const key = added.stdout.trim();
  await waitUntil(async () => (await postChat(required.port, chatBody('with key'), { headers: { 'x-api-key': key } })).status === 200,
    'the key to be accepted');
});
