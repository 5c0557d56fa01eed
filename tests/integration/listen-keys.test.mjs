// litellmctl and issue 13 ("web pages must not spend the user's models"):
// `start` on an address beyond loopback (0.0.0.0 here, on a free port) refuses
// while no API key exists, leaving nothing running; --allow-no-keys starts
// anyway with a warning; once `keys add` made one it starts without the flag
// and keyless requests get 401. The responder's configuration may name the
// keys file instead, and `keys` then edits that file. --allowed-hosts and
// --allowed-origins: checked, recorded in the state file, handed to the
// responder (its command line), and a running responder that keeps other
// values is named in a warning.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  Stack, makeTempDir, writeFcgiConfig, nonce, postChat, chatBody, canConnect, freePort,
  isAlive, processesMentioning, waitUntil, assertInvalidKey,
} from './harness.mjs';

const stacks = [];
const dir = makeTempDir('llistenkeys');

after(async () => {
  const failures = [];
  for (const stack of stacks) {
    try { await stack.teardown(); } catch (err) { failures.push(err.message); }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  if (failures.length) throw new Error(failures.join('\n'));
});

/** A stack of its own whose --listen is 0.0.0.0:<free port> (tests connect to 127.0.0.1), not started. */
async function wildcardStack() {
  const stack = new Stack();
  stacks.push(stack);
  stack.prefix = Stack.makePrefix();
  stack.port = await freePort();
  stack.listenHost = '0.0.0.0';
  return stack;
}

function stateOf(stack) {
  const file = path.join(stack.prefix, 'run', 'litellmctl.state');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
}

/** Nothing of the prefix runs, nothing accepts on the port, status says so. */
async function assertNothingRunning(stack) {
  assert.deepEqual(processesMentioning(stack.prefix), [], `no process of ${stack.prefix} runs`);
  assert.equal(await canConnect(stack.port), false, `nothing accepts connections on port ${stack.port}`);
  const { json } = await stack.status();
  assert.equal(json.running, false);
  assert.equal(json.status, 'unreachable', 'no responder answers');
  assert.ok(!isAlive(json.nginx_pid) && !isAlive(json.responder_pid), 'no nginx, no responder');
  assert.equal(stateOf(stack), null, 'no state recorded');
}

const assert401 = (response) => assertInvalidKey(assert, response);

/** The running responder's command line, as its argv. */
async function responderArgv(stack) {
  const pid = await stack.responderPid();
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

function flagValue(argv, flag) {
  const at = argv.indexOf(flag);
  return at < 0 ? null : argv[at + 1];
}

const REFUSAL = /^litellmctl: refusing to listen on 0\.0\.0\.0:(\d+), beyond this machine, with no API key: create one with 'litellmctl keys add NAME', or pass --allow-no-keys to start anyway\n$/;

// Three tests, each on a stack of its own: every start and shutdown of a
// stack takes seconds (many under valgrind), and each test has its own bound.
test('0.0.0.0 with no API key: start refuses with one line naming keys add and --allow-no-keys, and starts nothing', async () => {
  const stack = await wildcardStack();
  const refused = await stack.ctl(['start']);
  assert.equal(refused.code, 1, `start must fail: ${refused.stdout}${refused.stderr}`);
  const match = refused.stderr.match(REFUSAL);
  assert.ok(match, `one line naming keys add and --allow-no-keys: ${JSON.stringify(refused.stderr)}`);
  assert.equal(Number(match[1]), stack.port);
  await assertNothingRunning(stack);
});

test('0.0.0.0 with --allow-no-keys: starts with a warning, a repeated start keeps the choice, shutdown forgets it', async () => {
  const stack = await wildcardStack();
  const allowed = await stack.ctl(['--allow-no-keys', 'start']);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.match(allowed.stderr, new RegExp(`^litellmctl: warning: listening on 0\\.0\\.0\\.0:${stack.port} exposes the API beyond this machine with no API key \\(--allow-no-keys\\)`, 'm'));
  await stack.attach({ worker: false });
  assert.equal((await stack.status()).json.running, true);
  assert.equal((await stack.health()).status, 200);
  assert.match(stateOf(stack), /^listen=0\.0\.0\.0:\d+$/m);
  assert.match(stateOf(stack), /^allow_no_keys=1$/m);
  const again = await stack.ctl(['start']);
  assert.equal(again.code, 0, `a repeated start keeps the recorded choice: ${again.stderr}`);
  assert.match(again.stderr, /no API key \(--allow-no-keys\)/);

  const down = await stack.ctl(['shutdown']);
  assert.equal(down.code, 0, down.stderr);
  await waitUntil(() => processesMentioning(stack.prefix).length === 0, 'every process of the prefix to exit');
  assert.equal(stateOf(stack), null, 'shutdown forgets the state, --allow-no-keys included');
  assert.match((await stack.ctl(['start'])).stderr, REFUSAL, 'refused again after shutdown');
});

test('0.0.0.0 after keys add: starts without the flag, and a request without the key gets 401', async () => {
  const stack = await wildcardStack();
  const added = await stack.keys(['add', 'remote-team']);
  assert.equal(added.code, 0, added.stderr);
  const key = added.stdout.trim();
  const started = await stack.ctl(['start']);
  assert.equal(started.code, 0, started.stderr);
  assert.doesNotMatch(started.stderr, /refusing|no API key/);
  assert.match(started.stdout, /exposes the API beyond this machine; requests need an API key/);
  await stack.attach();
  const marker = nonce('listenkeys');
  assert401(await postChat(stack.port, chatBody(`no key ${marker}`)));
  const response = await postChat(stack.port, chatBody(`with key ${marker}`), { headers: { authorization: `Bearer ${key}` } });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.choices[0].message.content, `with key ${marker}`);
  assert.ok(!stack.worker.has((e) => e.event === 'request' && JSON.stringify(e.messages).includes(`no key ${marker}`)),
    'the keyless request never reached the window');
});

test('0.0.0.0: the keys file that counts is the one the responder reads (keys-file of --fcgi-config)', async () => {
  const stack = await wildcardStack();
  const keysFile = path.join(dir, 'team-keys');
  const config = writeFcgiConfig(path.join(dir, 'keys-file.conf'), { 'keys-file': keysFile });
  // A key in the prefix's own keys file does not count: the responder reads keysFile.
  assert.equal((await stack.keys(['add', 'unused'])).code, 0);
  const refused = await stack.ctl(['--fcgi-config', config, 'start']);
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(refused.stderr, REFUSAL);
  await assertNothingRunning(stack);
  // A key in keysFile does.
  const added = await stack.ctl(['keys', 'add', 'team'], { env: { LITELLM_KEYS_FILE: keysFile } });
  assert.equal(added.code, 0, added.stderr);
  const started = await stack.ctl(['--fcgi-config', config, 'start']);
  assert.equal(started.code, 0, started.stderr);
  await stack.attach({ worker: false });
  assert.equal((await stack.health()).json.auth.keys, 1, 'the responder has the key litellmctl counted');
  // keys with the same --fcgi-config edit that file too, with no variable.
  const second = await stack.ctl(['--fcgi-config', config, 'keys', 'add', 'second']);
  assert.equal(second.code, 0, second.stderr);
  const listed = await stack.ctl(['--fcgi-config', config, 'keys', 'list', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout).map((k) => k.name).sort(), ['second', 'team']);
  await waitUntil(async () => (await stack.health()).json.auth.keys === 2,
    'the responder to read the key added to its keys-file');
});

test('--allowed-hosts / --allowed-origins: a list with blanks or empty items is refused before anything starts', async () => {
  const stack = await wildcardStack();
  stack.listenHost = null; // loopback: only the lists are wrong
  const cases = [
    { args: ['--allowed-hosts', 'a.test,,b.test'], option: '--allowed-hosts', value: 'a.test,,b.test' },
    { args: ['--allowed-hosts', ',a.test'], option: '--allowed-hosts', value: ',a.test' },
    { args: ['--allowed-origins', 'http://a.test, http://b.test'], option: '--allowed-origins', value: 'http://a.test, http://b.test' },
    { args: ['--allowed-origins', 'http://a.test,'], option: '--allowed-origins', value: 'http://a.test,' },
    { env: { LITELLM_ALLOWED_HOSTS: 'a.test b.test' }, option: '--allowed-hosts', value: 'a.test b.test' },
  ];
  for (const { args = [], env, option, value } of cases) {
    const result = await stack.ctl([...args, 'start'], { env });
    assert.equal(result.code, 1, `${JSON.stringify(value)} must be refused: ${result.stdout}`);
    const expected = `litellmctl: ${option} must be a comma-separated list with no spaces and no empty items, such as `;
    assert.ok(result.stderr.startsWith(expected), `message for ${JSON.stringify(value)}: ${result.stderr}`);
    assert.ok(result.stderr.endsWith(`, not '${value}'\n`), `the message quotes the value: ${result.stderr}`);
  }
  await assertNothingRunning(stack);
});

// Needs a responder that accepts --allowed-hosts and --allowed-origins (issue 13's C side).
test('--allowed-hosts / --allowed-origins are recorded and reach the responder; a running one keeping others is warned about', async () => {
  const stack = new Stack();
  stacks.push(stack);
  const hosts = 'gw.test.example,*.team.example';
  const origins = 'http://myui.test:*,https://chat.team.example';
  await stack.start({ worker: false, ctlArgs: ['--allowed-hosts', hosts, '--allowed-origins', origins] });
  assert.match(stateOf(stack), new RegExp(`^allowed_hosts=${hosts.replace(/[.*]/g, '\\$&')}$`, 'm'));
  assert.match(stateOf(stack), new RegExp(`^allowed_origins=${origins.replace(/[.*]/g, '\\$&')}$`, 'm'));
  const argv = await responderArgv(stack);
  assert.equal(flagValue(argv, '--allowed-hosts'), hosts, `responder argv: ${argv.join(' ')}`);
  assert.equal(flagValue(argv, '--allowed-origins'), origins, `responder argv: ${argv.join(' ')}`);
  assert.match(stack.logText(), /litellmctl: starting .* --allowed-hosts gw\.test\.example,\*\.team\.example --allowed-origins http:\/\/myui\.test:\*,https:\/\/chat\.team\.example/);
  const pid = await stack.responderPid();

  // Same values (from the state): nothing to say.
  const same = await stack.ctl(['start']);
  assert.equal(same.code, 0, same.stderr);
  assert.doesNotMatch(same.stderr, /keeps/);

  // Other values: the running responder keeps its own, and start says so in one line.
  const other = await stack.ctl(['--allowed-hosts', 'other.test', '--max-body', '1m', 'start']);
  assert.equal(other.code, 0, other.stderr);
  const warning = other.stderr.split('\n').filter((line) => line.includes('keeps'));
  assert.equal(warning.length, 1, other.stderr);
  assert.equal(warning[0], `litellmctl: warning: litellm-fcgi (pid ${pid}) keeps --max-body 16m --allowed-hosts ${hosts} ` +
    "until 'litellmctl shutdown' and a new 'litellmctl start' with --max-body 1m --allowed-hosts other.test");
  assert.equal(await stack.responderPid(), pid, 'the responder was not restarted');
  assert.equal(flagValue(await responderArgv(stack), '--allowed-hosts'), hosts);
  assert.match(stateOf(stack), /^allowed_hosts=other\.test$/m, 'the state records what start was given');
  // The next start takes other.test from the state; the responder still has the old list.
  assert.match((await stack.ctl(['start'])).stderr, /keeps --max-body 16m --allowed-hosts gw\.test\.example/);
});

test('--allowed-hosts: after shutdown, start hands the responder the new values', async () => {
  const stack = new Stack();
  stacks.push(stack);
  await stack.start({ worker: false, ctlArgs: ['--allowed-hosts', 'gw.test.example', '--allowed-origins', 'https://ui.test'] });
  assert.equal((await stack.ctl(['shutdown'])).code, 0);
  await waitUntil(() => processesMentioning(stack.prefix).length === 0, 'every process of the prefix to exit');
  const fresh = await stack.ctl(['--allowed-hosts', 'other.test', 'start']);
  assert.equal(fresh.code, 0, fresh.stderr);
  await stack.attach({ worker: false });
  const argvAfter = await responderArgv(stack);
  assert.equal(flagValue(argvAfter, '--allowed-hosts'), 'other.test');
  assert.equal(flagValue(argvAfter, '--allowed-origins'), null, 'no list given, none passed');
});

// Needs a responder that accepts allowed-hosts in its configuration file (issue 13's C side).
test('--allowed-hosts is not passed over an allowed-hosts line of the responder configuration (a warning says so)', async () => {
  const stack = new Stack();
  stacks.push(stack);
  const config = writeFcgiConfig(path.join(dir, 'hosts.conf'), { 'allowed-hosts': 'from-config.test' });
  await stack.start({ worker: false, ctlArgs: ['--fcgi-config', config, '--allowed-hosts', 'from-flag.test', '--allowed-origins', 'http://ui.test:*'] });
  const argv = await responderArgv(stack);
  assert.equal(flagValue(argv, '--allowed-hosts'), null, `responder argv: ${argv.join(' ')}`);
  assert.equal(flagValue(argv, '--allowed-origins'), 'http://ui.test:*');
  const again = await stack.ctl(['--fcgi-config', config, 'start']);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(again.stderr.includes(`litellmctl: warning: --allowed-hosts is not passed to the responder: ${config} sets allowed-hosts\n`), again.stderr);
  assert.doesNotMatch(again.stderr, /keeps/, 'what the responder was given is what start would give it');
});
