/**
 * modelPicker: the models VS Code offers (vscode.lm.selectChatModels) held
 * in a ModelCatalog, the Select Language Model quick pick, and the default
 * model remembered across restarts (globalState). Fires onDidChange when
 * the announcement changes (models appear or vanish: onDidChangeChatModels,
 * a new pick, or the defaultModel setting), so it can be re-sent to the
 * responder as a `models` frame.
 */
import * as vscode from 'vscode';

import type { Disposable } from './events';
import type { Logger } from './logger';
import { describeError } from './logger';
import { ModelCatalog, capabilitiesOf } from './modelCatalog';
import { affectsDefaultModel, readSettings } from './settings';

const SELECTED_MODEL_KEY = 'vscode-litellm.selectedModelId';

interface ModelItem extends vscode.QuickPickItem {
  model: vscode.LanguageModelChat;
}

export class ModelPicker implements vscode.Disposable {
  readonly catalog = new ModelCatalog<vscode.LanguageModelChat>();
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  private readonly subscriptions: Disposable[];
  private refreshSerial = 0;

  /** The announcement (models or default) changed. */
  readonly onDidChange: vscode.Event<void> = this.changeEmitter.event;

  constructor(
    private readonly globalState: vscode.Memento,
    private readonly logger: Logger,
  ) {
    this.subscriptions = [
      this.changeEmitter,
      vscode.lm.onDidChangeChatModels(() => {
        this.logger.debug('VS Code reports a change in the available language models');
        void this.refresh();
      }),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (affectsDefaultModel(event)) {
          void this.refresh();
        }
      }),
    ];
  }

  /** Re-reads the models; the latest of overlapping calls wins. */
  async refresh(): Promise<void> {
    const serial = ++this.refreshSerial;
    let models: vscode.LanguageModelChat[];
    try {
      models = await vscode.lm.selectChatModels();
    } catch (err) {
      this.logger.error(`could not list language models: ${describeError(err)}`);
      return;
    }
    if (serial !== this.refreshSerial) {
      return;
    }
    const before = JSON.stringify(this.catalog.announcement());
    this.catalog.update(models, {
      selectedModelId: this.globalState.get<string>(SELECTED_MODEL_KEY),
      configuredDefault: readSettings().defaultModel,
    });
    const after = this.catalog.announcement();
    if (JSON.stringify(after) !== before) {
      this.logger.info(
        `models: ${after.models.map((entry) => entry.id).join(', ') || '(none)'}; default ${after.default_model ?? '(none)'}`,
      );
      this.changeEmitter.fire();
    }
  }

  /** Shows the quick pick; remembers and returns the chosen model. */
  async pick(): Promise<vscode.LanguageModelChat | undefined> {
    await this.refresh();
    const current = this.catalog.defaultModel;
    const items: ModelItem[] = this.catalog.models.map((model) => {
      const entry = this.catalog.entryOf(model);
      const capabilities = capabilitiesOf(model);
      const accepts = [
        capabilities?.image_input === undefined ? '' : ` · images: ${capabilities.image_input ? 'yes' : 'no'}`,
        capabilities?.tool_calling === undefined ? '' : ` · tools: ${capabilities.tool_calling ? 'yes' : 'no'}`,
      ].join('');
      return {
        model,
        label: model.name,
        description: `${model.vendor} · ${model.family}${model === current ? ' · current default' : ''}`,
        detail: `max input tokens ${model.maxInputTokens.toLocaleString('en-US')}${accepts} · served as "${entry?.id ?? model.id}"`,
      };
    });
    if (items.length === 0) {
      void vscode.window.showWarningMessage(
        'VSCode LiteLLM: VS Code offers no language models. Install and sign in to a model provider (for example GitHub Copilot Chat).',
      );
      return undefined;
    }
    const chosen = await vscode.window.showQuickPick(items, {
      title: 'VSCode LiteLLM: Select Language Model',
      placeHolder: 'Model served when a client omits "model" or asks for "default"',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (!chosen) {
      return undefined;
    }
    await this.globalState.update(SELECTED_MODEL_KEY, chosen.model.id);
    this.logger.info(`default model set to ${chosen.model.vendor}/${chosen.model.family} (${chosen.model.id})`);
    await this.refresh();
    return chosen.model;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
  }
}
