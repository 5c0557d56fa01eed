import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type * as vscode from 'vscode';

import {
  CodedError,
  MappingError,
  decodeImageDataUrl,
  errorToFrame,
  partToFrame,
  toChatMessages,
  toRequestOptions,
} from '../../src/mapping';
import type { OpenAiMessage, OpenAiTool } from '../../src/protocol';
import {
  LanguageModelChatMessageRole,
  LanguageModelChatToolMode,
  LanguageModelDataPart,
  LanguageModelError,
  LanguageModelTextPart,
  LanguageModelToolCallPart,
  LanguageModelToolResultPart,
  lmApi,
  lmApiWithoutDataPart,
} from '../vscodeStandIn';

const { User, Assistant } = LanguageModelChatMessageRole;

function map(messages: OpenAiMessage[]): vscode.LanguageModelChatMessage[] {
  return toChatMessages(lmApi, messages).messages;
}

function texts(message: vscode.LanguageModelChatMessage | undefined): string[] {
  assert.ok(message);
  return message.content.map((part) => {
    assert.ok(part instanceof LanguageModelTextPart, 'a text part');
    return part.value;
  });
}

describe('messages', () => {
  it('merges leading system and developer messages into one User message, in order', () => {
    const mapped = map([
      { role: 'system', content: 'You are terse.' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in ' }, { type: 'text', text: 'French.' }] },
      { role: 'user', content: 'Hello' },
    ]);
    assert.equal(mapped.length, 2);
    assert.equal(mapped[0]?.role, User);
    assert.deepEqual(texts(mapped[0]), ['You are terse.\n\nAnswer in French.']);
    assert.equal(mapped[1]?.role, User);
    assert.deepEqual(texts(mapped[1]), ['Hello']);
  });

  it('keeps a later system message in place as a User message', () => {
    const mapped = map([
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
      { role: 'system', content: 'c' },
    ]);
    assert.deepEqual(
      mapped.map((m) => m.role),
      [User, Assistant, User],
    );
    assert.deepEqual(texts(mapped[2]), ['c']);
  });

  it('maps user text parts, keeps names, skips images when VS Code has no LanguageModelDataPart', () => {
    const { messages, notes } = toChatMessages(lmApiWithoutDataPart, [
      {
        role: 'user',
        name: 'alice',
        content: [
          { type: 'text', text: 'Look: ' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          { type: 'text', text: 'what is it?' },
        ],
      },
    ]);
    const [message] = messages;
    assert.equal(message?.name, 'alice');
    assert.deepEqual(texts(message), ['Look: ', 'what is it?']);
    assert.equal(notes.length, 1);
    assert.match(notes[0] ?? '', /messages\[0\]\.content\[1\]: image_url part skipped \(this VS Code has no LanguageModelDataPart\)/);
    assert.doesNotMatch(notes[0] ?? '', /AAAA/, 'notes never carry content');
  });

  it('skips parts vscode.lm cannot carry at all, with a note', () => {
    const { messages, notes } = toChatMessages(lmApi, [
      { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }, { type: 'text', text: 'hi' }] },
    ]);
    assert.deepEqual(texts(messages[0]), ['hi']);
    assert.equal(notes.length, 1);
    assert.match(notes[0] ?? '', /input_audio part skipped/);
  });

  it('maps assistant tool_calls to LanguageModelToolCallPart after the text', () => {
    const [message] = map([
      {
        role: 'assistant',
        name: 'bot',
        content: 'Let me check.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'now', arguments: '' } },
        ],
      },
    ]);
    assert.equal(message?.role, Assistant);
    assert.equal(message.name, 'bot');
    const [text, first, second] = message.content;
    assert.ok(text instanceof LanguageModelTextPart);
    assert.equal(text.value, 'Let me check.');
    assert.deepEqual(first, new LanguageModelToolCallPart('call_1', 'get_weather', { city: 'Paris' }));
    assert.deepEqual(second, new LanguageModelToolCallPart('call_2', 'now', {}));
    assert.ok(first instanceof LanguageModelToolCallPart);
  });

  it('maps an assistant message with null content and tool calls to tool-call parts only', () => {
    const [message] = map([
      { role: 'assistant', content: null, tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{}' } }] },
    ]);
    assert.equal(message?.content.length, 1);
    assert.ok(message.content[0] instanceof LanguageModelToolCallPart);
  });

  it('maps tool messages to LanguageModelToolResultPart in one User message', () => {
    const mapped = map([
      { role: 'user', content: 'weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'c1', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'c2', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', name: 'get_weather', content: 'sunny' },
      { role: 'tool', tool_call_id: 'c2', name: 'get_weather', content: [{ type: 'text', text: 'rain' }] },
      { role: 'user', content: 'thanks' },
    ]);
    assert.deepEqual(
      mapped.map((m) => m.role),
      [User, Assistant, User, User],
    );
    const results = mapped[2];
    assert.equal(results?.name, 'get_weather', 'a shared name is kept');
    assert.deepEqual(results.content, [
      new LanguageModelToolResultPart('c1', [new LanguageModelTextPart('sunny')]),
      new LanguageModelToolResultPart('c2', [new LanguageModelTextPart('rain')]),
    ]);
    assert.ok(results.content[0] instanceof LanguageModelToolResultPart);
  });

  it('keeps a single tool message name and drops mixed names', () => {
    const single = map([{ role: 'tool', tool_call_id: 'a', name: 'f', content: 'x' }]);
    assert.equal(single[0]?.name, 'f');
    const mixed = map([
      { role: 'tool', tool_call_id: 'a', name: 'f', content: 'x' },
      { role: 'tool', tool_call_id: 'b', name: 'g', content: 'y' },
    ]);
    assert.equal(mixed[0]?.name, undefined);
  });

  it('rejects what it cannot map', () => {
    assert.throws(() => map([{ role: 'tool', content: 'x' }]), MappingError);
    assert.throws(() => map([{ role: 'function', content: 'x' }]), MappingError);
    assert.throws(
      () => map([{ role: 'assistant', tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{bad' } }] }]),
      /not valid JSON/,
    );
    assert.throws(
      () => map([{ role: 'assistant', tool_calls: [{ id: 'c', function: { name: 'f', arguments: '[1]' } }] }]),
      /not a JSON object/,
    );
  });
});

describe('request options', () => {
  const tools: OpenAiTool[] = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Weather of a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    },
    { type: 'function', function: { name: 'now' } },
    { type: 'web_search' },
  ];

  it('maps tools to LanguageModelChatTool, Auto by default', () => {
    const options = toRequestOptions(lmApi, { tools });
    assert.deepEqual(options.tools, [
      {
        name: 'get_weather',
        description: 'Weather of a city',
        inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
      { name: 'now', description: '' },
    ]);
    assert.equal(options.toolMode, LanguageModelChatToolMode.Auto);
    assert.equal(options.modelOptions, undefined);
  });

  it('maps tool_choice "required" to Required', () => {
    assert.equal(toRequestOptions(lmApi, { tools, tool_choice: 'required' }).toolMode, LanguageModelChatToolMode.Required);
  });

  it('maps tool_choice "none" to no tools', () => {
    const options = toRequestOptions(lmApi, { tools, tool_choice: 'none' });
    assert.equal(options.tools, undefined);
    assert.equal(options.toolMode, undefined);
  });

  it('maps a named tool_choice to that tool alone, Required', () => {
    const options = toRequestOptions(lmApi, { tools, tool_choice: { type: 'function', function: { name: 'now' } } });
    assert.deepEqual(options.tools, [{ name: 'now', description: '' }]);
    assert.equal(options.toolMode, LanguageModelChatToolMode.Required);
    assert.throws(
      () => toRequestOptions(lmApi, { tools, tool_choice: { type: 'function', function: { name: 'nope' } } }),
      MappingError,
    );
  });

  it('passes sampling options as modelOptions', () => {
    const options = toRequestOptions(lmApi, { options: { temperature: 0.2, top_p: 0.9, seed: 7 } });
    assert.deepEqual(options.modelOptions, { temperature: 0.2, top_p: 0.9, seed: 7 });
    assert.equal(options.tools, undefined);
    assert.deepEqual(toRequestOptions(lmApi, { options: {} }), {});
  });
});

describe('response parts to frames', () => {
  const newId = (): string => 'call_generated';

  it('turns text parts into delta frames', () => {
    assert.deepEqual(partToFrame(lmApi, 'r1', new LanguageModelTextPart('Hi'), newId), {
      type: 'delta',
      id: 'r1',
      text: 'Hi',
    });
    assert.equal(partToFrame(lmApi, 'r1', new LanguageModelTextPart(''), newId), undefined);
  });

  it('turns tool-call parts into tool_call frames with JSON arguments', () => {
    assert.deepEqual(partToFrame(lmApi, 'r1', new LanguageModelToolCallPart('c9', 'get_weather', { city: 'Oslo' }), newId), {
      type: 'tool_call',
      id: 'r1',
      call_id: 'c9',
      name: 'get_weather',
      arguments: '{"city":"Oslo"}',
    });
    const frame = partToFrame(lmApi, 'r1', new LanguageModelToolCallPart('', 'now', {}), newId);
    assert.equal(frame?.type === 'tool_call' ? frame.call_id : undefined, 'call_generated');
  });

  it('skips unknown parts, including look-alikes of text parts', () => {
    class LanguageModelThinkingPart {
      constructor(public value: string) {}
    }
    assert.equal(partToFrame(lmApi, 'r1', new LanguageModelThinkingPart('hmm'), newId), undefined);
    assert.equal(partToFrame(lmApi, 'r1', { value: 'plain object' }, newId), undefined);
    assert.equal(partToFrame(lmApi, 'r1', 'a string', newId), undefined);
    assert.equal(partToFrame(lmApi, 'r1', null, newId), undefined);
  });
});

describe('errors to frames', () => {
  it('maps LanguageModelError codes', () => {
    const noPermissions = errorToFrame('r', LanguageModelError.NoPermissions('consent denied'), false);
    assert.equal(noPermissions.code, 'no_permissions');
    assert.equal(noPermissions.id, 'r');
    assert.match(noPermissions.message, /consent denied/);
    assert.match(noPermissions.message, /Select Language Model/, 'says how to grant access');
    assert.equal(errorToFrame('r', LanguageModelError.Blocked('quota'), false).code, 'rate_limited');
    assert.equal(errorToFrame('r', LanguageModelError.NotFound('gone'), false).code, 'not_found');
  });

  it('maps anything else to internal with the cause message', () => {
    const wrapped = new LanguageModelError('model errored, check cause', 'Unknown', new Error('upstream 500'));
    assert.deepEqual(errorToFrame('r', wrapped, false), { type: 'error', id: 'r', code: 'internal', message: 'upstream 500' });
    // A provider's own error reaches the caller as a plain Error.
    assert.deepEqual(errorToFrame('r', new Error('provider exploded'), false), {
      type: 'error',
      id: 'r',
      code: 'internal',
      message: 'provider exploded',
    });
    assert.equal(errorToFrame('r', 'a string', false).message, 'a string');
    const nodeError = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    assert.equal(errorToFrame('r', nodeError, false).code, 'internal');
  });

  it('maps a request we cancelled to cancelled, whatever the error', () => {
    assert.equal(errorToFrame('r', new Error('Canceled'), true).code, 'cancelled');
    assert.equal(errorToFrame('r', LanguageModelError.Blocked(), true).code, 'cancelled');
  });

  it('keeps the code of our own errors', () => {
    assert.deepEqual(errorToFrame('r', new CodedError('not_found', 'no such model'), false), {
      type: 'error',
      id: 'r',
      code: 'not_found',
      message: 'no such model',
    });
  });
});

describe('images', () => {
  // An 8-byte PNG signature and a GIF header, base64.
  const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const pngUrl = `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
  const gif = Uint8Array.from(Buffer.from('GIF89a'));

  it('maps image_url data: URLs to LanguageModelDataPart.image(bytes, mimeType), in order with the text', () => {
    const { messages, notes } = toChatMessages(lmApi, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare ' },
          { type: 'image_url', image_url: { url: pngUrl, detail: 'high' } },
          { type: 'text', text: ' with ' },
          { type: 'image_url', image_url: { url: `data:image/GIF;name=a.gif;base64,${Buffer.from(gif).toString('base64')}` } },
        ],
      },
    ]);
    assert.deepEqual(notes, []);
    const [message] = messages;
    assert.equal(message?.role, User);
    const [first, image, second, other] = message.content as unknown[];
    assert.ok(first instanceof LanguageModelTextPart && second instanceof LanguageModelTextPart);
    assert.ok(image instanceof LanguageModelDataPart, 'an image part');
    assert.equal(image.mimeType, 'image/png');
    assert.deepEqual(image.data, png);
    assert.equal(Object.getPrototypeOf(image.data), Uint8Array.prototype, 'a plain Uint8Array, not a Buffer');
    assert.ok(other instanceof LanguageModelDataPart);
    assert.equal(other.mimeType, 'image/gif', 'media type lower-cased, parameters dropped');
    assert.deepEqual(other.data, gif);
  });

  it('sends a message of images alone as data parts', () => {
    const [message] = map([{ role: 'user', content: [{ type: 'image_url', image_url: { url: pngUrl } }] }]);
    assert.equal(message?.content.length, 1);
    assert.ok(message.content[0] instanceof LanguageModelDataPart);
  });

  it('leaves an image-only message empty (one empty text part) without LanguageModelDataPart', () => {
    const { messages, notes } = toChatMessages(lmApiWithoutDataPart, [
      { role: 'user', content: [{ type: 'image_url', image_url: { url: pngUrl } }] },
    ]);
    assert.deepEqual(texts(messages[0]), ['']);
    assert.equal(notes.length, 1);
  });

  it('refuses an image the responder should not have let through (MappingError)', () => {
    const bad = (url: unknown): void => {
      toChatMessages(lmApi, [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }]);
    };
    assert.throws(() => {
      bad('data:image/png;base64,@@@@');
    }, /messages\[0\]\.content\[0\]\.image_url\.url: the image data is not valid base64/);
    assert.throws(() => {
      bad('https://example.com/cat.png');
    }, MappingError);
    assert.throws(() => {
      bad(42);
    }, /image_url\.url is not a string/);
  });

  it('decodes data: URLs strictly', () => {
    assert.deepEqual(decodeImageDataUrl('data:image/jpeg;base64,/9j/'), {
      mimeType: 'image/jpeg',
      data: Uint8Array.from([0xff, 0xd8, 0xff]),
    });
    // URL-safe alphabet, no padding, line breaks ignored.
    assert.deepEqual(decodeImageDataUrl('data:image/webp;base64,_9j_\r\n4A'), {
      mimeType: 'image/webp',
      data: Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]),
    });
    assert.equal(decodeImageDataUrl('data:text/plain;base64,aGk='), 'not an image media type: "text/plain"');
    assert.equal(decodeImageDataUrl('data:image/png,rawbytes'), 'only base64 data: URLs are supported');
    assert.equal(decodeImageDataUrl('data:image/png;base64,'), 'the image data is not valid base64');
    assert.equal(decodeImageDataUrl('data:image/png;base64,AAAAA'), 'the image data is not valid base64');
    assert.equal(decodeImageDataUrl('data:image/png;base64,A+B_'), 'the image data is not valid base64', 'one alphabet');
    assert.equal(decodeImageDataUrl('file:///etc/passwd'), 'not a data: URL');
  });
});
