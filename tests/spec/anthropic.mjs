// anthropic.mjs: validates the gateway's Anthropic Messages API responses
// against anthropic-messages.schema.json (beside this file; hand-written from
// the @anthropic-ai/sdk types and Anthropic's docs, cited in the file), with
// ajv's JSON Schema 2020-12 validator in strict mode (ajv-defs.mjs), plus what
// a schema cannot say and the SDK and Claude Code rely on: the order of a
// stream's events.
//
//   const anthropic = loadAnthropic();
//   anthropic.validate(name, value)   → [] or ["/path message (schema …)", …]
//   anthropic.requestParameters       the request fields of the SDK's
//                                     MessageCreateParamsBase (the Messages
//                                     compatibility table's rows)
//   messageProblems(message)          a non-stream Message's coherence
//   new StreamChecker()               .event(name, data) / .end(complete): the
//                                     order of a stream's events
//   ERROR_TYPE_BY_STATUS, EVENT_SCHEMAS

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileDefs } from './ajv-defs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ANTHROPIC_SCHEMA_FILE = path.join(here, 'anthropic-messages.schema.json');
/** The @anthropic-ai/sdk version the schema was written from (tests/package.json pins it). */
export const ANTHROPIC_SDK_VERSION = '1.17.0';

/**
 * The error type of each HTTP status (platform.claude.com/docs/en/api/errors).
 * A status not listed here may carry any of the schema's error types (the docs:
 * invalid_request_error "may also be used for other 4XX status codes").
 */
export const ERROR_TYPE_BY_STATUS = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** The schema of each stream event, by its type (= its `event:` name). */
export const EVENT_SCHEMAS = {
  message_start: 'MessageStartEvent',
  content_block_start: 'ContentBlockStartEvent',
  content_block_delta: 'ContentBlockDeltaEvent',
  content_block_stop: 'ContentBlockStopEvent',
  message_delta: 'MessageDeltaEvent',
  message_stop: 'MessageStopEvent',
  ping: 'PingEvent',
  error: 'ErrorEvent',
};

export const ANTHROPIC_SCHEMAS = [
  'Message', 'CompleteMessage', 'MessageTokensCount', 'ModelInfo', 'ModelList', 'ErrorResponse', ...Object.values(EVENT_SCHEMAS),
];

let loaded = null;

/** Compiles the schema once: {schema, validate(name, value), requestParameters}. */
export function loadAnthropic() {
  loaded ??= (() => {
    const compiled = compileDefs({ file: ANTHROPIC_SCHEMA_FILE, id: 'anthropic', names: ANTHROPIC_SCHEMAS, what: 'Anthropic validator for' });
    return { ...compiled, requestParameters: Object.keys(compiled.schema.$defs.MessageCreateParams.properties) };
  })();
  return loaded;
}

/** stop_reason and stop_sequence agree, tool_use ⇔ tool_use blocks: [] or problems. */
function stopProblems(stopReason, stopSequence, blockTypes) {
  const problems = [];
  if (stopReason === 'stop_sequence' && typeof stopSequence !== 'string') problems.push('stop_reason stop_sequence without the stop_sequence that matched');
  if (stopReason !== 'stop_sequence' && stopSequence !== null && stopSequence !== undefined) problems.push(`stop_sequence ${JSON.stringify(stopSequence)} with stop_reason ${stopReason}`);
  const tools = blockTypes.filter((t) => t === 'tool_use').length;
  if (stopReason === 'tool_use' && tools === 0) problems.push('stop_reason tool_use without a tool_use block');
  if (stopReason === 'end_turn' && tools > 0) problems.push(`${tools} tool_use block(s) with stop_reason end_turn (the API says tool_use)`);
  return problems;
}

/** What the schema cannot say about a non-stream Message. */
export function messageProblems(message) {
  if (!message || !Array.isArray(message.content)) return [];
  const problems = stopProblems(message.stop_reason, message.stop_sequence, message.content.map((b) => b?.type));
  const ids = message.content.filter((b) => b?.type === 'tool_use').map((b) => b.id);
  if (new Set(ids).size !== ids.length) problems.push(`tool_use ids repeat: ${ids.join(', ')}`);
  return problems;
}

const DELTAS_OF_BLOCK = {
  text: ['text_delta'],
  tool_use: ['input_json_delta'],
  thinking: ['thinking_delta', 'signature_delta'],
  redacted_thinking: [],
};

/**
 * The order of a Messages stream (docs, streaming: "Event types" and "Basic
 * streaming request"; @anthropic-ai/sdk lib/MessageStream.ts, which throws on
 * an event before message_start or a second message_start): message_start;
 * per content block, content_block_start (index = blocks so far), its deltas
 * (of its type), content_block_stop; one message_delta; message_stop; ping
 * anywhere before the end; an error event ends the stream. A tool_use block's
 * input_json_delta pieces must join into a JSON object.
 */
export class StreamChecker {
  constructor() {
    this.state = 'start'; // start → message → delta → stopped | failed
    this.blocks = [];      // {type, open, json}
    this.startUsage = null;
    this.stopReason = undefined;
  }

  get open() { return this.blocks.find((b) => b.open); }

  /** Problems with event `type` (its data already schema-checked) at this point of the stream. */
  event(type, data) {
    const problems = [];
    const say = (text) => { problems.push(text); return problems; };
    if (this.state === 'stopped' || this.state === 'failed') return say(`${type} after ${this.state === 'stopped' ? 'message_stop' : 'an error event'}`);
    if (type === 'ping') return problems;
    if (type === 'error') { this.state = 'failed'; return problems; }
    if (this.state === 'start') {
      if (type !== 'message_start') return say(`${type} before message_start (the SDK's MessageStream drops or rejects it)`);
      this.state = 'message';
      this.startUsage = data?.message?.usage ?? null;
      return problems;
    }
    const open = this.open;
    switch (type) {
      case 'message_start':
        return say('a second message_start ("Unexpected event order" in the SDK)');
      case 'content_block_start': {
        if (this.state !== 'message') return say('content_block_start after message_delta');
        if (open) say(`content_block_start while block ${this.blocks.indexOf(open)} is still open`);
        if (data.index !== this.blocks.length) say(`content_block_start index ${data.index}, expected ${this.blocks.length}`);
        this.blocks.push({ type: data.content_block.type, open: true, json: '', deltas: 0 });
        return problems;
      }
      case 'content_block_delta': {
        if (!open) return say(`content_block_delta for index ${data.index} with no block open`);
        if (data.index !== this.blocks.indexOf(open)) say(`content_block_delta index ${data.index}, the open block is ${this.blocks.indexOf(open)}`);
        const allowed = DELTAS_OF_BLOCK[open.type] ?? [];
        if (!allowed.includes(data.delta.type)) say(`a ${data.delta.type} in a ${open.type} block`);
        if (data.delta.type === 'input_json_delta') open.json += data.delta.partial_json;
        open.deltas++;
        return problems;
      }
      case 'content_block_stop': {
        if (!open) return say(`content_block_stop for index ${data.index} with no block open`);
        if (data.index !== this.blocks.indexOf(open)) say(`content_block_stop index ${data.index}, the open block is ${this.blocks.indexOf(open)}`);
        open.open = false;
        if (open.type === 'tool_use' && open.json !== '') {
          let input;
          try { input = JSON.parse(open.json); } catch { input = undefined; }
          if (!input || typeof input !== 'object' || Array.isArray(input)) say(`a tool_use block's input_json_delta pieces do not join into a JSON object: ${JSON.stringify(open.json.slice(0, 200))}`);
        }
        return problems;
      }
      case 'message_delta': {
        if (this.state !== 'message') return say('a second message_delta');
        if (open) say(`message_delta while block ${this.blocks.indexOf(open)} is still open`);
        this.state = 'delta';
        this.stopReason = data.delta.stop_reason;
        problems.push(...stopProblems(data.delta.stop_reason, data.delta.stop_sequence, this.blocks.map((b) => b.type)));
        const before = this.startUsage?.output_tokens;
        if (Number.isInteger(before) && data.usage.output_tokens < before) say(`message_delta usage.output_tokens ${data.usage.output_tokens} below message_start's ${before} (the counts are cumulative)`);
        return problems;
      }
      case 'message_stop':
        if (this.state !== 'delta') return say('message_stop without a message_delta before it (no stop_reason)');
        this.state = 'stopped';
        return problems;
      default:
        return say(`an event type the Messages API does not have: ${type}`);
    }
  }

  /** Problems once the stream ended (complete: the server ended it, not the client). */
  end(complete) {
    if (!complete || this.state === 'stopped' || this.state === 'failed') return [];
    return [`the stream ended ${this.state === 'start' ? 'without any event' : 'without message_stop or an error event'}`];
  }
}
