#!/usr/bin/env node
// test-worker.mjs: a VS Code window without VS Code, for tests and
// `litellmctl start --demo`. The window is the EXTENSION'S OWN CODE: its
// PipeClient (hello/welcome, ping, reconnect with backoff), ModelCatalog and
// ModelCalls (request -> vscode.lm call -> delta/tool_call/done/error
// frames), from the extension's harness bundle (extension/out/harness.mjs,
// `npm run build:harness`; extension/test/harness.ts). Only the models are
// doubles: each plays the reply script of its request (reply-script.cjs, the
// language the e2e test provider speaks too) with the `vscode` stand-in's
// part classes, and every error it throws goes through the extension's own
// error mapping. Events are printed as JSON lines on stdout (and appended to
// --events FILE).
//
// Usage:
//   node test-worker.mjs --pipe PATH [--models gpt-4o,claude-3.5-sonnet]
//        [--default gpt-4o] [--label test] [--no-reconnect] [--events FILE]
//        [--max-input-tokens N]   (what the models report; default 128000;
//                                  0: a model that reports none)
//        [--image-input a,b]      (these families report image input, the
//                                  others not; without the flag no model
//                                  reports capabilities)
//
// The harness bundle: $LITELLM_EXTENSION_HARNESS, else test-worker-harness.mjs
// beside this file (where `make install` puts it), else
// ../../extension/out/harness.mjs (the source tree).
//
// stdin commands (one a line):
//   release <key>       open gate <key>: a request id ([[gate]], [[hold]]) or a
//                       gate's NAME ([[gate:NAME]]); before the gate is reached too
//   release-all         open every gate, present and future
//   models <a,b,...>    offer these families (the extension's `models` frame)
//   disconnect          drop the connection now (the client reconnects unless
//                       --no-reconnect)
//   quit                close the connection and exit 0
// End of stdin (e.g. </dev/null under `litellmctl start --demo`) is not a quit.
//
// Events: connected, welcome {protocol, server}, request (the whole frame, as
// received, before the extension's code sees it), cancel {id} (a cancel
// frame), gate {id, name}, hang {id}, release {id}, disconnecting {id},
// disconnected, connect_failed {error}, models {models, sent},
// server_error {code, message, id}, unknown_frame {type}.
//
// Two things a real window never does go through escape hatches, both
// marked: [[disconnect]] / `disconnect` destroy the socket under the
// extension's connection (harness dropConnection), and the request frame is
// read from the channel, ahead of ModelCalls, to record it and to tell each
// model call which request it serves (ModelCalls calls sendRequest in the
// same tick as it receives the frame).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { countTokens, play } from './reply-script.cjs';

const CLIENT = 'litellm-test-worker/2.0.0';
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

// ---------------------------------------------------------------- the extension's code

function harnessPath() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = process.env.LITELLM_EXTENSION_HARNESS
    ? [path.resolve(process.env.LITELLM_EXTENSION_HARNESS)]
    : [path.join(here, 'test-worker-harness.mjs'), path.resolve(here, '..', '..', 'extension', 'out', 'harness.mjs')];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) {
    process.stderr.write(`test-worker: the extension's harness bundle is missing (looked for ${candidates.join(', ')}); ` +
      'build it with `npm ci && npm run build:harness` in extension/ (make install puts it beside this file), ' +
      'or set LITELLM_EXTENSION_HARNESS\n');
    process.exit(1);
  }
  return found;
}

const harness = await import(pathToFileURL(harnessPath()).href);
const { serveModels, dropConnection, PROTOCOL_VERSION } = harness;
/** What the reply script needs of `vscode`: the stand-in the extension's code was handed. */
const api = {
  ...harness.lmApi,
  LanguageModelChatMessageRole: harness.LanguageModelChatMessageRole,
  LanguageModelError: harness.LanguageModelError,
};

// ---------------------------------------------------------------- gates

const gates = new Map();      // key -> opens the gate
const released = new Set();   // `release <key>` seen before the gate was reached
let releaseAll = false;

function waitGate(key) {
  if (releaseAll || released.delete(key)) return Promise.resolve();
  return new Promise((resolve) => gates.set(key, resolve));
}

function releaseGate(key) {
  recordEvent({ event: 'release', id: key });
  const open = gates.get(key);
  if (open) {
    gates.delete(key);
    open();
  } else {
    released.add(key);
  }
}

// ---------------------------------------------------------------- models

const displayLabel = options.label.charAt(0).toUpperCase() + options.label.slice(1);

/**
 * The request frame ModelCalls is dispatching right now, with its channel:
 * set by our frame listener, which runs first; ModelCalls then calls
 * sendRequest in the same tick, which takes it.
 */
let dispatching = null;

class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** A vscode.LanguageModelChat whose replies are reply scripts. */
class ScriptModel {
  constructor(family) {
    this.id = `${options.label}-${family}`;
    this.vendor = options.label;
    this.family = family;
    this.name = `${displayLabel} ${family}`;
    this.version = '1';
    this.maxInputTokens = options.maxInputTokens;
    if (options.imageFamilies) this.capabilities = { supportsImageToText: options.imageFamilies.includes(family) };
  }

  sendRequest(messages, _options, token) {
    const taken = dispatching;
    dispatching = null;
    if (!taken) throw new Error('test worker: a model call without a request frame being dispatched');
    const { frame, channel } = taken;
    const id = frame.id;
    const host = {
      api,
      model: this,
      token,
      event: (name, fields) => recordEvent({ event: name, id, ...fields }),
      gate: (name) => waitGate(name ?? id),
      cancelled: () => new CancelledError(),
      disconnect: () => dropConnection(channel),
    };
    return Promise.resolve({ stream: play(host, messages), text: (async function* none() {})() });
  }

  countTokens(value) {
    return Promise.resolve(countTokens(api, value));
  }
}

let families = options.families.slice();
const models = () => families.map((family) => new ScriptModel(family));
const preference = () => (options.defaultFamily ? { configuredDefault: options.defaultFamily } : {});

// ---------------------------------------------------------------- the connection

let served = null;            // serveModels' result once the first connection is made
let channel = null;           // the live connection, or null
let quitting = false;
let welcomeServer;            // from the client's "connected to SERVER" log line

/** The extension's log lines: warnings and errors to stderr; two of them are events. */
const logger = {
  trace() {},
  debug() {},
  info(message) {
    const connected = /^pipe: connected to (\S+) at /.exec(String(message));
    if (connected) welcomeServer = connected[1];
  },
  warn(message) {
    process.stderr.write(`test-worker: ${message}\n`);
  },
  error(message) {
    const text = message instanceof Error ? message.message : String(message);
    const reported = /^pipe: the responder reported (\S+): ([\s\S]*)$/.exec(text);
    if (reported) recordEvent({ event: 'server_error', code: reported[1], message: reported[2] });
    process.stderr.write(`test-worker: ${text}\n`);
  },
};

/** serveModels' onConnect: runs before ModelCalls serves the channel. */
function onConnect(connection) {
  channel = connection;
  recordEvent({ event: 'connected', pipe: options.pipe });
  recordEvent({ event: 'welcome', protocol: PROTOCOL_VERSION, server: welcomeServer });
  connection.onFrame((frame) => {
    switch (frame.type) {
      case 'request': {
        const event = { event: 'request', id: frame.id, model: frame.model, messages: frame.messages };
        for (const key of Object.keys(frame)) {
          if (!['type', 'id', 'model', 'messages'].includes(key)) event[key] = frame[key];
        }
        if (!('tools' in event)) event.tools = null;
        recordEvent(event);
        dispatching = { frame, channel: connection };
        break;
      }
      case 'cancel':
        recordEvent({ event: 'cancel', id: frame.id });
        break;
      case 'error':
        recordEvent({ event: 'server_error', code: frame.code, message: frame.message, id: frame.id });
        break;
      case 'status':
        break;
      default:
        recordEvent({ event: 'unknown_frame', type: frame.type });
    }
  });
  connection.onClose(() => {
    if (channel === connection) channel = null;
    recordEvent({ event: 'disconnected' });
    if (!options.reconnect && !quitting) process.exit(0);
  });
}

async function connect() {
  let backoff = BACKOFF_START_MS;
  while (!quitting) {
    try {
      served = await serveModels({
        pipePath: options.pipe,
        models: models(),
        preference: preference(),
        logger,
        onConnect,
        pipe: {
          client: CLIENT,
          vscodeVersion: VSCODE_VERSION,
          connectTimeoutMs: 0, // one attempt: failures are retried (and recorded) here
          reconnectInitialMs: BACKOFF_START_MS,
          reconnectMaxMs: BACKOFF_MAX_MS,
        },
      });
      if (quitting) served.dispose();
      return;
    } catch (err) {
      recordEvent({ event: 'connect_failed', error: err?.cause?.code ?? err?.message ?? String(err) });
      if (!options.reconnect) process.exit(1);
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
  }
}

// ---------------------------------------------------------------- stdin

const stdin = { buffer: '' };
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  stdin.buffer += chunk;
  let newline;
  while ((newline = stdin.buffer.indexOf('\n')) >= 0) {
    const line = stdin.buffer.slice(0, newline);
    stdin.buffer = stdin.buffer.slice(newline + 1);
    command(line);
  }
});
// End of stdin is not a quit.

function command(line) {
  const [name, ...rest] = line.trim().split(/\s+/);
  const argument = rest.join(' ');
  switch (name) {
    case '':
      break;
    case 'release':
      if (argument) releaseGate(argument);
      break;
    case 'release-all':
      releaseAll = true;
      for (const key of [...gates.keys()]) releaseGate(key);
      break;
    case 'models': {
      families = splitList(argument);
      const sent = Boolean(served && channel && !channel.closed);
      if (served) served.setModels(models(), preference());
      const ids = served ? served.catalog.entries.map((entry) => entry.id) : families.map((f) => `${options.label}/${f}`);
      recordEvent({ event: 'models', models: ids, sent });
      break;
    }
    case 'disconnect':
      if (channel) dropConnection(channel);
      break;
    case 'quit':
      quit(0);
      break;
    default:
      recordEvent({ event: 'unknown_command', line });
  }
}

function quit(code) {
  quitting = true;
  if (served) served.dispose();
  process.exit(code);
}

process.on('SIGTERM', () => quit(0));
process.on('SIGINT', () => quit(0));

void connect();
