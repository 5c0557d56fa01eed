/**
 * A scripted stand-in for vscode.LanguageModelChat: the only double the
 * model-call tests need. `respond` produces response.stream (an async
 * generator of stand-in parts); it may throw to fail the request, or wait
 * on the token to model a slow or hanging provider.
 */
import type * as vscode from 'vscode';

import type { CallableModel } from '../src/modelCalls';
import type { ChatModelInfo } from '../src/modelCatalog';
import { LanguageModelDataPart, LanguageModelTextPart } from './vscodeStandIn';
import type { CancellationToken, LanguageModelChatMessage } from './vscodeStandIn';

export type Respond = (
  messages: LanguageModelChatMessage[],
  options: vscode.LanguageModelChatRequestOptions,
  token: CancellationToken,
) => AsyncIterable<unknown>;

export interface RecordedCall {
  messages: LanguageModelChatMessage[];
  options: vscode.LanguageModelChatRequestOptions;
  token: CancellationToken;
}

export class ScriptedModel implements ChatModelInfo {
  readonly calls: RecordedCall[] = [];
  readonly counted: unknown[] = [];
  readonly id: string;
  readonly vendor: string;
  readonly family: string;
  readonly name: string;
  readonly version: string;
  readonly maxInputTokens: number;
  /** As VS Code builds with the languageModelCapabilities API have it; absent unless given. */
  readonly capabilities?: unknown;

  constructor(
    info: Partial<ChatModelInfo>,
    private readonly respond: Respond,
  ) {
    this.vendor = info.vendor ?? 'test';
    this.family = info.family ?? 'echo';
    this.id = info.id ?? `${this.vendor}-${this.family}-1`;
    this.name = info.name ?? 'Echo';
    this.version = info.version ?? '1';
    this.maxInputTokens = info.maxInputTokens ?? 8192;
    if (info.capabilities !== undefined) {
      this.capabilities = info.capabilities;
    }
  }

  /** Typed as the vscode model, for code that expects one. */
  get asChatModel(): CallableModel {
    return this;
  }

  sendRequest(
    messages: LanguageModelChatMessage[],
    options: vscode.LanguageModelChatRequestOptions = {},
    token: CancellationToken,
  ): Promise<{ stream: AsyncIterable<unknown>; text: AsyncIterable<string> }> {
    this.calls.push({ messages, options, token });
    const stream = this.respond(messages, options, token);
    return Promise.resolve({
      stream,
      text: (async function* text() {
        for await (const part of stream) {
          if (part instanceof LanguageModelTextPart) {
            yield part.value;
          }
        }
      })(),
    });
  }

  /** One token per whitespace-separated word; an image (data part) is one token. */
  countTokens(value: string | LanguageModelChatMessage): Promise<number> {
    this.counted.push(value);
    const text =
      typeof value === 'string'
        ? value
        : value.content
            .map((part) =>
              part instanceof LanguageModelTextPart ? part.value : part instanceof LanguageModelDataPart ? 'image' : JSON.stringify(part),
            )
            .join(' ');
    return Promise.resolve(text.split(/\s+/).filter((word) => word !== '').length);
  }
}

/** Resolves after `ms`, or at once when `token` is cancelled. */
export function waitOrCancel(ms: number, token: CancellationToken): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    token.onCancellationRequested(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
