/** A scripted peer on the responder's side of the pipe, on a real Unix socket. */
import * as net from 'node:net';

import { FrameDecoder } from '../src/frameCodec';
import type { InboundFrame } from '../src/protocol';

/** A peer of the responder's side: records frames, answers hello with welcome. */
export class FakeResponder {
  readonly received: InboundFrame[] = [];
  readonly peers: net.Socket[] = [];
  private server: net.Server | undefined;
  private waiters: (() => void)[] = [];

  constructor(
    readonly path: string,
    private readonly welcome: object | null = { type: 'welcome', protocol: 1, server: 'fake/0' },
  ) {}

  async listen(): Promise<void> {
    this.server = net.createServer((socket) => {
      this.peers.push(socket);
      const decoder = new FrameDecoder();
      socket.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk).frames) {
          this.received.push(frame);
          if (frame.type === 'hello' && this.welcome) {
            socket.write(`${JSON.stringify(this.welcome)}\n`);
          }
          for (const waiter of this.waiters.splice(0)) {
            waiter();
          }
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.path, resolve));
  }

  async close(): Promise<void> {
    for (const peer of this.peers) {
      peer.destroy();
    }
    this.peers.length = 0;
    await new Promise<void>((resolve) => {
      if (this.server) {
        this.server.close(() => {
          resolve();
        });
      } else {
        resolve();
      }
    });
  }

  write(text: string): void {
    for (const peer of this.peers) {
      peer.write(text);
    }
  }

  async waitFor(predicate: (frame: InboundFrame) => boolean, count = 1): Promise<InboundFrame[]> {
    const deadline = Date.now() + 3_000;
    for (;;) {
      const found = this.received.filter(predicate);
      if (found.length >= count) {
        return found;
      }
      if (Date.now() > deadline) {
        throw new Error(`responder did not receive it; got ${JSON.stringify(this.received)}`);
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}

