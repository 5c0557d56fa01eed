/**
 * The wiring plain-Node integration tests use (test/harness.ts): a request
 * frame from a scripted responder travels pipe client -> model calls ->
 * scripted model and back, including cancel and a responder restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { FakeResponder } from '../fakeResponder';
import { LanguageModelError, LanguageModelTextPart, LanguageModelToolCallPart, ScriptedModel, serveModels, waitOrCancel } from '../harness';

const dir = mkdtempSync(join(tmpdir(), 'litellm-harness-test-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('harness: pipe client + model calls', () => {
  it('serves requests end to end, with tools, cancel and a responder restart', async () => {
    const responder = new FakeResponder(join(dir, 'pipe.sock'));
    await responder.listen();
    let sawCancel = false;
    const model = new ScriptedModel({ vendor: 'test', family: 'echo' }, async function* (messages, options, token) {
      const first = messages.at(-1)?.content[0];
      const prompt = first instanceof LanguageModelTextPart ? first.value : '';
      if (prompt === 'tool') {
        assert.equal(options.tools?.[0]?.name, 'lookup');
        yield new LanguageModelToolCallPart('call_1', 'lookup', { q: 'x' });
        return;
      }
      if (prompt === 'deny') {
        throw LanguageModelError.NoPermissions('no');
      }
      if (prompt === 'slow') {
        yield new LanguageModelTextPart('working');
        await waitOrCancel(10_000, token);
        sawCancel = token.isCancellationRequested;
        return;
      }
      yield new LanguageModelTextPart(`echo: ${prompt}`);
    });
    const core = await serveModels({
      pipePath: responder.path,
      models: [model],
      pipe: { reconnectInitialMs: 20, reconnectMaxMs: 50 },
    });
    const [hello] = await responder.waitFor((f) => f.type === 'hello');
    assert.deepEqual(hello?.default_model, 'test/echo');

    const ask = (id: string, content: string, extra: object = {}): void => {
      responder.write(
        `${JSON.stringify({ type: 'request', id, model: 'test/echo', messages: [{ role: 'user', content }], ...extra })}\n`,
      );
    };
    const end = async (id: string) =>
      (await responder.waitFor((f) => (f.type === 'done' || f.type === 'error') && f.id === id))[0];

    ask('a', 'hi');
    assert.equal((await end('a'))?.type, 'done');
    assert.deepEqual(
      responder.received.filter((f) => f.id === 'a').map((f) => f.type),
      ['delta', 'done'],
    );

    ask('b', 'tool', { tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }] });
    const done = await end('b');
    assert.equal(done?.finish_reason, 'tool_calls');
    const [call] = responder.received.filter((f) => f.id === 'b' && f.type === 'tool_call');
    assert.deepEqual(call, { type: 'tool_call', id: 'b', call_id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' });

    ask('c', 'deny');
    assert.equal((await end('c'))?.code, 'no_permissions');

    ask('d', 'slow');
    await responder.waitFor((f) => f.id === 'd' && f.type === 'delta');
    responder.write('{"type":"cancel","id":"d"}\n');
    assert.equal((await end('d'))?.code, 'cancelled');
    assert.equal(sawCancel, true);

    // Responder restart: the client reconnects, says hello again, serves again.
    await responder.close();
    responder.received.length = 0;
    await responder.listen();
    await responder.waitFor((f) => f.type === 'hello');
    ask('e', 'again');
    assert.equal((await end('e'))?.type, 'done');

    core.dispose();
    await responder.close();
  });
});
