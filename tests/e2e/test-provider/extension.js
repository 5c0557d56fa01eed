// A scripted language model provider for the e2e test (never shipped).
//
// Registers vendor "test" with vscode.lm.registerLanguageModelChatProvider and
// offers two models, claude-3.5-sonnet first (so it is the default until the
// test picks gpt-4o) and gpt-4o; and o1 while the file DIR/extra-models
// lists "o1" (models appearing and vanishing). Replies are reply scripts:
// reply-script.cjs (tests/worker/reply-script.cjs, copied beside this file
// when the e2e test installs the provider), the language the pipe test
// worker plays too; see its table. Here a gate [[gate:NAME]] opens when the
// file DIR/release-NAME exists, and [[disconnect]] is not available (a
// provider has no connection of its own).
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
const vscode = require('vscode');
const script = require('./reply-script.cjs');

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

/** Waits for DIR/release-NAME; throws CancellationError if cancelled first. */
async function gate(name, token) {
  const file = path.join(eventsDir(), `release-${name}`);
  while (!fs.existsSync(file)) {
    if (token.isCancellationRequested) throw new vscode.CancellationError();
    await sleep(20);
  }
}

function partKind(part) {
  const kind = script.partKind(vscode, part);
  return kind === 'data' ? `data(${part.mimeType})` : kind;
}

function roleName(role) {
  if (role === vscode.LanguageModelChatMessageRole.User) return 'user';
  if (role === vscode.LanguageModelChatMessageRole.Assistant) return 'assistant';
  return String(role);
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
    const text = script.scriptText(vscode, messages);
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
    const host = {
      api: vscode,
      model: { vendor: 'test', family: model.family, id: model.id },
      token,
      event: (kind, fields) => {
        if (fields.name !== undefined) name = fields.name;
        record({ event: kind, request, family: model.family, ...fields });
      },
      gate: async (gateName) => {
        if (gateName === undefined) throw new Error('reply script: a gate here needs a NAME ([[gate:NAME]]): DIR/release-NAME opens it');
        await gate(gateName, token);
        record({ event: 'release', request, name: gateName });
      },
      cancelled: () => new vscode.CancellationError(),
    };
    try {
      for await (const part of script.play(host, messages)) {
        if (!token.isCancellationRequested) progress.report(part);
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
    return Promise.resolve(script.countTokens(vscode, text));
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
