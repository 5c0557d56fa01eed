/**
 * events: a minimal typed event emitter shaped like vscode.EventEmitter, for
 * the modules that must run without `vscode` (pipeClient, modelCalls,
 * serverControl). Its `Disposable` is structurally a vscode.Disposable.
 */

export interface Disposable {
  dispose(): void;
}

export type Event<T> = (listener: (value: T) => void) => Disposable;

export class Emitter<T> implements Disposable {
  private listeners = new Set<(value: T) => void>();

  readonly event: Event<T> = (listener) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  /** Calls every listener; one that throws does not stop the others. */
  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch {
        // A listener's own failure is its business; keep notifying the rest.
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}

/** A Disposable that disposes all of `items`, once. */
export function combineDisposables(...items: Disposable[]): Disposable {
  let done = false;
  return {
    dispose: () => {
      if (done) {
        return;
      }
      done = true;
      for (const item of items) {
        item.dispose();
      }
    },
  };
}
