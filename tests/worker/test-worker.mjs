#!/usr/bin/env node
// test-worker.mjs: a test double of VS Code's language models that speaks the
// pipe protocol v1 (NDJSON over a Unix socket) exactly as the VS Code
// extension does. It stands in for the models only: it connects to the
// responder's pipe, says hello, serves `request` frames with scripted replies
// and records everything it sees as one JSON line per event on stdout (and
// in --events FILE).
//
// Usage:
//   node test-worker.mjs --pipe PATH [--models gpt-4o,claude-3.5-sonnet]
//        [--default gpt-4o] [--label test] [--no-reconnect] [--events FILE]
//        [--max-input-tokens N]   (what the models report; default 128000;
//                                  0: the field is left out, as a model
//                                  that does not say)
//        [--image-input a,b]      (every model entry gets "capabilities":
//                                  {"image_input": true} for these families,
//                                  false for the others; without the flag no
//                                  entry has "capabilities")
//
// stdin commands (one a line):
//   release <id>        open the gate of request <id> ([[gate]])
//   release-all         open every gate, present and future
//   models <a,b,...>    send a `models` frame announcing these families
//   disconnect          drop the connection now (reconnects unless --no-reconnect)
//   quit                close the connection and exit 0
//
// Replies are scripted by the text of the LAST user message (a string, or
// the text parts joined):
//   plain text                  echoed back as deltas, one per word (spaces kept)
//   [[chunks:N]]                N deltas "c1 " ... "cN "
//   [[gate]]                    delta "before-gate", event gate, wait for
//                               `release <id>`, delta "after-gate", done
//   [[hold]]                    event gate, NOTHING sent until `release <id>`,
//                               then delta "after-gate", done (a model that
//                               is silent before its first token, as long as
//                               the test wants)
//   [[sleep:MS]]                combines with any other script: nothing at all
//                               is sent for MS milliseconds, then the rest of
//                               the message is the script ("[[sleep:5000]] hi"
//                               answers "hi" 5 s late); a cancel ends it
//   [[error:CODE:message]]      an error frame (no_permissions, not_found,
//                               rate_limited, internal)
//   [[error-after-delta:CODE]]  one delta, then an error frame
//   [[tool:NAME:{json}]]        a tool_call frame, done with "tool_calls"; when
//                               the conversation has a `tool` message, the
//                               text "tool result: <its content>" instead
//   [[hang]]                    nothing at all (a cancel frame is recorded)
//   [[disconnect]]              one delta, then the socket is destroyed
//   [[slow:MS:N]]               N deltas, MS milliseconds apart
//   [[model]]                   the resolved model id of the request frame
//   [[reply:TEXT]]              TEXT exactly, as one delta (TEXT runs to the last "]]")
//   [[deltas:["a","b",...]]]    exactly these deltas, in order (a JSON array)
//   [[tools:[{"name":N,"arguments":{...}},...]]]
//                               several tool_call frames in one turn, done with
//                               "tool_calls"; once the conversation has `tool`
//                               messages after the last assistant message: the
//                               text "tool results: <c1> | <c2> ..." instead
//   [[tool-seq:[{"name":N,"arguments":{...}},...]]]
//                               one tool call per turn, in this order: the k-th
//                               call once k-1 tool messages follow the last user
//                               message; after the last one the text
//                               "tool results: <c1> | <c2> ..." (multi-step loops)
//   [[images]]                  "images: N <media types>" of the image_url parts
//                               of the last user message (data: URLs)
//
// No dependencies beyond node:net, node:fs and node:readline.

import net from 'node:net';
import fs from 'node:fs';
import readline from 'node:readline';
import { randomBytes } from 'node:crypto';

const PROTOCOL = 1;
const CLIENT = 'litellm-test-worker/1.0.0';
const VSCODE_VERSION = '1.104.0-test-worker';
const MAX_INPUT_TOKENS = 128000;
const BACKOFF_START_MS = 100;
const BACKOFF_MAX_MS = 2000;

// ---------------------------------------------------------------- options

function usage(message) {
  if (message) process.stderr.write(`test-worker: ${message}\n`);
  process.stderr.write(
    'usage: node test-worker.mjs --pipe PATH [--models a,b] [--default FAMILY] ' +
      '[--label LABEL] [--no-reconnect] [--events FILE] [--max-input-tokens N] [--image-input a,b]\n',
  );
  process.exit(2);
}

function parseOptions(argv) {
  const options = {
    pipe: null,
    families: ['gpt-4o', 'claude-3.5-sonnet'],
    defaultFamily: null,
    label: 'test',
    reconnect: true,
    eventsFile: null,
    maxInputTokens: MAX_INPUT_TOKENS,
    imageFamilies: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inlineValue] = arg.startsWith('--') && arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = () => {
      if (inlineValue !== undefined) return inlineValue;
      if (i + 1 >= argv.length) usage(`${name} needs a value`);
      return argv[++i];
    };
    switch (name) {
      case '--pipe': options.pipe = value(); break;
      case '--models': options.families = splitList(value()); break;
      case '--default': options.defaultFamily = value(); break;
      case '--label': options.label = value(); break;
      case '--no-reconnect': options.reconnect = false; break;
      case '--events': options.eventsFile = value(); break;
      case '--max-input-tokens': {
        const text = value();
        if (!/^\d+$/.test(text)) usage(`--max-input-tokens must be a whole number, not '${text}'`);
        options.maxInputTokens = Number(text);
        break;
      }
      case '--image-input': options.imageFamilies = splitList(value()); break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument ${arg}`);
    }
  }
  if (!options.pipe) usage('--pipe is required');
  if (options.families.length === 0) usage('--models needs at least one model');
  if (!options.label) usage('--label must not be empty');
  return options;
}

function splitList(text) {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

const options = parseOptions(process.argv.slice(2));

// ---------------------------------------------------------------- events

function recordEvent(event) {
  const line = JSON.stringify(event) + '\n';
  // The file first: whoever reads stdout may then rely on the file holding the line.
  if (options.eventsFile) {
    try {
      fs.appendFileSync(options.eventsFile, line);
    } catch (err) {
      process.stderr.write(`test-worker: cannot write ${options.eventsFile}: ${err.message}\n`);
    }
  }
  process.stdout.write(line);
}

// ---------------------------------------------------------------- models

const displayLabel = options.label.charAt(0).toUpperCase() + options.label.slice(1);

function modelId(family) {
  return `${options.label}/${family}`;
}

function modelEntry(family) {
  const entry = {
    id: modelId(family),
    vendor: options.label,
    family,
    name: `${displayLabel} ${family}`,
    version: '1',
  };
  if (options.maxInputTokens > 0) entry.max_input_tokens = options.maxInputTokens;
  if (options.imageFamilies) entry.capabilities = { image_input: options.imageFamilies.includes(family) };
  return entry;
}

let currentFamilies = options.families.slice();

function defaultModelFor(families) {
  if (options.defaultFamily && families.includes(options.defaultFamily)) {
    return modelId(options.defaultFamily);
  }
  return families.length > 0 ? modelId(families[0]) : null;
}

// ---------------------------------------------------------------- connection

let socket = null;          // the current connection, or null
let connectionSerial = 0;   // bumps on every new connection; stale work checks it
let backoffMs = BACKOFF_START_MS;
let quitting = false;
let reconnectTimer = null;

/** @type {Map<string, {serial:number, cancelled:boolean, timers:Set<NodeJS.Timeout>, gate:null|(()=>void)}>} */
const activeRequests = new Map();
const releasedGates = new Set(); // `release <id>` seen before the gate was reached
let releaseAll = false;

function send(frame, serial = connectionSerial) {
  if (!socket || serial !== connectionSerial || socket.destroyed) return false;
  socket.write(JSON.stringify(frame) + '\n');
  return true;
}

function connect() {
  reconnectTimer = null;
  if (quitting) return;
  const serial = ++connectionSerial;
  const conn = net.createConnection({ path: options.pipe });
  let connected = false;
  let buffered = '';
  socket = conn;
  conn.setEncoding('utf8');

  conn.on('connect', () => {
    connected = true;
    backoffMs = BACKOFF_START_MS;
    recordEvent({ event: 'connected', pipe: options.pipe });
    send({
      type: 'hello',
      protocol: PROTOCOL,
      client: CLIENT,
      vscode: VSCODE_VERSION,
      models: currentFamilies.map(modelEntry),
      default_model: defaultModelFor(currentFamilies),
    }, serial);
  });

  conn.on('data', (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim() === '') continue;
      let frame;
      try {
        frame = JSON.parse(line);
      } catch {
        recordEvent({ event: 'bad_frame', line: line.slice(0, 200) });
        continue;
      }
      if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
        recordEvent({ event: 'bad_frame', line: line.slice(0, 200) });
        continue;
      }
      handleFrame(frame, serial);
    }
  });

  conn.on('error', (err) => {
    if (!connected) {
      recordEvent({ event: 'connect_failed', error: err.code || err.message });
    }
  });

  conn.on('close', () => {
    if (serial !== connectionSerial) return;
    socket = null;
    abandonAllRequests();
    if (connected) recordEvent({ event: 'disconnected' });
    if (quitting) return;
    if (!options.reconnect) {
      process.exit(connected ? 0 : 1);
    }
    const delay = backoffMs;
    backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
    reconnectTimer = setTimeout(connect, delay);
  });
}

function abandonAllRequests() {
  for (const request of activeRequests.values()) {
    request.cancelled = true;
    for (const timer of request.timers) clearTimeout(timer);
    request.timers.clear();
  }
  activeRequests.clear();
}

// ---------------------------------------------------------------- frames

function handleFrame(frame, serial) {
  switch (frame.type) {
    case 'welcome':
      recordEvent({ event: 'welcome', protocol: frame.protocol, server: frame.server });
      break;
    case 'ping':
      send({ type: 'pong' }, serial);
      break;
    case 'pong':
      break;
    case 'request':
      handleRequest(frame, serial);
      break;
    case 'cancel':
      handleCancel(frame, serial);
      break;
    case 'error':
      recordEvent({ event: 'server_error', code: frame.code, message: frame.message, id: frame.id });
      break;
    default:
      recordEvent({ event: 'unknown_frame', type: frame.type });
  }
}

function handleCancel(frame, serial) {
  recordEvent({ event: 'cancel', id: frame.id });
  const request = activeRequests.get(frame.id);
  if (!request) return;
  request.cancelled = true;
  for (const timer of request.timers) clearTimeout(timer);
  request.timers.clear();
  activeRequests.delete(frame.id);
  // What the extension does when its CancellationToken fires: the model call
  // throws, and the extension reports it as "cancelled" (no reply is owed).
  send({ type: 'error', id: frame.id, code: 'cancelled', message: 'Request cancelled by the client' }, serial);
}

function textOfContent(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => {
        if (typeof part === 'string') return part;
        if (part && typeof part === 'object' && typeof part.text === 'string') return part.text;
        return '';
      })
      .join('');
  }
  return '';
}

function lastMessageWithRole(messages, role) {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i] && messages[i].role === role) return messages[i];
  }
  return null;
}

/** Word-ish pieces that keep their spaces: "Hello big world" -> "Hello ", "big ", "world". */
function splitWords(text) {
  return text.match(/\s*\S+\s*|\s+/g) || [];
}

function approxTokens(text) {
  return Math.max(1, Math.ceil(text.length / 4));
}

function promptTokens(messages) {
  let characters = 0;
  for (const message of messages) characters += textOfContent(message.content).length;
  return Math.max(1, Math.ceil(characters / 4));
}

function handleRequest(frame, serial) {
  const id = frame.id;
  const messages = Array.isArray(frame.messages) ? frame.messages : [];
  const event = { event: 'request', id, model: frame.model, messages };
  for (const key of Object.keys(frame)) {
    if (!['type', 'id', 'model', 'messages'].includes(key)) event[key] = frame[key];
  }
  if (!('tools' in event)) event.tools = null;
  recordEvent(event);

  const request = { serial, cancelled: false, timers: new Set(), gate: null };
  activeRequests.set(id, request);
  const prompt = promptTokens(messages);
  const userText = textOfContent(lastMessageWithRole(messages, 'user')?.content);

  const live = () => !request.cancelled && serial === connectionSerial && activeRequests.get(id) === request;
  const delta = (text) => live() && send({ type: 'delta', id, text }, serial);
  const finish = (finishReason, completionText) => {
    if (!live()) return;
    send({
      type: 'done',
      id,
      finish_reason: finishReason,
      usage: { prompt_tokens: prompt, completion_tokens: approxTokens(completionText) },
    }, serial);
    activeRequests.delete(id);
  };
  const fail = (code, message) => {
    if (!live()) return;
    send({ type: 'error', id, code, message }, serial);
    activeRequests.delete(id);
  };
  const later = (ms, fn) => {
    const timer = setTimeout(() => {
      request.timers.delete(timer);
      fn();
    }, ms);
    request.timers.add(timer);
  };
  const echo = (text) => {
    for (const piece of splitWords(text)) delta(piece);
    finish('stop', text);
  };

  /** Sends tool_call frames for [{name, arguments}], done with tool_calls. */
  const callTools = (calls) => {
    let argumentsText = '';
    for (const call of calls) {
      if (!live()) return;
      const text = JSON.stringify(call.arguments ?? {});
      argumentsText += text;
      send({ type: 'tool_call', id, call_id: 'call_' + randomBytes(9).toString('hex'), name: String(call.name), arguments: text }, serial);
    }
    finish('tool_calls', argumentsText);
  };
  /** The contents of the tool messages after the last message with role `after`. */
  const toolResultsAfter = (after) => {
    let start = 0;
    for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === after) { start = i + 1; break; }
    return messages.slice(start).filter((m) => m?.role === 'tool').map((m) => textOfContent(m.content));
  };
  const parseCalls = (text) => {
    try {
      const calls = JSON.parse(text);
      if (Array.isArray(calls) && calls.every((c) => c && typeof c.name === 'string')) return calls;
    } catch { /* below */ }
    fail('internal', `test worker: expected a JSON array of {"name","arguments"}: ${text}`);
    return null;
  };

  const sleep = userText.match(/\[\[sleep:(\d+)\]\]/);
  if (sleep) {
    // Silence for MS milliseconds (nothing at all is sent), then the rest of the script.
    const rest = userText.replace(sleep[0], '').trim();
    later(Number(sleep[1]), () => { if (live()) script(rest); });
  } else {
    script(userText);
  }

  function script(userText) {
    let match;
    if ((match = userText.match(/\[\[tools:(\[[\s\S]*\])\]\]/))) {
      const results = toolResultsAfter('assistant');
      if (results.length && lastMessageWithRole(messages, 'assistant')) {
        echo(`tool results: ${results.join(' | ')}`);
        return;
      }
      const calls = parseCalls(match[1]);
      if (calls) callTools(calls);
    } else if ((match = userText.match(/\[\[tool-seq:(\[[\s\S]*\])\]\]/))) {
      const calls = parseCalls(match[1]);
      if (!calls) return;
      const results = toolResultsAfter('user');
      if (results.length >= calls.length) echo(`tool results: ${results.join(' | ')}`);
      else callTools([calls[results.length]]);
    } else if ((match = userText.match(/\[\[deltas:(\[[\s\S]*\])\]\]/))) {
      let pieces;
      try { pieces = JSON.parse(match[1]); } catch { pieces = null; }
      if (!Array.isArray(pieces)) {
        fail('internal', `test worker: [[deltas:...]] needs a JSON array of strings: ${match[1]}`);
        return;
      }
      for (const piece of pieces) delta(String(piece));
      finish('stop', pieces.join(''));
    } else if ((match = userText.match(/\[\[reply:([\s\S]*)\]\]/))) {
      delta(match[1]);
      finish('stop', match[1]);
    } else if (userText.includes('[[images]]')) {
      const last = lastMessageWithRole(messages, 'user');
      const parts = Array.isArray(last?.content) ? last.content.filter((p) => p && p.type === 'image_url') : [];
      const types = parts.map((p) => /^data:([^;,]+)/.exec(String(p.image_url?.url ?? ''))?.[1] ?? 'unknown');
      const text = `images: ${parts.length}${types.length ? ' ' + types.join(' ') : ''}`;
      delta(text);
      finish('stop', text);
    } else if ((match = userText.match(/\[\[tool:([^:\]]+):([\s\S]*)\]\]/))) {
      const toolMessage = lastMessageWithRole(messages, 'tool');
      if (toolMessage) {
        echo(`tool result: ${textOfContent(toolMessage.content)}`);
        return;
      }
      let argumentsText;
      try {
        argumentsText = JSON.stringify(JSON.parse(match[2]));
      } catch {
        fail('internal', `test worker: tool arguments are not JSON: ${match[2]}`);
        return;
      }
      if (!live()) return;
      send({
        type: 'tool_call',
        id,
        call_id: 'call_' + randomBytes(9).toString('hex'),
        name: match[1],
        arguments: argumentsText,
      }, serial);
      finish('tool_calls', argumentsText);
    } else if ((match = userText.match(/\[\[chunks:(\d+)\]\]/))) {
      const count = Number(match[1]);
      let text = '';
      for (let i = 1; i <= count; i++) {
        delta(`c${i} `);
        text += `c${i} `;
      }
      finish('stop', text);
    } else if (userText.includes('[[hold]]')) {
      // Like [[gate]], but silent until released: no delta before the gate.
      const open = () => {
        request.gate = null;
        delta('after-gate');
        finish('stop', 'after-gate');
      };
      recordEvent({ event: 'gate', id });
      if (releaseAll || releasedGates.delete(id)) open();
      else request.gate = open;
    } else if (userText.includes('[[gate]]')) {
      delta('before-gate');
      const open = () => {
        request.gate = null;
        delta('after-gate');
        finish('stop', 'before-gateafter-gate');
      };
      if (releaseAll || releasedGates.delete(id)) {
        recordEvent({ event: 'gate', id });
        open();
        return;
      }
      request.gate = open;
      recordEvent({ event: 'gate', id });
    } else if ((match = userText.match(/\[\[error-after-delta:([a-z_]+)\]\]/))) {
      delta('partial ');
      fail(match[1], `test worker: scripted ${match[1]} after a delta`);
    } else if ((match = userText.match(/\[\[error:([a-z_]+):([\s\S]*?)\]\]/))) {
      fail(match[1], match[2]);
    } else if (userText.includes('[[hang]]')) {
      // Say nothing. The responder's cancel frame is recorded by handleCancel.
    } else if (userText.includes('[[disconnect]]')) {
      delta('before-disconnect ');
      recordEvent({ event: 'disconnecting', id });
      if (socket && serial === connectionSerial) socket.destroy();
    } else if ((match = userText.match(/\[\[slow:(\d+):(\d+)\]\]/))) {
      const interval = Number(match[1]);
      const count = Number(match[2]);
      let sent = 0;
      let text = '';
      const step = () => {
        if (!live()) return;
        if (sent === count) {
          finish('stop', text);
          return;
        }
        sent++;
        delta(`s${sent} `);
        text += `s${sent} `;
        later(interval, step);
      };
      later(interval, step);
    } else if (userText.includes('[[model]]')) {
      const text = String(frame.model);
      delta(text);
      finish('stop', text);
    } else {
      echo(userText);
    }
  }
}

function releaseGate(id) {
  const request = activeRequests.get(id);
  recordEvent({ event: 'release', id });
  if (request && request.gate) {
    request.gate();
  } else {
    releasedGates.add(id);
  }
}

// ---------------------------------------------------------------- stdin

const input = readline.createInterface({ input: process.stdin, terminal: false });
input.on('line', (line) => {
  const [command, ...rest] = line.trim().split(/\s+/);
  const argument = rest.join(' ');
  switch (command) {
    case '':
      break;
    case 'release':
      if (argument) releaseGate(argument);
      break;
    case 'release-all':
      releaseAll = true;
      for (const [id, request] of activeRequests) {
        if (request.gate) releaseGate(id);
      }
      break;
    case 'models': {
      currentFamilies = splitList(argument);
      const frame = {
        type: 'models',
        models: currentFamilies.map(modelEntry),
        default_model: defaultModelFor(currentFamilies),
      };
      const sent = send(frame);
      recordEvent({ event: 'models', models: frame.models.map((m) => m.id), sent });
      break;
    }
    case 'disconnect':
      if (socket) socket.destroy();
      break;
    case 'quit':
      quit(0);
      break;
    default:
      recordEvent({ event: 'unknown_command', line });
  }
});
// stdin closing (e.g. </dev/null under `litellmctl start --demo`) is not a quit.

function quit(code) {
  quitting = true;
  if (reconnectTimer) clearTimeout(reconnectTimer);
  abandonAllRequests();
  if (socket) {
    const conn = socket;
    conn.end(() => process.exit(code));
    setTimeout(() => process.exit(code), 1000).unref();
  } else {
    process.exit(code);
  }
}

process.on('SIGTERM', () => quit(0));
process.on('SIGINT', () => quit(0));

connect();
