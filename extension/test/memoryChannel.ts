/** An in-memory FrameChannel: what modelCalls sends, and a way to feed it frames. */
import { Emitter } from '../src/events';
import type { FrameChannel } from '../src/pipeClient';
import type { InboundFrame, OutboundFrame } from '../src/protocol';

export class MemoryChannel implements FrameChannel {
  readonly serial = 1;
  readonly sent: OutboundFrame[] = [];
  private closedValue = false;
  private readonly frameEmitter = new Emitter<InboundFrame>();
  private readonly closeEmitter = new Emitter<void>();
  private readonly waiters = new Set<() => void>();
  readonly onFrame = this.frameEmitter.event;
  readonly onClose = this.closeEmitter.event;

  get closed(): boolean {
    return this.closedValue;
  }

  send(frame: OutboundFrame): boolean {
    if (this.closedValue) {
      return false;
    }
    this.sent.push(frame);
    for (const waiter of [...this.waiters]) {
      waiter();
    }
    return true;
  }

  whenWritable(): Promise<void> {
    return Promise.resolve();
  }

  deliver(frame: InboundFrame): void {
    this.frameEmitter.fire(frame);
  }

  close(): void {
    this.closedValue = true;
    this.closeEmitter.fire();
  }

  /** The first sent frame matching `predicate`, waiting for it if need be. */
  waitFor(predicate: (frame: OutboundFrame) => boolean, timeoutMs = 2_000): Promise<OutboundFrame> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.sent.find(predicate);
        if (found) {
          this.waiters.delete(waiter);
          clearTimeout(timer);
          resolve(found);
          return true;
        }
        return false;
      };
      const waiter = (): void => {
        check();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching frame within ${timeoutMs} ms; sent: ${JSON.stringify(this.sent)}`));
      }, timeoutMs);
      if (!check()) {
        this.waiters.add(waiter);
      }
    });
  }
}
