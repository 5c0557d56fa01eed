#!/usr/bin/env node
// node-worker.mjs: the real worker of `make bench`. A VS Code window on the
// pipe whose pipe client and model-call code are the EXTENSION'S OWN
// (PipeClient, ModelCatalog, ModelCalls from the harness bundle,
// extension/out/harness.mjs; extension/test/harness.ts), so the bench sees
// what every frame costs in a Node extension host. Only the model is a
// double, and it answers at once, as instant_worker.c does:
//
//   (plain text)                 one text part, the instant worker's reply
//   [[bench:stream:N:PACE_US]]   N text parts, each carrying the
//                                CLOCK_MONOTONIC nanoseconds at which the
//                                model yields it ("<ns> "), PACE_US apart
//                                (0: back to back); the stamp is taken before
//                                the extension's code turns the part into a
//                                frame, so that work is inside the latency
//   [[bench:hold]]               one part "held", then nothing until cancelled
//
//   node node-worker.mjs --pipe PATH [--model FAMILY]
//
// One process is one window (one extension host, one connection); bench.mjs
// starts BENCH_CONNECTIONS of them. Prints "ready" on stdout once welcomed;
// runs until SIGTERM. The harness bundle: $LITELLM_EXTENSION_HARNESS, else
// ../../extension/out/harness.mjs (tests/worker/build-harness.sh builds it).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

/** instant_worker.c's INSTANT_REPLY: the same bytes cross the gateway. */
const INSTANT_REPLY = 'Hello! This is an instant reply from the benchmark worker.';
const STREAM_MARKER = /\[\[bench:stream:(\d+):(\d+)\]\]/;
const HOLD_MARKER = '[[bench:hold]]';

function usage(message) {
  process.stderr.write(`node-worker: ${message}\nusage: node node-worker.mjs --pipe PATH [--model FAMILY]\n`);
  process.exit(2);
}

const options = { pipe: '', family: 'gpt-4o' };
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  if (arg === '--pipe' && i + 1 < process.argv.length) options.pipe = process.argv[++i];
  else if (arg === '--model' && i + 1 < process.argv.length) options.family = process.argv[++i];
  else usage(`unknown argument ${arg}`);
}
if (!options.pipe) usage('--pipe is required');

function harnessPath() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const file = process.env.LITELLM_EXTENSION_HARNESS || path.resolve(here, '..', '..', 'extension', 'out', 'harness.mjs');
  if (!fs.existsSync(file)) {
    process.stderr.write(`node-worker: the extension's harness bundle is missing at ${file}; build it with ` +
      '`npm ci && npm run build:harness` in extension/ (run.sh does) or set LITELLM_EXTENSION_HARNESS\n');
    process.exit(1);
  }
  return file;
}

const { serveModels, silentLogger, LanguageModelTextPart } = await import(pathToFileURL(harnessPath()).href);

/** The text of the last message: its text parts joined (what instant_worker.c reads). */
function lastText(messages) {
  const last = messages.at(-1);
  if (!last) return '';
  let text = '';
  for (const part of last.content) {
    if (part instanceof LanguageModelTextPart) text += part.value;
  }
  return text;
}

/** Resolves when `token` is cancelled. */
function cancelled(token) {
  return new Promise((resolve) => {
    if (token.isCancellationRequested) resolve();
    else token.onCancellationRequested(() => resolve());
  });
}

async function* stamped(chunks, paceUs, token) {
  // An absolute schedule, as instant_worker's clock_nanosleep: a late tick
  // does not push every later one back.
  let next = process.hrtime.bigint();
  for (let i = 0; i < chunks && !token.isCancellationRequested; i++) {
    if (paceUs > 0 && i > 0) {
      next += BigInt(paceUs) * 1000n;
      const waitNs = next - process.hrtime.bigint();
      if (waitNs > 0n) await sleep(Number(waitNs) / 1e6);
    }
    yield new LanguageModelTextPart(`${process.hrtime.bigint()} `);
  }
}

async function* reply(text, token) {
  const stream = STREAM_MARKER.exec(text);
  if (stream) {
    yield* stamped(Number(stream[1]), Number(stream[2]), token);
  } else if (text.includes(HOLD_MARKER)) {
    yield new LanguageModelTextPart('held');
    await cancelled(token);
  } else {
    yield new LanguageModelTextPart(INSTANT_REPLY);
  }
}

/** About four characters a token: cheap, as a provider's local count is. */
function estimate(value) {
  if (typeof value === 'string') return Math.ceil(value.length / 4);
  let chars = 0;
  for (const part of value.content) {
    if (part instanceof LanguageModelTextPart) chars += part.value.length;
  }
  return Math.ceil(chars / 4);
}

/** An async iterable that ends at once, shared: no generator per request. */
const NO_TEXT = { [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true, value: undefined }) }) };

/** A vscode.LanguageModelChat that answers at once. */
class InstantModel {
  constructor(family) {
    this.id = `bench-${family}`;
    this.vendor = 'bench';
    this.family = family;
    this.name = `Bench ${family}`;
    this.version = '1';
    this.maxInputTokens = 128000;
  }

  sendRequest(messages, _options, token) {
    // ModelCalls reads `stream` only; `text` is there for the type's sake.
    return Promise.resolve({ stream: reply(lastText(messages), token), text: NO_TEXT });
  }

  countTokens(value) {
    return Promise.resolve(estimate(value));
  }
}

const logger = {
  ...silentLogger,
  warn: (message) => process.stderr.write(`node-worker: ${message}\n`),
  error: (message) => process.stderr.write(`node-worker: ${message instanceof Error ? message.message : message}\n`),
};

const served = await serveModels({
  pipePath: options.pipe,
  models: [new InstantModel(options.family)],
  logger,
  pipe: { client: 'litellm-bench-node-worker/1', vscodeVersion: '1.104.0-bench' },
});
process.stdout.write('ready\n');

const quit = () => {
  served.dispose();
  process.exit(0);
};
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
