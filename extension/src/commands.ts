/**
 * commands: the palette commands (category "VSCode LiteLLM"), their keys in
 * package.json, and the status bar's actions quick pick. The texts the copy
 * commands write are built by pure functions (curlExample here,
 * claudeCodeSettings.ts, codexSettings.ts, geminiCliSettings.ts), unit-tested.
 */
import * as vscode from 'vscode';

import type { SettingsFormat } from './claudeCodeSettings';
import { buildClaudeCodeSettings, formatSettings, keyNote, modelSummary, pasteHint } from './claudeCodeSettings';
import type { GatewayInput } from './clientSettings';
import type { CodexFormat } from './codexSettings';
import {
  KEY_VARIABLE as CODEX_KEY_VARIABLE,
  buildCodexSettings,
  codexKeyNote,
  codexModelSummary,
  codexPasteHint,
  formatCodexSettings,
} from './codexSettings';
import type { GeminiCliFormat } from './geminiCliSettings';
import {
  buildGeminiCliSettings,
  formatGeminiCliSettings,
  geminiCliKeyNote,
  geminiCliModelSummary,
  geminiCliPasteHint,
} from './geminiCliSettings';
import { describeError } from './logger';
import { requestModelAccess } from './modelAccess';
import type { ModelPicker } from './modelPicker';
import type { ProxyController } from './proxyController';
import { readSettings } from './settings';
import { listenAddress } from './serverControl';
import { SHOW_ACTIONS_COMMAND } from './statusBar';

export const COMMANDS = {
  start: 'vscode-litellm.start',
  stop: 'vscode-litellm.stop',
  selectModel: 'vscode-litellm.selectModel',
  showLogs: 'vscode-litellm.showLogs',
  copyCurlExample: 'vscode-litellm.copyCurlExample',
  copyClaudeCodeSettings: 'vscode-litellm.copyClaudeCodeSettings',
  copyCodexSettings: 'vscode-litellm.copyCodexSettings',
  copyGeminiCliSettings: 'vscode-litellm.copyGeminiCliSettings',
} as const;

export interface CommandDeps {
  controller: ProxyController;
  picker: ModelPicker;
  access: vscode.LanguageModelAccessInformation;
  log: vscode.LogOutputChannel;
}

export function registerCommands(deps: CommandDeps): vscode.Disposable {
  const { controller, picker, access, log } = deps;
  const handlers: Record<string, () => Promise<void>> = {
    [COMMANDS.start]: () => controller.start(true),
    [COMMANDS.stop]: () => controller.stop(),
    [COMMANDS.selectModel]: async () => {
      const model = await picker.pick();
      if (!model) {
        return;
      }
      // A user action: the right moment for a consent dialog, if one is due.
      const result = await requestModelAccess(access, model, log);
      if (!result.granted) {
        void vscode.window.showWarningMessage(
          `VSCode LiteLLM may not use ${model.name} (${result.reason}). Requests for it will be refused until access is allowed.`,
        );
        return;
      }
      void vscode.window.setStatusBarMessage(`VSCode LiteLLM: default model is now ${model.name}`, 4000);
    },
    [COMMANDS.showLogs]: () => {
      log.show(true);
      return Promise.resolve();
    },
    [COMMANDS.copyCurlExample]: async () => {
      await picker.refresh();
      const example = curlExample(readSettings(), picker.catalog.defaultEntry?.id ?? 'default');
      await vscode.env.clipboard.writeText(example);
      void vscode.window.showInformationMessage('VSCode LiteLLM: curl example copied to the clipboard.');
    },
    [COMMANDS.copyClaudeCodeSettings]: () => copyClaudeCodeSettings(controller, picker),
    [COMMANDS.copyCodexSettings]: () => copyCodexSettings(controller, picker),
    [COMMANDS.copyGeminiCliSettings]: () => copyGeminiCliSettings(controller, picker),
    [SHOW_ACTIONS_COMMAND]: () => showActions(controller),
  };
  return vscode.Disposable.from(
    ...Object.entries(handlers).map(([command, handler]) =>
      vscode.commands.registerCommand(command, async () => {
        try {
          await handler();
        } catch (err) {
          log.error(`${command} failed: ${describeError(err)}`);
          void vscode.window.showErrorMessage(`VSCode LiteLLM: ${describeError(err)}`);
        }
      }),
    ),
  );
}

/** A streaming chat completion against the configured address. */
export function curlExample(settings: { host: string; port: number }, modelId: string): string {
  const wildcard = settings.host === '0.0.0.0' || settings.host === '::' || settings.host === '[::]';
  const address = listenAddress(wildcard ? '127.0.0.1' : settings.host, settings.port);
  const body = JSON.stringify({
    model: modelId,
    stream: true,
    messages: [{ role: 'user', content: 'Say hello in one sentence.' }],
  });
  return [
    `curl -sN http://${address}/v1/chat/completions \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d '${body.replaceAll("'", "'\\''")}'`,
  ].join('\n');
}

interface FormatItem<Format extends string> extends vscode.QuickPickItem {
  format: Format;
  /** What was copied, for the message. */
  what: string;
}

/**
 * What the copy commands build their text from: the running server's address,
 * the offered models, the selected model and the key policy. The address is
 * the one `litellmctl status --json` reported at Start; a window that has not
 * started (or joined) the server does not know it, says so and offers Start,
 * then goes on. undefined when there is nothing to copy (a message said why).
 */
async function runningGateway(
  controller: ProxyController,
  picker: ModelPicker,
  client: string,
  afterStart = false,
): Promise<GatewayInput | undefined> {
  const state = controller.state;
  if (state.kind === 'starting' || state.kind === 'stopping') {
    void vscode.window.showInformationMessage(
      `VSCode LiteLLM is ${state.kind === 'starting' ? 'starting' : 'stopping'}; copy the ${client} settings again in a moment.`,
    );
    return undefined;
  }
  if (state.kind !== 'running') {
    if (afterStart) {
      return undefined; // Start failed and said why
    }
    const reason =
      state.kind === 'stopped'
        ? 'The server is not running in this window, so the address it listens on is not known here.'
        : `There is no address to give ${client} while the server is not serving: ${state.message}`;
    const start = 'Start LM Proxy Server';
    const choice = await vscode.window.showWarningMessage(
      `VSCode LiteLLM: ${reason} Run Start (it joins a server that is already running); the settings are copied once it serves.`,
      start,
    );
    if (choice === start) {
      await controller.start(true);
      return runningGateway(controller, picker, client, true);
    }
    return undefined;
  }
  await picker.refresh();
  const health = controller.serverStatus;
  // This window's models with their families; other windows' as the ids the status lists.
  const own = picker.catalog.entries.map((entry) => ({
    id: entry.id,
    family: entry.family,
    name: entry.name,
    maxInputTokens: entry.max_input_tokens,
  }));
  const others = (health?.models ?? []).filter((id) => !own.some((model) => model.id === id)).map((id) => ({ id }));
  return {
    listen: state.listen,
    models: [...own, ...others],
    selectedModel: picker.catalog.defaultEntry?.id ?? health?.defaultModel ?? undefined,
    auth: health?.auth ?? null,
  };
}

/** `items`, with the PowerShell item moved before the shell item when PowerShell is VS Code's shell. */
function preferredShellFirst<Format extends string>(items: FormatItem<Format>[]): FormatItem<Format>[] {
  const shell = items.findIndex((item) => item.format === 'shell');
  const powershell = items.findIndex((item) => item.format === 'powershell');
  if (/pwsh|powershell/i.test(vscode.env.shell) && shell >= 0 && powershell > shell) {
    items.splice(shell, 0, ...items.splice(powershell, 1));
  }
  return items;
}

/**
 * Copy Claude Code Settings: the environment that points Claude Code at the
 * running server (claudeCodeSettings.ts), in the format the user picks.
 */
async function copyClaudeCodeSettings(controller: ProxyController, picker: ModelPicker): Promise<void> {
  const input = await runningGateway(controller, picker, 'Claude Code');
  if (!input) {
    return;
  }
  const result = buildClaudeCodeSettings(input);
  if (!result.ok) {
    void vscode.window.showWarningMessage(`VSCode LiteLLM: cannot write the Claude Code settings: ${result.reason}.`);
    return;
  }
  const { settings } = result;
  const items = preferredShellFirst<SettingsFormat>([
    { label: '$(terminal-bash) Shell (bash, zsh)', description: 'export lines', format: 'shell', what: 'shell export lines' },
    { label: '$(terminal-powershell) PowerShell', description: '$env: lines', format: 'powershell', what: 'PowerShell $env: lines' },
    {
      label: '$(json) Claude Code settings.json',
      description: '"env" object',
      format: 'json',
      what: 'a settings.json "env" object',
    },
  ]);
  const chosen = await vscode.window.showQuickPick(items, {
    title: 'VSCode LiteLLM: Copy Claude Code Settings',
    placeHolder: `Claude Code → ${settings.baseUrl}, model ${settings.selectedModel}: copy as…`,
  });
  if (!chosen) {
    return;
  }
  await vscode.env.clipboard.writeText(formatSettings(settings, chosen.format));
  const note = keyNote(settings.keyState);
  const message = [
    `VSCode LiteLLM: Claude Code settings for ${settings.baseUrl} copied to the clipboard as ${chosen.what}.`,
    pasteHint(chosen.format),
    modelSummary(settings),
    ...(note === undefined ? [] : [note]),
  ].join(' ');
  void vscode.window.showInformationMessage(message);
}

/**
 * Copy Codex Settings: the config.toml provider block that points Codex CLI
 * at the running server, or the line setting the key variable that block
 * names (codexSettings.ts), as the user picks.
 */
async function copyCodexSettings(controller: ProxyController, picker: ModelPicker): Promise<void> {
  const input = await runningGateway(controller, picker, 'Codex');
  if (!input) {
    return;
  }
  const result = buildCodexSettings(input);
  if (!result.ok) {
    void vscode.window.showWarningMessage(`VSCode LiteLLM: cannot write the Codex settings: ${result.reason}.`);
    return;
  }
  const { settings } = result;
  const items = preferredShellFirst<CodexFormat>([
    {
      label: '$(gear) Codex config.toml',
      description: 'provider block, model',
      format: 'toml',
      what: 'a config.toml provider block',
    },
    {
      label: '$(terminal-bash) Shell (bash, zsh)',
      description: `export ${CODEX_KEY_VARIABLE}`,
      format: 'shell',
      what: `a shell export line for ${CODEX_KEY_VARIABLE}`,
    },
    {
      label: '$(terminal-powershell) PowerShell',
      description: `$env:${CODEX_KEY_VARIABLE}`,
      format: 'powershell',
      what: `a PowerShell $env: line for ${CODEX_KEY_VARIABLE}`,
    },
  ]);
  const chosen = await vscode.window.showQuickPick(items, {
    title: 'VSCode LiteLLM: Copy Codex Settings',
    placeHolder: `Codex → ${settings.baseUrl}, model ${settings.model}: copy…`,
  });
  if (!chosen) {
    return;
  }
  await vscode.env.clipboard.writeText(formatCodexSettings(settings, chosen.format));
  const note = codexKeyNote(settings.keyState, chosen.format);
  const message = [
    `VSCode LiteLLM: Codex settings for ${settings.baseUrl} copied to the clipboard as ${chosen.what}.`,
    codexPasteHint(chosen.format),
    ...(chosen.format === 'toml' ? [codexModelSummary(settings)] : []),
    ...(note === undefined ? [] : [note]),
  ].join(' ');
  void vscode.window.showInformationMessage(message);
}

/**
 * Copy Gemini CLI Settings: the two environment lines and the
 * ~/.gemini/settings.json block that point Gemini CLI at the running server
 * (geminiCliSettings.ts), as the user picks.
 */
async function copyGeminiCliSettings(controller: ProxyController, picker: ModelPicker): Promise<void> {
  const input = await runningGateway(controller, picker, 'Gemini CLI');
  if (!input) {
    return;
  }
  const result = buildGeminiCliSettings(input);
  if (!result.ok) {
    void vscode.window.showWarningMessage(`VSCode LiteLLM: cannot write the Gemini CLI settings: ${result.reason}.`);
    return;
  }
  const { settings } = result;
  const items = preferredShellFirst<GeminiCliFormat>([
    { label: '$(terminal-bash) Shell (bash, zsh)', description: 'export lines', format: 'shell', what: 'shell export lines' },
    { label: '$(terminal-powershell) PowerShell', description: '$env: lines', format: 'powershell', what: 'PowerShell $env: lines' },
    {
      label: '$(json) Gemini CLI settings.json',
      description: 'auth type, model, compression, usage statistics',
      format: 'json',
      what: 'a settings.json block',
    },
  ]);
  const chosen = await vscode.window.showQuickPick(items, {
    title: 'VSCode LiteLLM: Copy Gemini CLI Settings',
    placeHolder: `Gemini CLI → ${settings.baseUrl}, model ${settings.model}: copy…`,
  });
  if (!chosen) {
    return;
  }
  await vscode.env.clipboard.writeText(formatGeminiCliSettings(settings, chosen.format));
  const note = geminiCliKeyNote(settings.keyState);
  const message = [
    `VSCode LiteLLM: Gemini CLI settings for ${settings.baseUrl} copied to the clipboard as ${chosen.what}.`,
    geminiCliPasteHint(chosen.format),
    ...(chosen.format === 'json' ? [geminiCliModelSummary(settings)] : []),
    ...(note === undefined ? [] : [note]),
  ].join(' ');
  void vscode.window.showInformationMessage(message);
}

interface ActionItem extends vscode.QuickPickItem {
  command: string;
}

async function showActions(controller: ProxyController): Promise<void> {
  const kind = controller.state.kind;
  const serving = kind === 'running' || kind === 'error';
  const items: ActionItem[] = [
    serving
      ? { label: '$(debug-stop) Stop LM Proxy Server', description: 'Ctrl+Shift+L X', command: COMMANDS.stop }
      : { label: '$(play) Start LM Proxy Server', description: 'Ctrl+Shift+L S', command: COMMANDS.start },
    ...(kind === 'error'
      ? [{ label: '$(debug-restart) Start LM Proxy Server', description: 'try again', command: COMMANDS.start }]
      : []),
    { label: '$(symbol-class) Select Language Model', description: 'Ctrl+Shift+L M', command: COMMANDS.selectModel },
    { label: '$(clippy) Copy curl Example', command: COMMANDS.copyCurlExample },
    { label: '$(clippy) Copy Claude Code Settings', command: COMMANDS.copyClaudeCodeSettings },
    { label: '$(clippy) Copy Codex Settings', command: COMMANDS.copyCodexSettings },
    { label: '$(clippy) Copy Gemini CLI Settings', command: COMMANDS.copyGeminiCliSettings },
    { label: '$(output) Show Logs', command: COMMANDS.showLogs },
  ];
  const chosen = await vscode.window.showQuickPick(items, { title: 'VSCode LiteLLM' });
  if (chosen) {
    await vscode.commands.executeCommand(chosen.command);
  }
}
