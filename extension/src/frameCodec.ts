/**
 * frameCodec: the one NDJSON frame codec of the pipe protocol, extension side.
 *
 * A frame is one JSON object on one line, UTF-8, ended by "\n" (a "\r" before
 * it is tolerated), at most MAX_FRAME_BYTES long without the newline.
 * The decoder is a pure byte-stream splitter: it owns its partial-line buffer,
 * knows nothing of sockets, and stops for good at the first bad line (the
 * connection is then closed, as DESIGN.md requires of both sides).
 */
import type { InboundFrame, OutboundFrame } from './protocol';
import { MAX_FRAME_BYTES } from './protocol';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

export interface DecodeResult {
  /** Every complete frame found, in order. */
  frames: InboundFrame[];
  /** Set when a line was bad; frames before it are still returned. */
  error?: FrameError;
}

export class FrameDecoder {
  /** The start of a line still being received (chunks, not yet joined). */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private failed: FrameError | undefined;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly maxFrameBytes: number = MAX_FRAME_BYTES) {}

  /** Feeds bytes as they arrive, split anywhere. */
  push(chunk: Uint8Array): DecodeResult {
    const frames: InboundFrame[] = [];
    if (this.failed) {
      return { frames, error: this.failed };
    }
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    while (start < bytes.length) {
      const newline = bytes.indexOf(NEWLINE, start);
      const end = newline === -1 ? bytes.length : newline;
      if (this.partialBytes + (end - start) > this.maxFrameBytes) {
        return this.fail(frames, `frame longer than ${this.maxFrameBytes} bytes`);
      }
      if (newline === -1) {
        // Copy: the caller may reuse its buffer once push() returns.
        this.partial.push(Buffer.from(bytes.subarray(start)));
        this.partialBytes += bytes.length - start;
        break;
      }
      const line = this.takeLine(bytes.subarray(start, newline));
      start = newline + 1;
      const parsed = this.parseLine(line);
      if (parsed instanceof FrameError) {
        return this.fail(frames, parsed.message);
      }
      if (parsed) {
        frames.push(parsed);
      }
    }
    return { frames };
  }

  /** Bytes held for a line not yet complete. */
  get pendingBytes(): number {
    return this.partialBytes;
  }

  private takeLine(tail: Buffer): Buffer {
    if (this.partial.length === 0) {
      return tail;
    }
    const line = Buffer.concat([...this.partial, tail], this.partialBytes + tail.length);
    this.partial = [];
    this.partialBytes = 0;
    return line;
  }

  /** A frame, undefined for a blank line, or the reason the line is bad. */
  private parseLine(line: Buffer): InboundFrame | undefined | FrameError {
    let length = line.length;
    if (length > 0 && line[length - 1] === CARRIAGE_RETURN) {
      length -= 1;
    }
    if (length === 0) {
      return undefined;
    }
    let value: unknown;
    try {
      value = JSON.parse(this.utf8.decode(length === line.length ? line : line.subarray(0, length)));
    } catch (err) {
      return new FrameError(`line is not valid UTF-8 JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return new FrameError('line is not a JSON object');
    }
    const type = (value as { type?: unknown }).type;
    if (typeof type !== 'string') {
      return new FrameError('frame has no string "type"');
    }
    return value as InboundFrame;
  }

  private fail(frames: InboundFrame[], message: string): DecodeResult {
    this.failed = new FrameError(message);
    this.partial = [];
    this.partialBytes = 0;
    return { frames, error: this.failed };
  }
}

/**
 * Serialises one frame as a line, newline included. JSON.stringify escapes
 * every control character, so the text never holds a raw newline.
 * Throws FrameError when the line would exceed the limit.
 */
export function encodeFrame(frame: OutboundFrame, maxFrameBytes: number = MAX_FRAME_BYTES): Buffer {
  return Buffer.from(encodeFrameLine(frame, maxFrameBytes), 'utf8');
}

/**
 * encodeFrame as a string, for a socket that encodes it as it writes: no
 * Buffer of our own per frame. Its UTF-8 length is only counted when it
 * could be over the limit (a UTF-16 code unit is at most 3 UTF-8 bytes).
 */
export function encodeFrameLine(frame: OutboundFrame, maxFrameBytes: number = MAX_FRAME_BYTES): string {
  const text = JSON.stringify(frame);
  if (text.length * 3 > maxFrameBytes) {
    const length = Buffer.byteLength(text, 'utf8');
    if (length > maxFrameBytes) {
      throw new FrameError(`${frame.type} frame of ${length} bytes exceeds the ${maxFrameBytes}-byte limit`);
    }
  }
  return `${text}\n`;
}
