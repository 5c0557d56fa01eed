import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { silentLogger } from '../../src/logger';
import type { CallableModel } from '../../src/modelCalls';
import { ModelCalls } from '../../src/modelCalls';
import type { InboundFrame, OutboundFrame } from '../../src/protocol';
import { MemoryChannel } from '../memoryChannel';
import type { Respond } from '../scriptedModel';
import { ScriptedModel, waitOrCancel } from '../scriptedModel';
import {
  LanguageModelChatToolMode,
  LanguageModelDataPart,
  LanguageModelError,
  LanguageModelTextPart,
  LanguageModelToolCallPart,
  LanguageModelToolResultPart,
  lmApi,
} from '../vscodeStandIn';

interface Setup {
  model: ScriptedModel;
  calls: ModelCalls<CallableModel>;
  channel: MemoryChannel;
}

function setup(respond: Respond, canSendRequest?: () => boolean | undefined): Setup {
  const model = new ScriptedModel({ vendor: 'test', family: 'echo' }, respond);
  const calls = new ModelCalls<CallableModel>({
    api: lmApi,
    resolveModel: (id) => (id === 'test/echo' ? model.asChatModel : undefined),
    logger: silentLogger,
    ...(canSendRequest ? { canSendRequest } : {}),
  });
  const channel = new MemoryChannel();
  calls.serve(channel);
  return { model, calls, channel };
}

function request(id: string, extra: Partial<InboundFrame> = {}): InboundFrame {
  return {
    type: 'request',
    id,
    model: 'test/echo',
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'say hello world' },
    ],
    ...extra,
  };
}

const isEnd = (id: string) => (frame: OutboundFrame) =>
  (frame.type === 'done' || frame.type === 'error') && 'id' in frame && frame.id === id;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('model calls', () => {
  it('streams each text part as a delta the moment it arrives, then done with usage', async () => {
    const gate = deferred();
    const { model, channel, calls } = setup(async function* () {
      yield new LanguageModelTextPart('hello ');
      await gate.promise;
      yield new LanguageModelTextPart('big world');
    });
    channel.deliver(request('r1'));
    assert.deepEqual(await channel.waitFor((f) => f.type === 'delta'), { type: 'delta', id: 'r1', text: 'hello ' });
    assert.equal(channel.sent.length, 1, 'nothing else before the model goes on');
    assert.equal(calls.activeCount, 1);
    gate.resolve();
    const done = await channel.waitFor(isEnd('r1'));
    assert.deepEqual(channel.sent, [
      { type: 'delta', id: 'r1', text: 'hello ' },
      { type: 'delta', id: 'r1', text: 'big world' },
      { type: 'done', id: 'r1', finish_reason: 'stop', usage: { prompt_tokens: 5, completion_tokens: 3 } },
    ]);
    assert.equal(done.type, 'done');
    // The prompt counted once (per message), the completion once: never per chunk.
    assert.equal(model.counted.length, 3);
    assert.equal(model.counted.at(-1), 'hello big world');
    assert.equal(await calls.whenIdle(1_000), true);
    assert.equal(calls.activeCount, 0);
  });

  it('passes mapped messages, tools and options to the model', async () => {
    const { model, channel } = setup(async function* () {
      yield new LanguageModelToolCallPart('call_7', 'get_weather', { city: 'Paris' });
    });
    channel.deliver(
      request('r2', {
        messages: [
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'c0', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] },
          { role: 'tool', tool_call_id: 'c0', content: 'rain' },
        ],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
        tool_choice: 'required',
        options: { temperature: 0 },
      }),
    );
    await channel.waitFor(isEnd('r2'));
    assert.deepEqual(channel.sent, [
      { type: 'tool_call', id: 'r2', call_id: 'call_7', name: 'get_weather', arguments: '{"city":"Paris"}' },
      {
        type: 'done',
        id: 'r2',
        finish_reason: 'tool_calls',
        usage: channel.sent[1]?.type === 'done' ? channel.sent[1].usage : { prompt_tokens: -1, completion_tokens: -1 },
      },
    ]);
    const call = model.calls[0];
    assert.ok(call);
    assert.equal(call.messages.length, 3);
    assert.ok(call.messages[2]?.content[0] instanceof LanguageModelToolResultPart);
    assert.deepEqual(call.options.tools, [{ name: 'get_weather', description: '', inputSchema: { type: 'object' } }]);
    assert.equal(call.options.toolMode, LanguageModelChatToolMode.Required);
    assert.deepEqual(call.options.modelOptions, { temperature: 0 });
  });

  it('skips unknown part types', async () => {
    const { channel } = setup(async function* () {
      yield { kind: 'thinking', value: 'secret' };
      yield new LanguageModelTextPart('ok');
    });
    channel.deliver(request('r3'));
    await channel.waitFor(isEnd('r3'));
    assert.deepEqual(
      channel.sent.map((f) => f.type),
      ['delta', 'done'],
    );
  });

  it('a cancel frame cancels the token and ends the request with cancelled', async () => {
    let cancelled = false;
    const { model, channel, calls } = setup(async function* (_messages, _options, token) {
      yield new LanguageModelTextPart('partial');
      await waitOrCancel(10_000, token);
      cancelled = token.isCancellationRequested;
      yield new LanguageModelTextPart('late');
    });
    channel.deliver(request('r4'));
    await channel.waitFor((f) => f.type === 'delta');
    channel.deliver({ type: 'cancel', id: 'r4' });
    const end = await channel.waitFor(isEnd('r4'));
    assert.deepEqual(end, { type: 'error', id: 'r4', code: 'cancelled', message: 'request cancelled' });
    assert.equal(model.calls[0]?.token.isCancellationRequested, true);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(cancelled, true);
    assert.equal(channel.sent.filter((f) => f.type === 'delta').length, 1, 'nothing after the cancel');
    assert.equal(calls.activeCount, 0);
  });

  it('a cancel ends the request even when the model ignores the token', async () => {
    const { channel, calls } = setup(async function* () {
      yield new LanguageModelTextPart('x');
      await new Promise(() => undefined);
    });
    channel.deliver(request('r5'));
    await channel.waitFor((f) => f.type === 'delta');
    channel.deliver({ type: 'cancel', id: 'r5' });
    assert.equal((await channel.waitFor(isEnd('r5'))).type, 'error');
    assert.equal(calls.activeCount, 0);
    assert.equal(await calls.whenIdle(10), true);
  });

  it('a lost connection cancels its requests', async () => {
    const { model, channel, calls } = setup(async function* (_m, _o, token) {
      yield new LanguageModelTextPart('x');
      await waitOrCancel(10_000, token);
    });
    channel.deliver(request('r6'));
    await channel.waitFor((f) => f.type === 'delta');
    channel.close();
    assert.equal(await calls.whenIdle(2_000), true);
    assert.equal(model.calls[0]?.token.isCancellationRequested, true);
  });

  it('maps LanguageModelError.NoPermissions to no_permissions', async () => {
    const { channel } = setup(() => {
      throw LanguageModelError.NoPermissions('user said no');
    });
    channel.deliver(request('r7'));
    const end = await channel.waitFor(isEnd('r7'));
    assert.equal(end.type === 'error' ? end.code : undefined, 'no_permissions');
  });

  it('maps Blocked to rate_limited and a provider error mid-stream to internal', async () => {
    const blocked = setup(() => {
      throw LanguageModelError.Blocked('slow down');
    });
    blocked.channel.deliver(request('r8'));
    const end8 = await blocked.channel.waitFor(isEnd('r8'));
    assert.equal(end8.type === 'error' ? end8.code : undefined, 'rate_limited');

    const failing = setup(async function* () {
      yield new LanguageModelTextPart('so far');
      throw new Error('provider crashed');
    });
    failing.channel.deliver(request('r9'));
    const end9 = await failing.channel.waitFor(isEnd('r9'));
    assert.deepEqual(end9, { type: 'error', id: 'r9', code: 'internal', message: 'provider crashed' });
    assert.equal(failing.channel.sent[0]?.type, 'delta');
  });

  it('refuses a model it does not offer, and one without granted access', async () => {
    const unknown = setup(async function* () {
      yield new LanguageModelTextPart('never');
    });
    unknown.channel.deliver(request('r10', { model: 'other/model' }));
    const end10 = await unknown.channel.waitFor(isEnd('r10'));
    assert.equal(end10.type === 'error' ? end10.code : undefined, 'not_found');

    const denied = setup(
      async function* () {
        yield new LanguageModelTextPart('never');
      },
      () => undefined,
    );
    denied.channel.deliver(request('r11'));
    const end11 = await denied.channel.waitFor(isEnd('r11'));
    assert.equal(end11.type === 'error' ? end11.code : undefined, 'no_permissions');
    assert.match(end11.type === 'error' ? end11.message : '', /Select Language Model/);
    assert.equal(denied.model.calls.length, 0, 'no dialog-triggering call was made');
  });

  it('reports a malformed request frame as internal', async () => {
    const { channel } = setup(async function* () {
      yield new LanguageModelTextPart('never');
    });
    channel.deliver({ type: 'request', id: 'r12', model: 'test/echo', messages: 'nope' });
    const end = await channel.waitFor(isEnd('r12'));
    assert.equal(end.type === 'error' ? end.code : undefined, 'internal');
  });

  it('sends images as data parts; a provider that cannot count gets an estimate, not the bytes as JSON', async () => {
    const { model, channel } = setup(async function* () {
      yield new LanguageModelTextPart('a cat');
    });
    model.countTokens = () => Promise.reject(new Error('cannot count'));
    const bytes = new Uint8Array(300_000).fill(7);
    channel.deliver(
      request('r13', {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'abcdefgh' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${Buffer.from(bytes).toString('base64')}` } },
            ],
          },
        ],
      }),
    );
    const end = await channel.waitFor(isEnd('r13'));
    const [part0, part1] = model.calls[0]?.messages[0]?.content ?? [];
    assert.ok(part0 instanceof LanguageModelTextPart);
    assert.ok(part1 instanceof LanguageModelDataPart);
    assert.equal(part1.data.length, bytes.length);
    // The text part as JSON is 20 characters (5 tokens at four a token), the image a flat 255.
    assert.deepEqual(end.type === 'done' ? end.usage : end, { prompt_tokens: 5 + 255, completion_tokens: 2 });
  });

  it('says an image could not be decoded when VS Code rejects a request with images with an Event', async () => {
    const { model, channel } = setup(async function* () {
      yield new LanguageModelTextPart('never');
    });
    // What VS Code's workbench rejects with when an <img> cannot load the bytes.
    model.sendRequest = () => Promise.reject({ isTrusted: true }); // eslint-disable-line @typescript-eslint/prefer-promise-reject-errors
    const withImage = [
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
    ];
    channel.deliver(request('r14', { messages: withImage }));
    const end = await channel.waitFor(isEnd('r14'));
    assert.equal(end.type === 'error' ? end.code : undefined, 'internal');
    assert.equal(
      end.type === 'error' ? end.message : '',
      'VS Code could not decode an image of the request ({ isTrusted: true }); send PNG, JPEG, GIF, WebP or BMP data',
    );
    // Without images, the rejection is reported as it is (not "[object Object]").
    channel.deliver(request('r15'));
    const plain = await channel.waitFor(isEnd('r15'));
    assert.equal(plain.type === 'error' ? plain.message : '', '{ isTrusted: true }');
  });

  it('serves requests concurrently', async () => {
    const gates = new Map([
      ['a', deferred()],
      ['b', deferred()],
    ]);
    const { channel, calls } = setup(async function* (messages) {
      const first = messages[0]?.content[0];
      const key = first instanceof LanguageModelTextPart ? first.value : '';
      await gates.get(key)?.promise;
      yield new LanguageModelTextPart(`answer ${key}`);
    });
    channel.deliver(request('ra', { messages: [{ role: 'user', content: 'a' }] }));
    channel.deliver(request('rb', { messages: [{ role: 'user', content: 'b' }] }));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls.activeCount, 2);
    gates.get('b')?.resolve();
    await channel.waitFor(isEnd('rb'));
    assert.equal(channel.sent.some(isEnd('ra')), false, 'a is still running');
    gates.get('a')?.resolve();
    await channel.waitFor(isEnd('ra'));
    assert.equal(await calls.whenIdle(1_000), true);
  });
});
