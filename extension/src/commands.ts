/**
 * commands: the palette commands (category "VSCode LiteLLM"), their keys in
 * package.json, and the status bar's actions quick pick.
 */
import * as vscode from 'vscode';

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
    { label: '$(output) Show Logs', command: COMMANDS.showLogs },
  ];
  const chosen = await vscode.window.showQuickPick(items, { title: 'VSCode LiteLLM' });
  if (chosen) {
    await vscode.commands.executeCommand(chosen.command);
  }
}
