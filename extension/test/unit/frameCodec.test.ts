import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FrameDecoder, FrameError, encodeFrame, encodeFrameLine } from '../../src/frameCodec';
import type { InboundFrame, OutboundFrame } from '../../src/protocol';
import { MAX_FRAME_BYTES } from '../../src/protocol';

const frames: OutboundFrame[] = [
  { type: 'delta', id: 'r1', text: 'héllo wörld 🌍 — ünïcödé' },
  { type: 'tool_call', id: 'r1', call_id: 'c1', name: 'get_weather', arguments: '{"city":"Zürich\\n"}' },
  { type: 'done', id: 'r1', finish_reason: 'stop', usage: { prompt_tokens: 3, completion_tokens: 4 } },
  { type: 'ping' },
];
const stream = Buffer.concat(frames.map((frame) => encodeFrame(frame)));
const expected = frames.map((frame) => JSON.parse(JSON.stringify(frame)) as InboundFrame);

function decodeAll(decoder: FrameDecoder, chunks: Buffer[]): InboundFrame[] {
  const out: InboundFrame[] = [];
  for (const chunk of chunks) {
    const result = decoder.push(chunk);
    assert.equal(result.error, undefined);
    out.push(...result.frames);
  }
  return out;
}

describe('frame codec', () => {
  it('encodes one JSON object per line', () => {
    const line = encodeFrame({ type: 'delta', id: 'x', text: 'a\nb' }).toString('utf8');
    assert.equal(line, '{"type":"delta","id":"x","text":"a\\nb"}\n');
    assert.equal(line.indexOf('\n'), line.length - 1);
  });

  it('decodes a stream split at every byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoded = decodeAll(new FrameDecoder(), [stream.subarray(0, cut), stream.subarray(cut)]);
      assert.deepEqual(decoded, expected, `split at byte ${cut}`);
    }
  });

  it('decodes a stream fed one byte at a time (multi-byte characters split)', () => {
    const chunks = [...stream].map((byte) => Buffer.from([byte]));
    const decoder = new FrameDecoder();
    assert.deepEqual(decodeAll(decoder, chunks), expected);
    assert.equal(decoder.pendingBytes, 0);
  });

  it('decodes a stream split at every pair of boundaries', () => {
    const short = Buffer.concat([encodeFrame({ type: 'delta', id: 'é', text: '🌍' }), encodeFrame({ type: 'pong' })]);
    for (let a = 0; a <= short.length; a++) {
      for (let b = a; b <= short.length; b++) {
        const decoded = decodeAll(new FrameDecoder(), [short.subarray(0, a), short.subarray(a, b), short.subarray(b)]);
        assert.deepEqual(decoded, [
          { type: 'delta', id: 'é', text: '🌍' },
          { type: 'pong' },
        ]);
      }
    }
  });

  it('does not keep a reference to the caller buffer', () => {
    const decoder = new FrameDecoder();
    const chunk = Buffer.from('{"type":"pi');
    decoder.push(chunk);
    chunk.fill(0x20);
    assert.deepEqual(decoder.push(Buffer.from('ng"}\n')).frames, [{ type: 'ping' }]);
  });

  it('accepts CRLF and skips blank lines', () => {
    const decoded = decodeAll(new FrameDecoder(), [Buffer.from('\n{"type":"ping"}\r\n\r\n\n{"type":"pong"}\n')]);
    assert.deepEqual(decoded, [{ type: 'ping' }, { type: 'pong' }]);
  });

  it('accepts a line of exactly the maximum size', () => {
    const max = 64;
    const line = `{"type":"x","pad":"${'a'.repeat(max - '{"type":"x","pad":""}'.length)}"}`;
    assert.equal(Buffer.byteLength(line), max);
    const result = new FrameDecoder(max).push(Buffer.from(`${line}\n`));
    assert.equal(result.error, undefined);
    assert.equal(result.frames.length, 1);
  });

  it('rejects an oversize line before its newline arrives', () => {
    const max = 64;
    const decoder = new FrameDecoder(max);
    const first = decoder.push(Buffer.from('{"type":"ping"}\n{"type":"x","pad":"'));
    assert.equal(first.error, undefined);
    assert.deepEqual(first.frames, [{ type: 'ping' }]);
    const second = decoder.push(Buffer.from('a'.repeat(max)));
    assert.ok(second.error instanceof FrameError);
    assert.match(second.error.message, /longer than 64 bytes/);
    assert.equal(decoder.pendingBytes, 0, 'the partial line is dropped');
    // The decoder stays failed: the connection must be closed.
    assert.ok(decoder.push(Buffer.from('{"type":"ping"}\n')).error);
  });

  it('rejects a line over 16 MiB by default, and accepts 16 MiB', () => {
    const pad = MAX_FRAME_BYTES - '{"type":"x","p":""}'.length;
    const exact = Buffer.from(`{"type":"x","p":"${'a'.repeat(pad)}"}\n`);
    assert.equal(exact.length, MAX_FRAME_BYTES + 1);
    const ok = new FrameDecoder().push(exact);
    assert.equal(ok.error, undefined);
    assert.equal(ok.frames.length, 1);

    const over = Buffer.from(`{"type":"x","p":"${'a'.repeat(pad + 1)}"}\n`);
    const bad = new FrameDecoder().push(over);
    assert.ok(bad.error instanceof FrameError);
    assert.equal(bad.frames.length, 0);
  });

  it('refuses to encode a frame over the limit', () => {
    assert.throws(() => encodeFrame({ type: 'delta', id: 'x', text: 'a'.repeat(100) }, 64), FrameError);
  });

  it('counts the limit in UTF-8 bytes when encoding a line, newline excluded', () => {
    const shell = JSON.stringify({ type: 'delta', id: 'x', text: '' }).length;
    // 'é' is 2 UTF-8 bytes, '€' 3: lines of exactly 80 bytes, checked against 80 and 79.
    for (const [text, bytes] of [['é'.repeat(10) + 'a'.repeat(60 - shell), 80], ['€'.repeat(10) + 'a'.repeat(50 - shell), 80]] as const) {
      const line = encodeFrameLine({ type: 'delta', id: 'x', text }, bytes);
      assert.equal(Buffer.byteLength(line), bytes + 1);
      assert.equal(line.at(-1), '\n');
      assert.deepEqual(new FrameDecoder(bytes).push(Buffer.from(line)).frames, [{ type: 'delta', id: 'x', text }]);
      assert.throws(() => encodeFrameLine({ type: 'delta', id: 'x', text }, bytes - 1), FrameError);
      assert.deepEqual(encodeFrame({ type: 'delta', id: 'x', text }, bytes), Buffer.from(line));
    }
  });

  for (const [what, line] of [
    ['invalid JSON', '{"type":'],
    ['an array', '[1,2]'],
    ['a string', '"ping"'],
    ['null', 'null'],
    ['an object without a type', '{"id":"x"}'],
    ['invalid UTF-8', '{"type":"\xff"}'],
  ] as const) {
    it(`rejects ${what} and returns the frames before it`, () => {
      const bytes = Buffer.concat([Buffer.from('{"type":"ping"}\n'), Buffer.from(line, 'latin1'), Buffer.from('\n{"type":"pong"}\n')]);
      const result = new FrameDecoder().push(bytes);
      assert.deepEqual(result.frames, [{ type: 'ping' }]);
      assert.ok(result.error instanceof FrameError);
    });
  }
});
