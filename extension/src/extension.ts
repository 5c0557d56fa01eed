/**
 * extension: activation only wires the modules together; each concern
 * hands back a Disposable for context.subscriptions.
 *
 * Activation: onStartupFinished (for the status bar and autoStart) and, by
 * VS Code's implicit rule, the contributed commands. Activating does no I/O
 * beyond listing models; nothing starts unless autoStart is set.
 */
import * as vscode from 'vscode';

import { registerCommands } from './commands';
import { createLogChannel } from './logs';
import { ModelCalls } from './modelCalls';
import { ModelPicker } from './modelPicker';
import { ProxyController } from './proxyController';
import { ServerControl } from './serverControl';
import { affectsServer, readSettings } from './settings';
import { StatusBar } from './statusBar';

export function activate(context: vscode.ExtensionContext): void {
  const log = createLogChannel();
  const access = context.languageModelAccessInformation;
  const version = (context.extension.packageJSON as { version?: string }).version ?? '0.0.0';
  const picker = new ModelPicker(context.globalState, log);
  const calls = new ModelCalls<vscode.LanguageModelChat>({
    api: vscode,
    resolveModel: (id) => picker.catalog.resolve(id),
    canSendRequest: (model) => access.canSendRequest(model),
    logger: log,
  });
  const control = new ServerControl(readSettings, log);
  const controller = new ProxyController({ control, picker, calls, access, log, client: `vscode-litellm/${version}` });

  context.subscriptions.push(
    log,
    picker,
    calls,
    controller,
    new StatusBar(controller, picker, calls),
    registerCommands({ controller, picker, access, log }),
    picker.onDidChange(() => {
      controller.announce();
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (affectsServer(event) && controller.state.kind === 'running') {
        void vscode.window.showInformationMessage(
          'VSCode LiteLLM: the new server settings apply at the next Start (Stop, then Start).',
        );
      }
    }),
  );

  void picker.refresh().then(() => {
    if (readSettings().autoStart) {
      log.info('autoStart is set: starting');
      return controller.start(false);
    }
    return undefined;
  });
}

export function deactivate(): void {
  // context.subscriptions disconnect this window; the server keeps running
  // for other windows until Stop.
}
