/**
 * A minimal stand-in for the parts of the `vscode` module that the
 * VS Code-free modules take through LmApi (mapping.ts, modelCalls.ts;
 * LanguageModelDataPart as newer VS Code has it, and `lmApiWithoutDataPart`
 * for a VS Code without it), plus
 * LanguageModelError to raise errors shaped like VS Code's. Only what those
 * modules use; behaviour follows VS Code's extHostTypes where it matters
 * (string content becomes one text part; error codes are the factory names).
 */
import type { LmApi } from '../src/mapping';

export enum LanguageModelChatMessageRole {
  User = 1,
  Assistant = 2,
}

export enum LanguageModelChatToolMode {
  Auto = 1,
  Required = 2,
}

export class LanguageModelTextPart {
  constructor(public value: string) {}
}

export class LanguageModelToolCallPart {
  constructor(
    public callId: string,
    public name: string,
    public input: object,
  ) {}
}

export class LanguageModelToolResultPart {
  constructor(
    public callId: string,
    public content: unknown[],
  ) {}
}

/** vscode.LanguageModelDataPart (newer VS Code; not in @types/vscode 1.95). */
export class LanguageModelDataPart {
  static image(data: Uint8Array, mime: string): LanguageModelDataPart {
    return new LanguageModelDataPart(data, mime);
  }

  constructor(
    public data: Uint8Array,
    public mimeType: string,
  ) {}
}

type Part = LanguageModelTextPart | LanguageModelToolCallPart | LanguageModelToolResultPart | LanguageModelDataPart;

export class LanguageModelChatMessage {
  static User(content: string | Part[], name?: string): LanguageModelChatMessage {
    return new LanguageModelChatMessage(LanguageModelChatMessageRole.User, content, name);
  }

  static Assistant(content: string | Part[], name?: string): LanguageModelChatMessage {
    return new LanguageModelChatMessage(LanguageModelChatMessageRole.Assistant, content, name);
  }

  content: Part[];
  name: string | undefined;

  constructor(
    public role: LanguageModelChatMessageRole,
    content: string | Part[],
    name?: string,
  ) {
    this.content = typeof content === 'string' ? [new LanguageModelTextPart(content)] : content;
    this.name = name;
  }
}

export class LanguageModelError extends Error {
  static NoPermissions(message?: string): LanguageModelError {
    return new LanguageModelError(message, 'NoPermissions');
  }

  static Blocked(message?: string): LanguageModelError {
    return new LanguageModelError(message, 'Blocked');
  }

  static NotFound(message?: string): LanguageModelError {
    return new LanguageModelError(message, 'NotFound');
  }

  readonly code: string;

  constructor(message?: string, code?: string, cause?: Error) {
    super(message, cause ? { cause } : undefined);
    this.name = 'LanguageModelError';
    this.code = code ?? 'Unknown';
  }
}

export interface Disposable {
  dispose(): void;
}

export interface CancellationToken {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: (value: unknown) => void): Disposable;
}

export class CancellationTokenSource {
  private cancelled = false;
  private readonly listeners = new Set<(value: unknown) => void>();
  readonly token: CancellationToken;

  constructor() {
    const isCancelled = (): boolean => this.cancelled;
    this.token = {
      get isCancellationRequested(): boolean {
        return isCancelled();
      },
      onCancellationRequested: (listener) => {
        if (this.cancelled) {
          queueMicrotask(() => {
            listener(undefined);
          });
          return { dispose: () => undefined };
        }
        this.listeners.add(listener);
        return { dispose: () => this.listeners.delete(listener) };
      },
    };
  }

  cancel(): void {
    if (this.cancelled) {
      return;
    }
    this.cancelled = true;
    for (const listener of [...this.listeners]) {
      listener(undefined);
    }
    this.listeners.clear();
  }

  dispose(): void {
    this.listeners.clear();
  }
}

/** The stand-in, typed as what mapping.ts and modelCalls.ts expect (a VS Code with LanguageModelDataPart). */
export const lmApi = {
  LanguageModelChatMessage,
  LanguageModelTextPart,
  LanguageModelToolCallPart,
  LanguageModelToolResultPart,
  LanguageModelDataPart,
  LanguageModelChatToolMode,
  CancellationTokenSource,
} as unknown as LmApi;

/** The stand-in of a VS Code without LanguageModelDataPart (1.95). */
export const lmApiWithoutDataPart: LmApi = { ...lmApi, LanguageModelDataPart: undefined };
