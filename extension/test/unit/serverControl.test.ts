import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { silentLogger } from '../../src/logger';
import type { ServerSettings } from '../../src/serverControl';
import { ServerControl, ServerControlError, buildInvocation, listenAddress, parseStatus } from '../../src/serverControl';

const base: ServerSettings = {
  litellmctlPath: 'litellmctl',
  prefix: '',
  host: '127.0.0.1',
  port: 4000,
  mode: 'managed',
  responderPath: '',
  nginxPath: '',
  systemSnippetPath: '',
  systemReloadCommand: '',
};

const dir = mkdtempSync(join(tmpdir(), 'litellmctl-test-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fake litellmctl: records its arguments and environment, then acts per $FAKE_MODE. */
function fakeCtl(body: string): string {
  const path = join(dir, `litellmctl-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    path,
    `#!/bin/sh\nprintf '%s\\n' "$@" > "${path}.args"\necho "FCGI=$LITELLM_FCGI NGINX=$LITELLM_NGINX" > "${path}.env"\n${body}\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

describe('litellmctl invocation', () => {
  it('builds argument lists, never a shell line', () => {
    assert.deepEqual(buildInvocation(base, 'start'), {
      file: 'litellmctl',
      args: ['--listen', '127.0.0.1:4000', '--mode', 'managed', 'start'],
      env: {},
    });
    const custom: ServerSettings = {
      ...base,
      litellmctlPath: '/opt/bin/litellmctl',
      prefix: '/tmp/my prefix',
      host: '::1',
      port: 8080,
      mode: 'system',
      responderPath: '/usr/sbin/litellm-fcgi',
      nginxPath: '/usr/sbin/nginx',
      systemSnippetPath: '/etc/nginx/snippets/litellm.conf',
      systemReloadCommand: 'systemctl reload nginx',
    };
    assert.deepEqual(buildInvocation(custom, 'status'), {
      file: '/opt/bin/litellmctl',
      args: ['--prefix', '/tmp/my prefix', '--listen', '[::1]:8080', '--mode', 'system', 'status', '--json'],
      env: {
        LITELLM_FCGI: '/usr/sbin/litellm-fcgi',
        LITELLM_NGINX: '/usr/sbin/nginx',
        LITELLM_SNIPPET: '/etc/nginx/snippets/litellm.conf',
        LITELLM_RELOAD_CMD: 'systemctl reload nginx',
      },
    });
  });

  it('formats listen addresses', () => {
    assert.equal(listenAddress('127.0.0.1', 4000), '127.0.0.1:4000');
    assert.equal(listenAddress('::1', 4000), '[::1]:4000');
    assert.equal(listenAddress('[::1]', 4000), '[::1]:4000');
    assert.equal(listenAddress('localhost', 1), 'localhost:1');
  });

  it('parses status --json', () => {
    assert.deepEqual(
      parseStatus(
        '{"running":true,"listen":"127.0.0.1:4000","mode":"managed","prefix":"/p","pipe":"/p/run/litellm.sock",' +
          '"nginx_pid":10,"responder_pid":11,"status":"ok","windows":2,"models":["copilot/gpt-4o"],"default_model":"copilot/gpt-4o","in_flight":1}',
      ),
      {
        running: true,
        listen: '127.0.0.1:4000',
        mode: 'managed',
        prefix: '/p',
        pipe: '/p/run/litellm.sock',
        nginxPid: 10,
        responderPid: 11,
        windows: 2,
        models: ['copilot/gpt-4o'],
        defaultModel: 'copilot/gpt-4o',
        limits: [],
        auth: null,
        limitsStore: null,
        status: 'ok',
        inFlight: 1,
        usageToday: null,
      },
    );
    assert.equal(parseStatus('{"running":false,"nginx_pid":null}').nginxPid, null);
    assert.throws(() => parseStatus('not json'), /not JSON/);
    assert.throws(() => parseStatus('{"listen":"x"}'), /running/);
  });

  it('parses limits, auth and limits_store, defensively', () => {
    const status = parseStatus(
      JSON.stringify({
        running: true,
        limits: [
          {
            scope: 'global',
            requests_per_minute: { limit: 60, remaining: 57, reset: '3s' },
            tokens_per_minute: { limit: 100000, remaining: 98970, reset: '618ms' },
            concurrent: { limit: 8, in_flight: 1 },
          },
          { scope: 'model gpt-4o', tokens_per_minute: { limit: 5000, remaining: 5000, reset: '0s' } },
          { scope: 'broken', requests_per_minute: { limit: '60', remaining: 1 }, concurrent: { limit: 2 } },
          { no: 'scope' },
          'junk',
        ],
        auth: { keys: 2, mode: 'keys' },
        limits_store: {
          configured: 'redis://10.0.0.5:6379/0',
          active: 'shm (Redis unreachable: local fallback)',
          error: 'Connection refused',
        },
      }),
    );
    assert.deepEqual(status.limits, [
      {
        scope: 'global',
        requestsPerMinute: { limit: 60, remaining: 57, reset: '3s' },
        tokensPerMinute: { limit: 100000, remaining: 98970, reset: '618ms' },
        concurrent: { limit: 8, inFlight: 1 },
      },
      { scope: 'model gpt-4o', tokensPerMinute: { limit: 5000, remaining: 5000, reset: '0s' } },
      { scope: 'broken' },
    ]);
    assert.deepEqual(status.auth, { keys: 2, mode: 'keys' });
    assert.deepEqual(status.limitsStore, {
      configured: 'redis://10.0.0.5:6379/0',
      active: 'shm (Redis unreachable: local fallback)',
      error: 'Connection refused',
    });

    // What litellmctl prints while the responder does not answer, and shapes it never prints.
    const quiet = parseStatus('{"running":false,"auth":null,"limits":[],"limits_store":null}');
    assert.deepEqual([quiet.limits, quiet.auth, quiet.limitsStore], [[], null, null]);
    const odd = parseStatus('{"running":true,"limits":{"scope":"global"},"auth":{"keys":"2"},"limits_store":{"configured":"shm"}}');
    assert.deepEqual([odd.limits, odd.auth, odd.limitsStore], [[], null, null]);
    assert.deepEqual(parseStatus('{"running":true,"limits_store":{"active":"shm"}}').limitsStore, { configured: '', active: 'shm' });
  });
});

describe('ServerControl', () => {
  it('runs litellmctl with the settings as arguments and environment', async () => {
    const path = fakeCtl(
      'case "$*" in *status*) echo \'{"running":true,"listen":"127.0.0.1:4000","pipe":"/x/litellm.sock"}\';; esac',
    );
    const control = new ServerControl(() => ({ ...base, litellmctlPath: path, responderPath: '/bin/fcgi' }), silentLogger);
    await control.start();
    assert.equal(readFileSync(`${path}.args`, 'utf8'), '--listen\n127.0.0.1:4000\n--mode\nmanaged\nstart\n');
    assert.equal(readFileSync(`${path}.env`, 'utf8'), 'FCGI=/bin/fcgi NGINX=\n');
    const status = await control.status();
    assert.equal(status.pipe, '/x/litellm.sock');
  });

  it('reports the one-line reason litellmctl gives on failure', async () => {
    const path = fakeCtl('echo "checking nginx" >&2; echo "litellmctl: port 4000 is taken by nginx (pid 42)" >&2; exit 1');
    const control = new ServerControl(() => ({ ...base, litellmctlPath: path }), silentLogger);
    await assert.rejects(control.start(), (err: unknown) => {
      assert.ok(err instanceof ServerControlError);
      assert.equal(err.message, 'litellmctl start failed: litellmctl: port 4000 is taken by nginx (pid 42)');
      assert.equal(err.exitCode, 1);
      return true;
    });
  });

  it('reads status printed with a non-zero exit', async () => {
    const path = fakeCtl('echo \'{"running":false,"pipe":""}\'; exit 3');
    const control = new ServerControl(() => ({ ...base, litellmctlPath: path }), silentLogger);
    assert.equal((await control.status()).running, false);
  });

  it('says when litellmctl is missing', async () => {
    const control = new ServerControl(() => ({ ...base, litellmctlPath: join(dir, 'nope') }), silentLogger);
    await assert.rejects(control.stop(), /not found: install litellmctl or set "vscode-litellm.litellmctlPath"$/);
  });

  it('says where to set the path in a remote window (machine settings come from the Remote settings there)', async () => {
    const control = new ServerControl(
      () => ({ ...base, litellmctlPath: join(dir, 'nope'), remoteName: 'ssh-remote' }),
      silentLogger,
    );
    await assert.rejects(
      control.start(),
      /set "vscode-litellm.litellmctlPath" in the Remote settings \(Preferences: Open Remote Settings\); User settings do not apply in a remote window$/,
    );
  });
});
