/**
 * statusBar: one status bar item showing the proxy's state:
 *   stopped  "$(debug-disconnect) LiteLLM"
 *   starting "$(loading~spin) LiteLLM: starting…" (and stopping…)
 *   running  "$(radio-tower) :4000 · <model> · n active"
 *   error    "$(error) LiteLLM: error" on the error background
 * The tooltip says what to do; a click opens the actions quick pick
 * (vscode-litellm.showActions). It follows ProxyController, which polls the
 * server, so it changes within seconds when nginx or the responder dies.
 */
import * as vscode from 'vscode';

import type { Disposable } from './events';
import type { ModelCalls } from './modelCalls';
import type { ModelPicker } from './modelPicker';
import type { ProxyController, ProxyState } from './proxyController';

export const SHOW_ACTIONS_COMMAND = 'vscode-litellm.showActions';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscriptions: Disposable[];

  constructor(
    private readonly controller: ProxyController,
    private readonly picker: ModelPicker,
    private readonly calls: ModelCalls<vscode.LanguageModelChat>,
  ) {
    this.item = vscode.window.createStatusBarItem('vscode-litellm.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'VSCode LiteLLM';
    this.item.command = SHOW_ACTIONS_COMMAND;
    this.subscriptions = [
      controller.onDidChangeState(() => {
        this.render();
      }),
      picker.onDidChange(() => {
        this.render();
      }),
      calls.onDidChangeActive(() => {
        this.render();
      }),
    ];
    this.render();
    this.item.show();
  }

  dispose(): void {
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
    this.item.dispose();
  }

  private render(): void {
    const state: ProxyState = this.controller.state;
    const model = this.picker.catalog.defaultModel;
    const entry = this.picker.catalog.defaultEntry;
    this.item.backgroundColor = undefined;
    switch (state.kind) {
      case 'stopped':
        this.item.text = '$(debug-disconnect) LiteLLM';
        this.item.tooltip =
          'VSCode LiteLLM is stopped.\nClick for actions, or press Ctrl+Shift+L S (Cmd+Shift+L S on macOS) to start the OpenAI-compatible server.';
        return;
      case 'starting':
        this.item.text = '$(loading~spin) LiteLLM: starting…';
        this.item.tooltip = 'VSCode LiteLLM is starting the server and connecting to it.';
        return;
      case 'stopping':
        this.item.text = '$(loading~spin) LiteLLM: stopping…';
        this.item.tooltip = 'VSCode LiteLLM is stopping; requests in flight are finishing.';
        return;
      case 'running': {
        const active = this.calls.activeCount;
        const port = portOf(state.listen);
        this.item.text = `$(radio-tower) :${port} · ${model?.name ?? 'no model'} · ${active} active`;
        this.item.tooltip =
          `VSCode LiteLLM is serving http://${state.listen}/v1 (OpenAI-compatible).\n` +
          `Default model: ${entry ? `${entry.name} ("${entry.id}")` : 'none'}. Requests in flight in this window: ${active}.\n` +
          'Click for actions: Stop, Select Language Model, Copy curl Example, Show Logs.';
        return;
      }
      case 'error':
        this.item.text = '$(error) LiteLLM: error';
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        this.item.tooltip = `${state.message}\nClick for actions: Start to try again, or Show Logs for details.`;
        return;
    }
  }
}

function portOf(listen: string): string {
  const colon = listen.lastIndexOf(':');
  return colon === -1 ? listen : listen.slice(colon + 1);
}
