// A scripted language model provider for the e2e test (never shipped).
//
// Registers vendor "test" with vscode.lm.registerLanguageModelChatProvider and
// offers two models, claude-3.5-sonnet first (so it is the default until the
// test picks gpt-4o) and gpt-4o; and o1 while the file DIR/extra-models
// lists "o1" (models appearing and vanishing). Replies are scripted by the text of the last
// user message, like tests/worker/test-worker.mjs:
//
//   plain text                 echoed back, one part per word (spaces kept)
//   [[chunks:N]]               N parts "c1 " ... "cN "
//   [[gate:NAME]]              "before-gate ", event gate, waits until the file
//                              DIR/release-NAME exists, "after-gate"
//   [[tool:NAME:{json}]]       a LanguageModelToolCallPart; when the conversation
//                              holds a tool result: "tool result: <its text>"
//   [[error:MESSAGE]]          throws new Error(MESSAGE)
//   [[error-after-delta:MSG]]  "partial ", then throws at once (VS Code 1.139 then
//                              drops the part: the consumer sees only the error)
//   [[error-after-gate:NAME:MSG]] "partial ", event gate, waits for the gate like
//                              [[gate:NAME]], then throws new Error(MSG)
//   [[lm-error:CODE:MESSAGE]]  throws vscode.LanguageModelError[CODE](MESSAGE)
//   [[hang:NAME]]              event hang, then nothing until the request is
//                              cancelled; event cancel {name}
//   [[slow:MS:N]]              N parts "s1 " ... "sN ", MS ms apart
//   [[model]]                  "family=<family> id=<id>"
//   [[images]]                 "images: N <mimeType>:<bytes>:<sha256 prefix>[:<W>x<H>] ..."
//                              of the LanguageModelDataParts of the last user message
//                              (W x H: a PNG's size, from its IHDR)
//
// Test GPT-4o reports image input (capabilities.imageInput), Test Claude not:
// the extension announces that, and the responder refuses images to Claude.
//
// Events are JSON lines appended to DIR/events.jsonl (DIR: the setting
// litellmTestProvider.dir, else $LITELLM_E2E_PROVIDER_DIR), each with the pid
// of the extension host, which tells the windows apart: activated, request
// (family, text, message roles and part kinds, tools), gate, release, hang,
// cancel (any request whose token fired), error, done, models_changed.

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const vscode = require('vscode');

const MODELS = [
  { id: 'test-claude-3.5-sonnet', name: 'Test Claude 3.5 Sonnet', family: 'claude-3.5-sonnet', maxInputTokens: 200000, imageInput: false },
  { id: 'test-gpt-4o', name: 'Test GPT-4o', family: 'gpt-4o', maxInputTokens: 128000, imageInput: true },
];
/** Offered too while DIR/extra-models (families, one a line) names them. */
const EXTRA_MODELS = [
  { id: 'test-o1', name: 'Test o1', family: 'o1', maxInputTokens: 200000, imageInput: false },
];

function extraFamilies() {
  try {
    return fs.readFileSync(path.join(eventsDir(), 'extra-models'), 'utf8').split('\n').map((line) => line.trim()).filter(Boolean);
  } catch {
    return [];
  }
}

function offeredModels() {
  const wanted = extraFamilies();
  return [...MODELS, ...EXTRA_MODELS.filter((model) => wanted.includes(model.family))];
}

let serial = 0;

function eventsDir() {
  const fromSetting = vscode.workspace.getConfiguration('litellmTestProvider').get('dir');
  return typeof fromSetting === 'string' && fromSetting !== '' ? fromSetting : process.env.LITELLM_E2E_PROVIDER_DIR || '';
}

function record(event) {
  const dir = eventsDir();
  if (dir === '') return;
  const line = JSON.stringify({ ...event, pid: process.pid, at: Date.now() });
  try {
    fs.appendFileSync(path.join(dir, 'events.jsonl'), `${line}\n`);
  } catch (err) {
    console.error(`test provider: cannot record an event: ${err.message}`);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `token` is cancelled. */
function cancelled(token) {
  return new Promise((resolve) => {
    if (token.isCancellationRequested) {
      resolve();
      return;
    }
    const listener = token.onCancellationRequested(() => {
      listener.dispose();
      resolve();
    });
  });
}

/** Waits for DIR/release-NAME; throws CancellationError if cancelled first. */
async function gate(name, token) {
  const file = path.join(eventsDir(), `release-${name}`);
  while (!fs.existsSync(file)) {
    if (token.isCancellationRequested) throw new vscode.CancellationError();
    await sleep(20);
  }
}

function isDataPart(part) {
  return typeof vscode.LanguageModelDataPart === 'function' && part instanceof vscode.LanguageModelDataPart;
}

function partKind(part) {
  if (part instanceof vscode.LanguageModelTextPart) return 'text';
  if (isDataPart(part)) return `data(${part.mimeType})`;
  if (part instanceof vscode.LanguageModelToolResultPart) return 'tool_result';
  if (part instanceof vscode.LanguageModelToolCallPart) return 'tool_call';
  if (part && typeof part === 'object') {
    if (typeof part.callId === 'string' && Array.isArray(part.content)) return 'tool_result?';
    if (typeof part.callId === 'string' && typeof part.name === 'string') return 'tool_call?';
    if (typeof part.value === 'string') return 'text?';
  }
  return typeof part;
}

function textOfParts(parts) {
  return parts
    .map((part) => (part && typeof part === 'object' && typeof part.value === 'string' ? part.value : ''))
    .join('');
}

function roleName(role) {
  if (role === vscode.LanguageModelChatMessageRole.User) return 'user';
  if (role === vscode.LanguageModelChatMessageRole.Assistant) return 'assistant';
  return String(role);
}

/** The last user message that has text (a tool-result message has none). */
function lastUserText(messages) {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message.role !== vscode.LanguageModelChatMessageRole.User) continue;
    const text = textOfParts(message.content);
    if (text !== '') return text;
  }
  return '';
}

function toolResultText(messages) {
  for (let i = messages.length - 1; i >= 0; i--) {
    for (const part of messages[i].content) {
      if (partKind(part).startsWith('tool_result')) {
        return textOfParts(part.content);
      }
    }
  }
  return undefined;
}

function words(text) {
  return text.match(/\s*\S+\s*|\s+/g) ?? [];
}

class TestProvider {
  constructor() {
    this.changeEmitter = new vscode.EventEmitter();
    this.onDidChangeLanguageModelChatInformation = this.changeEmitter.event;
  }

  provideLanguageModelChatInformation() {
    return offeredModels().map(({ imageInput, ...model }) => ({
      ...model,
      version: '1',
      maxOutputTokens: 4096,
      tooltip: `e2e test model ${model.family}`,
      capabilities: { toolCalling: true, imageInput },
    }));
  }

  async provideLanguageModelChatResponse(model, messages, options, progress, token) {
    const request = ++serial;
    const text = lastUserText(messages);
    record({
      event: 'request',
      request,
      family: model.family,
      model: model.id,
      text,
      messages: messages.map((m) => ({ role: roleName(m.role), parts: m.content.map(partKind), name: m.name })),
      tools: (options.tools ?? []).map((tool) => tool.name),
      toolMode: options.toolMode,
      modelOptions: options.modelOptions ?? {},
    });
    let name;
    const onCancel = token.onCancellationRequested(() => {
      record({ event: 'cancel', request, family: model.family, name });
    });
    const say = (value) => {
      if (!token.isCancellationRequested) progress.report(new vscode.LanguageModelTextPart(value));
    };
    try {
      let match;
      if ((match = text.match(/\[\[tool:([^:\]]+):([\s\S]*)\]\]/))) {
        const result = toolResultText(messages);
        if (result !== undefined) {
          for (const piece of words(`tool result: ${result}`)) say(piece);
        } else {
          const callId = `call_${crypto.randomBytes(6).toString('hex')}`;
          progress.report(new vscode.LanguageModelToolCallPart(callId, match[1], JSON.parse(match[2])));
        }
      } else if ((match = text.match(/\[\[chunks:(\d+)\]\]/))) {
        for (let i = 1; i <= Number(match[1]); i++) say(`c${i} `);
      } else if ((match = text.match(/\[\[gate:([\w-]+)\]\]/))) {
        name = match[1];
        say('before-gate ');
        record({ event: 'gate', request, family: model.family, name });
        await gate(name, token);
        record({ event: 'release', request, name });
        say('after-gate');
      } else if ((match = text.match(/\[\[hang:([\w-]+)\]\]/))) {
        name = match[1];
        record({ event: 'hang', request, family: model.family, name });
        await cancelled(token);
        throw new vscode.CancellationError();
      } else if ((match = text.match(/\[\[error-after-gate:([\w-]+):([^\]]*)\]\]/))) {
        name = match[1];
        say('partial ');
        record({ event: 'gate', request, family: model.family, name });
        await gate(name, token);
        record({ event: 'release', request, name });
        throw new Error(match[2]);
      } else if ((match = text.match(/\[\[error-after-delta:([^\]]*)\]\]/))) {
        say('partial ');
        throw new Error(match[1]);
      } else if ((match = text.match(/\[\[lm-error:(\w+):([^\]]*)\]\]/))) {
        throw vscode.LanguageModelError[match[1]](match[2]);
      } else if ((match = text.match(/\[\[error:([^\]]*)\]\]/))) {
        throw new Error(match[1]);
      } else if ((match = text.match(/\[\[slow:(\d+):(\d+)\]\]/))) {
        for (let i = 1; i <= Number(match[2]); i++) {
          if (i > 1) await sleep(Number(match[1]));
          say(`s${i} `);
        }
      } else if (text.includes('[[model]]')) {
        say(`family=${model.family} id=${model.id}`);
      } else if (text.includes('[[images]]')) {
        const last = messages.findLast((message) => message.role === vscode.LanguageModelChatMessageRole.User);
        const images = (last?.content ?? []).filter(isDataPart).map((part) => {
          const data = Buffer.from(part.data.buffer, part.data.byteOffset, part.data.byteLength);
          const sha = crypto.createHash('sha256').update(data).digest('hex').slice(0, 16);
          const png = data.length >= 24 && data.toString('latin1', 1, 4) === 'PNG' && data.toString('latin1', 12, 16) === 'IHDR';
          return `${part.mimeType}:${data.length}:${sha}${png ? `:${data.readUInt32BE(16)}x${data.readUInt32BE(20)}` : ''}`;
        });
        say(`images: ${images.length}${images.map((image) => ` ${image}`).join('')}`);
      } else {
        for (const piece of words(text)) say(piece);
      }
      record({ event: 'done', request, family: model.family });
    } catch (err) {
      record({ event: 'error', request, family: model.family, name, error: String(err?.message ?? err) });
      throw err;
    } finally {
      onCancel.dispose();
    }
  }

  provideTokenCount(_model, text) {
    const value = typeof text === 'string' ? text : textOfParts(text.content);
    return Promise.resolve(Math.max(1, Math.ceil(value.length / 4)));
  }
}

function activate(context) {
  const provider = new TestProvider();
  context.subscriptions.push(
    vscode.lm.registerLanguageModelChatProvider('test', provider),
  );
  // The test edits DIR/extra-models; a change is announced to VS Code.
  let extra = extraFamilies().join(',');
  const timer = setInterval(() => {
    const now = extraFamilies().join(',');
    if (now !== extra) {
      extra = now;
      record({ event: 'models_changed', families: offeredModels().map((model) => model.family) });
      provider.changeEmitter.fire();
    }
  }, 50);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });
  record({ event: 'activated', vscode: vscode.version, remoteName: vscode.env.remoteName ?? null });
}

function deactivate() {}

module.exports = { activate, deactivate };
