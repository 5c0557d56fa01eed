/**
 * statusBar: one status bar item showing the proxy's state:
 *   stopped  "$(debug-disconnect) LiteLLM"
 *   starting "$(loading~spin) LiteLLM: starting…" (and stopping…)
 *   running  "$(radio-tower) :4000 · <model> · n active"
 *   error    "$(error) LiteLLM: error" on the error background
 * The tooltip says what to do (and, while running, the gateway's global
 * limits); a click opens the actions quick pick
 * (vscode-litellm.showActions). It follows ProxyController, which hears from the
 * responder over the pipe and probes nginx, so it changes within seconds when
 * nginx or the responder dies.
 * The texts are statusText.ts's (pure, unit-tested).
 */
import * as vscode from 'vscode';

import type { Disposable } from './events';
import type { ModelCalls } from './modelCalls';
import type { ModelPicker } from './modelPicker';
import type { ProxyController } from './proxyController';
import { statusView } from './statusText';

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
      controller.onDidChangeServerStatus(() => {
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
    const entry = this.picker.catalog.defaultEntry;
    const model = this.picker.catalog.defaultModel;
    const view = statusView({
      state: this.controller.state,
      defaultModel: model && entry ? { name: model.name, id: entry.id } : undefined,
      active: this.calls.activeCount,
      server: this.controller.serverStatus,
    });
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }
}
