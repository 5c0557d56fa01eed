// reply-script.cjs: THE reply-script language of the test models, one parser
// and one player shared by the pipe test worker (tests/worker/test-worker.mjs,
// a model behind the extension's real PipeClient + ModelCalls) and the e2e
// test provider (tests/e2e/test-provider/extension.js, a model behind real
// VS Code). Both see VS Code-shaped messages (LanguageModelChatMessage with
// text / data / tool-call / tool-result parts) and answer with response
// parts, so a script means the same thing in either place.
//
// CommonJS on purpose: the provider is a CommonJS VS Code extension
// (require), the worker an ES module (import of a .cjs file works).
//
// The script is the text of the LAST user message that has text (a tool
// result's message has none); its text parts joined. One exception: when that
// message holds no `[[` and user messages come right before it (no assistant
// message between), the last of those that holds one is the script: Claude
// Code sends a system turn after the user's prompt, a User message in VS Code.
//
//   plain text                  echoed back, one part per word (spaces kept)
//   [[sleep:MS]]                combines with any other script: nothing at all for
//                               MS ms, then the rest of the text is the script; a
//                               cancel ends it
//   [[chunks:N]]                N parts "c1 " ... "cN "
//   [[gate]] / [[gate:NAME]]    "before-gate", event gate, waits for the gate (NAME,
//                               else the request's own key) to open, "after-gate"
//   [[hold]] / [[hold:NAME]]    event gate, NOTHING until the gate opens, "after-gate"
//   [[hang]] / [[hang:NAME]]    event hang, then nothing until the request is cancelled
//   [[error:SPEC]]              throws (SPEC below)
//   [[error-after-delta:SPEC]]  "partial ", then throws
//   [[error-after-gate:NAME:SPEC]] "partial ", event gate, waits for gate NAME, throws
//   [[tool:NAME:{json}]]        one tool call; once the conversation holds a tool
//                               result: "tool result: <its text>"
//   [[tools:[{"name":N,"arguments":{...}},...]]]
//                               several tool calls in one turn; once tool results
//                               follow the last assistant message:
//                               "tool results: <r1> | <r2> ..."
//   [[tool-seq:[...]]]          one call per turn, in order (the k-th once k-1 tool
//                               results follow the script's message), then
//                               "tool results: <r1> | <r2> ...": multi-step loops
//   [[slow:MS:N]]               N parts "s1 " ... "sN ", each after MS ms
//   [[model]]                   "<vendor>/<family>" of the model serving the request
//                               (the id the extension announces for it)
//   [[model:full]]              "family=<family> id=<VS Code model id>"
//   [[reply:TEXT]]              TEXT exactly, one part (TEXT runs to the last "]]")
//   [[deltas:["a","b",...]]]    exactly these parts (a JSON array)
//   [[images]]                  "images: N <mimeType> ..." of the data (image) parts
//                               of the last user message
//   [[images:full]]             "images: N <mimeType>:<bytes>:<sha256 prefix>[:<W>x<H>] ..."
//                               (W x H: a PNG's size, from its IHDR)
//   [[disconnect]]              "before-disconnect ", event disconnecting, then the
//                               host drops its connection (the worker only)
//
// SPEC of the errors: `CODE:message`, `CODE` or `message`. CODE is a pipe
// error code or the vscode.LanguageModelError it is raised as:
// no_permissions / NoPermissions, not_found / NotFound, rate_limited /
// Blocked (LanguageModelError.<Code>(message): what VS Code's providers
// throw), internal (a plain Error(message), as a provider's own failure
// reaches the extension). Anything else is a plain Error(SPEC).
//
// Events go to host.event(name, fields): gate {name}, hang {name},
// disconnecting. The host adds what identifies the request.

'use strict';

const crypto = require('node:crypto');

/** Pipe error code -> LanguageModelError factory (undefined: a plain Error). */
const ERROR_CODES = {
  no_permissions: 'NoPermissions',
  NoPermissions: 'NoPermissions',
  not_found: 'NotFound',
  NotFound: 'NotFound',
  rate_limited: 'Blocked',
  Blocked: 'Blocked',
  internal: undefined,
};

/** `CODE:message` | `CODE` | `message` -> {factory, message}. */
function parseErrorSpec(spec) {
  const colon = spec.indexOf(':');
  const head = colon >= 0 ? spec.slice(0, colon) : spec;
  if (Object.prototype.hasOwnProperty.call(ERROR_CODES, head)) {
    return { factory: ERROR_CODES[head], message: colon >= 0 ? spec.slice(colon + 1) : `scripted ${head}` };
  }
  return { factory: undefined, message: spec };
}

/**
 * The script of `text`: {sleepMs, step}, step being {kind, ...} of the table
 * above (kind 'echo' with its text when nothing special matches). Pure.
 */
function parse(text) {
  const sleep = text.match(/\[\[sleep:(\d+)\]\]/);
  if (sleep) {
    return { sleepMs: Number(sleep[1]), step: parseStep(text.replace(sleep[0], '').trim()) };
  }
  return { sleepMs: 0, step: parseStep(text) };
}

function parseStep(text) {
  let m;
  if ((m = text.match(/\[\[tools:(\[[\s\S]*\])\]\]/))) return { kind: 'tools', calls: m[1] };
  if ((m = text.match(/\[\[tool-seq:(\[[\s\S]*\])\]\]/))) return { kind: 'tool-seq', calls: m[1] };
  if ((m = text.match(/\[\[deltas:(\[[\s\S]*\])\]\]/))) return { kind: 'deltas', pieces: m[1] };
  if ((m = text.match(/\[\[reply:([\s\S]*)\]\]/))) return { kind: 'reply', text: m[1] };
  if ((m = text.match(/\[\[images(:full)?\]\]/))) return { kind: 'images', full: Boolean(m[1]) };
  if ((m = text.match(/\[\[tool:([^:\]]+):([\s\S]*)\]\]/))) return { kind: 'tool', name: m[1], input: m[2] };
  if ((m = text.match(/\[\[chunks:(\d+)\]\]/))) return { kind: 'chunks', count: Number(m[1]) };
  if ((m = text.match(/\[\[error-after-gate:([\w-]+):([^\]]*)\]\]/))) return { kind: 'error-after-gate', name: m[1], error: parseErrorSpec(m[2]) };
  if ((m = text.match(/\[\[hold(?::([\w-]+))?\]\]/))) return { kind: 'hold', name: m[1] };
  if ((m = text.match(/\[\[gate(?::([\w-]+))?\]\]/))) return { kind: 'gate', name: m[1] };
  if ((m = text.match(/\[\[error-after-delta:([^\]]*)\]\]/))) return { kind: 'error-after-delta', error: parseErrorSpec(m[1]) };
  if ((m = text.match(/\[\[error:([^\]]*)\]\]/))) return { kind: 'error', error: parseErrorSpec(m[1]) };
  if ((m = text.match(/\[\[hang(?::([\w-]+))?\]\]/))) return { kind: 'hang', name: m[1] };
  if (text.includes('[[disconnect]]')) return { kind: 'disconnect' };
  if ((m = text.match(/\[\[slow:(\d+):(\d+)\]\]/))) return { kind: 'slow', intervalMs: Number(m[1]), count: Number(m[2]) };
  if ((m = text.match(/\[\[model(:full)?\]\]/))) return { kind: 'model', full: Boolean(m[1]) };
  return { kind: 'echo', text };
}

// ---------------------------------------------------------------- messages (VS Code-shaped)

/** 'text' | 'data' | 'tool_call' | 'tool_result' | other, by class (then by shape). */
function partKind(api, part) {
  if (part instanceof api.LanguageModelTextPart) return 'text';
  if (typeof api.LanguageModelDataPart === 'function' && part instanceof api.LanguageModelDataPart) return 'data';
  if (part instanceof api.LanguageModelToolResultPart) return 'tool_result';
  if (part instanceof api.LanguageModelToolCallPart) return 'tool_call';
  if (part && typeof part === 'object') {
    if (typeof part.callId === 'string' && Array.isArray(part.content)) return 'tool_result';
    if (typeof part.callId === 'string' && typeof part.name === 'string') return 'tool_call';
    if (typeof part.value === 'string') return 'text';
  }
  return typeof part;
}

function textOfParts(parts) {
  return parts.map((part) => (part && typeof part === 'object' && typeof part.value === 'string' ? part.value : '')).join('');
}

function isUser(api, message) {
  return message.role === api.LanguageModelChatMessageRole.User;
}

/** Index of the last user message that has text (a tool-result message has none), or -1. */
function lastUserTextIndex(api, messages) {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (isUser(api, messages[i]) && textOfParts(messages[i].content) !== '') return i;
  }
  return -1;
}

/**
 * Index of the script's message: the last user message that has text; but
 * when its text holds no `[[` and it closes a run of user messages (no
 * assistant message between them), the last message of that run whose text
 * holds one. A client may put its own user-role text after the user's
 * prompt: Claude Code sends a `role: "system"` turn (its environment) right
 * after it, which reaches VS Code as a User message. -1 when there is none.
 */
function scriptIndex(api, messages) {
  const last = lastUserTextIndex(api, messages);
  if (last < 0 || textOfParts(messages[last].content).includes('[[')) return last;
  for (let i = last - 1; i >= 0 && isUser(api, messages[i]); i--) {
    if (textOfParts(messages[i].content).includes('[[')) return i;
  }
  return last;
}

/** The script: the text of the script's message (scriptIndex). */
function scriptText(api, messages) {
  const index = scriptIndex(api, messages);
  return index >= 0 ? textOfParts(messages[index].content) : '';
}

/** Texts of the tool results in messages[from...]. */
function toolResultsFrom(api, messages, from) {
  const results = [];
  for (const message of messages.slice(Math.max(0, from))) {
    for (const part of message.content) {
      if (partKind(api, part) === 'tool_result') results.push(textOfParts(part.content));
    }
  }
  return results;
}

/** Word-ish pieces that keep their spaces: "Hello big world" -> "Hello ", "big ", "world". */
function words(text) {
  return text.match(/\s*\S+\s*|\s+/g) || [];
}

/** About four characters a token, at least one: what both test models count. */
function countTokens(api, value) {
  const text = typeof value === 'string' ? value : textOfParts(value.content);
  return Math.max(1, Math.ceil(text.length / 4));
}

function describeImage(part, full) {
  if (!full) return part.mimeType;
  const data = Buffer.from(part.data.buffer, part.data.byteOffset, part.data.byteLength);
  const sha = crypto.createHash('sha256').update(data).digest('hex').slice(0, 16);
  const png = data.length >= 24 && data.toString('latin1', 1, 4) === 'PNG' && data.toString('latin1', 12, 16) === 'IHDR';
  return `${part.mimeType}:${data.length}:${sha}${png ? `:${data.readUInt32BE(16)}x${data.readUInt32BE(20)}` : ''}`;
}

function parseCalls(text) {
  let calls;
  try {
    calls = JSON.parse(text);
  } catch {
    calls = null;
  }
  if (!Array.isArray(calls) || !calls.every((c) => c && typeof c.name === 'string')) {
    throw new Error(`reply script: expected a JSON array of {"name","arguments"}: ${text}`);
  }
  return calls;
}

// ---------------------------------------------------------------- playing a script

/**
 * Plays the script of `messages` as an async generator of response parts
 * (api.LanguageModelTextPart / LanguageModelToolCallPart); a scripted
 * failure is thrown. `host`:
 *   api             the vscode namespace, or the harness's stand-in
 *   model           {vendor, family, id}
 *   token           the request's CancellationToken
 *   event(name, fields)   records an event
 *   gate(name)      resolves when gate `name` (undefined: the request's own) opens
 *   cancelled()     the error to throw once the token fired
 *   disconnect()    optional: drops the host's connection ([[disconnect]])
 */
async function* play(host, messages) {
  const { api, token } = host;
  const script = parse(scriptText(api, messages));
  if (script.sleepMs > 0) await untilCancelled(host, sleepOrCancel(script.sleepMs, token));
  const step = script.step;
  const text = (value) => new api.LanguageModelTextPart(value);
  const toolCall = (name, input) => new api.LanguageModelToolCallPart(`call_${crypto.randomBytes(9).toString('hex')}`, name, input);
  const fail = ({ factory, message }) => (factory ? api.LanguageModelError[factory](message) : new Error(message));
  const gate = async (name) => {
    host.event('gate', { name });
    await untilCancelled(host, host.gate(name));
  };

  switch (step.kind) {
    case 'tools': {
      let lastAssistant = -1;
      messages.forEach((m, i) => { if (m.role === api.LanguageModelChatMessageRole.Assistant) lastAssistant = i; });
      const results = lastAssistant >= 0 ? toolResultsFrom(api, messages, lastAssistant + 1) : [];
      if (results.length > 0) {
        yield* words(`tool results: ${results.join(' | ')}`).map(text);
        return;
      }
      for (const call of parseCalls(step.calls)) yield toolCall(call.name, call.arguments ?? {});
      return;
    }
    case 'tool-seq': {
      const calls = parseCalls(step.calls);
      const results = toolResultsFrom(api, messages, scriptIndex(api, messages) + 1);
      if (results.length >= calls.length) yield* words(`tool results: ${results.join(' | ')}`).map(text);
      else yield toolCall(calls[results.length].name, calls[results.length].arguments ?? {});
      return;
    }
    case 'deltas': {
      let pieces;
      try {
        pieces = JSON.parse(step.pieces);
      } catch {
        pieces = null;
      }
      if (!Array.isArray(pieces)) throw new Error(`reply script: [[deltas:...]] needs a JSON array of strings: ${step.pieces}`);
      for (const piece of pieces) yield text(String(piece));
      return;
    }
    case 'reply':
      yield text(step.text);
      return;
    case 'images': {
      const last = messages.findLast((m) => isUser(api, m));
      const images = (last ? last.content : []).filter((part) => partKind(api, part) === 'data').map((part) => describeImage(part, step.full));
      yield text(`images: ${images.length}${images.map((image) => ` ${image}`).join('')}`);
      return;
    }
    case 'tool': {
      const results = toolResultsFrom(api, messages, 0);
      if (results.length > 0) {
        yield* words(`tool result: ${results.at(-1)}`).map(text);
        return;
      }
      let input;
      try {
        input = JSON.parse(step.input);
      } catch {
        throw new Error(`reply script: tool arguments are not JSON: ${step.input}`);
      }
      yield toolCall(step.name, input);
      return;
    }
    case 'chunks':
      for (let i = 1; i <= step.count; i++) yield text(`c${i} `);
      return;
    case 'hold':
      await gate(step.name);
      yield text('after-gate');
      return;
    case 'gate':
      yield text('before-gate');
      await gate(step.name);
      yield text('after-gate');
      return;
    case 'error-after-gate':
      yield text('partial ');
      await gate(step.name);
      throw fail(step.error);
    case 'error-after-delta':
      yield text('partial ');
      throw fail(step.error);
    case 'error':
      throw fail(step.error);
    case 'hang':
      host.event('hang', { name: step.name });
      await untilCancelled(host, new Promise(() => {}));
      return;
    case 'disconnect':
      if (!host.disconnect) throw new Error('reply script: [[disconnect]] needs a host with a connection of its own (the test worker)');
      yield text('before-disconnect ');
      host.event('disconnecting', {});
      host.disconnect();
      await untilCancelled(host, new Promise(() => {}));
      return;
    case 'slow':
      for (let i = 1; i <= step.count; i++) {
        await untilCancelled(host, sleepOrCancel(step.intervalMs, token));
        yield text(`s${i} `);
      }
      return;
    case 'model': {
      const { vendor, family, id } = host.model;
      yield text(step.full ? `family=${family} id=${id}` : `${vendor}/${family}`);
      return;
    }
    default:
      yield* words(step.text).map(text);
  }
}

/** Resolves like `promise`, or throws host.cancelled() once the token fired. */
function untilCancelled(host, promise) {
  const { token } = host;
  if (token.isCancellationRequested) return Promise.reject(host.cancelled());
  return new Promise((resolve, reject) => {
    const listener = token.onCancellationRequested(() => {
      listener.dispose();
      reject(host.cancelled());
    });
    promise.then((value) => { listener.dispose(); resolve(value); }, (err) => { listener.dispose(); reject(err); });
  });
}

/** Resolves after `ms`, or at once (timer cleared) when `token` fires. */
function sleepOrCancel(ms, token) {
  return new Promise((resolve) => {
    const listener = token.onCancellationRequested(() => {
      clearTimeout(timer);
      listener.dispose();
      resolve();
    });
    const timer = setTimeout(() => {
      listener.dispose();
      resolve();
    }, ms);
  });
}

module.exports = { parse, play, scriptText, partKind, textOfParts, countTokens, words };
