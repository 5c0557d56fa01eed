// gemini-stream.mjs: the strict reader of a Gemini stream
// (POST /v1beta/models/{model}:streamGenerateContent), as strict as the parser
// Gemini CLI bundles (@google/genai 1.30.0's processStreamResponse, which
// matches /^\s*data: (.*)(?:\n\n|\r\r|\r\n\r\n)/ at the start of its buffer)
// and then some, so that a stream the reader
// accepts is one every Google client reads:
//
//   - a frame is exactly one line `data: <JSON object>` followed by a blank line;
//   - between frames only blank lines (`\n`, heartbeats), from the first byte on;
//   - nothing else: no SSE comment (`: keep-alive` stalls the CLI for good),
//     no `event:`/`id:`/`retry:` line, no multi-line data, no `data:` without
//     its space, no CR (the gateway's lines end with \n), and no U+2028 or
//     U+2029 in a data line (the CLI's `.` does not match them: the frame
//     would never match and the stream would stall);
//   - the frames: each a GenerateContentResponseChunk, or an error
//     ({"error": {...}}, an ErrorResponse whose code fits its status name) that
//     ends the stream; the chunk with a finishReason is the last one and
//     carries usageMetadata with the three counts (adding up); a stream that
//     ends normally without either is broken (Gemini CLI retries it 4 times).
//
//   const reader = new GeminiStreamReader();
//   reader.push(text) → problems found in it ([] if none); reader.frames grows
//   reader.end(complete) → problems of the whole stream (complete: not cut off)
//   readGeminiStream(text) → {frames, heartbeats, problems}
//
// spec-guard.mjs runs every stream the suite gets on that route through it.

import { errorProblems, loadGemini, usageProblems } from '../spec/gemini.mjs';

const gemini = loadGemini();
const DATA_PREFIX = 'data: ';
// Line terminators of JavaScript's `.`, besides \n: the CLI's (.*) stops at them.
const UNMATCHED_BY_DOT = /[\r\u2028\u2029]/;

/** The first candidate's finishReason of a chunk, if any. */
const finishReasonOf = (chunk) => chunk?.candidates?.find((c) => c?.finishReason)?.finishReason;

export class GeminiStreamReader {
  constructor() {
    /** The frames read so far: parsed JSON values (chunks and error objects), in order. */
    this.frames = [];
    /** Blank lines that were not a frame's separator. */
    this.heartbeats = 0;
    this.pending = '';
    this.inFrame = false; // a data line was read; its blank line is due
    this.lineNumber = 0;
    this.terminal = null; // 'finishReason STOP' or 'error' once the stream has ended
  }

  /** Feeds text as it arrives; returns the problems found in the lines it completed. */
  push(text) {
    const problems = [];
    this.pending += text;
    for (let end = this.pending.indexOf('\n'); end >= 0; end = this.pending.indexOf('\n')) {
      const line = this.pending.slice(0, end);
      this.pending = this.pending.slice(end + 1);
      problems.push(...this.line(line));
    }
    return problems;
  }

  /** Problems of the whole stream once it ended; complete: it ended normally (not cut off by the client). */
  end(complete = true) {
    if (!complete) return [];
    const problems = [];
    if (this.pending !== '') problems.push(`the stream ends inside a line: ${JSON.stringify(this.pending.slice(0, 200))}`);
    if (this.inFrame) problems.push(`the last frame (line ${this.lineNumber}) is not followed by a blank line: Gemini CLI's parser never sees it`);
    if (!this.terminal) {
      problems.push('the stream ended without a chunk carrying a finishReason or an error frame (Gemini CLI retries it 4 times: "Model stream ended without a finish reason")');
    }
    return problems;
  }

  line(line) {
    const at = `line ${++this.lineNumber}`;
    if (this.inFrame) {
      this.inFrame = false;
      return line === '' ? [] : [`${at}: ${JSON.stringify(line.slice(0, 120))} right after a data line: a frame is ONE data line and a blank line`];
    }
    if (line === '') {
      this.heartbeats += 1;
      return [];
    }
    if (!line.startsWith(DATA_PREFIX)) {
      const what = line.startsWith(':') ? 'an SSE comment (Gemini CLI\'s parser stalls on it for good)'
        : /^(event|id|retry):/.test(line) ? `an SSE ${line.split(':')[0]} line (Gemini CLI's parser stalls on it)`
          : line.startsWith('data:') ? '`data:` without its space (Gemini CLI matches "data: ")'
            : 'neither `data: ` nor a blank line';
      return [`${at}: ${JSON.stringify(line.slice(0, 120))} is ${what}`];
    }
    this.inFrame = true;
    const payload = line.slice(DATA_PREFIX.length);
    const problems = [];
    if (UNMATCHED_BY_DOT.test(payload)) {
      problems.push(`${at}: the data line holds a CR, U+2028 or U+2029 (escape it as \\r, \\u2028, \\u2029): Gemini CLI's (.*) stops there and the stream stalls`);
    }
    let value;
    try { value = JSON.parse(payload); } catch {
      return [...problems, `${at}: data is not JSON: ${payload.slice(0, 200)}`];
    }
    this.frames.push(value);
    return [...problems, ...this.frame(at, value)];
  }

  frame(at, value) {
    const problems = [];
    if (this.terminal) problems.push(`${at}: a frame after the stream's end (${this.terminal})`);
    if (!value || typeof value !== 'object' || Array.isArray(value)) return [...problems, `${at}: data is not a JSON object`];
    if ('error' in value) {
      this.terminal = 'error';
      const schema = gemini.validate('ErrorResponse', value);
      return [...problems, ...schema.map((p) => `${at}: error frame ${p}`), ...(schema.length ? [] : errorProblems(value, null).map((p) => `${at}: ${p}`))];
    }
    const schema = gemini.validate('GenerateContentResponseChunk', value);
    problems.push(...schema.map((p) => `${at}: ${p}`));
    const reason = finishReasonOf(value);
    if (reason) {
      this.terminal = `finishReason ${reason}`;
      const usage = value.usageMetadata;
      const missing = ['promptTokenCount', 'candidatesTokenCount', 'totalTokenCount'].filter((f) => !Number.isInteger(usage?.[f]));
      if (missing.length) problems.push(`${at}: the last chunk (finishReason ${reason}) has no usageMetadata.${missing.join(', ')}`);
    }
    problems.push(...usageProblems(value.usageMetadata).map((p) => `${at}: ${p}`));
    return problems;
  }
}

/** Reads a whole stream text: {frames, heartbeats, problems}. */
export function readGeminiStream(text, { complete = true } = {}) {
  const reader = new GeminiStreamReader();
  const problems = [...reader.push(text), ...reader.end(complete)];
  return { frames: reader.frames, heartbeats: reader.heartbeats, problems };
}

/** The text of a stream's chunks (first candidate's text parts, thoughts excluded), joined. */
export function streamText(frames) {
  return frames.flatMap((f) => f?.candidates?.[0]?.content?.parts ?? []).filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join('');
}
