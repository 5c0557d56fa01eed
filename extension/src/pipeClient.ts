/**
 * pipeClient: this window's connection to the responder's named pipe (a Unix
 * domain socket speaking NDJSON, DESIGN.md "The pipe protocol").
 *
 * Owns: the socket, the hello/welcome handshake, ping/pong liveness, and
 * reconnecting with backoff after the first connection succeeded (a
 * responder restart). Every (re)connection is handed out as a FrameChannel
 * through onDidConnect; the frames it does not handle itself (request,
 * cancel, unknown types) go to that channel's listeners, and replies must be
 * sent on the same channel, so a reply can never reach a later connection
 * whose request ids mean something else.
 *
 * No `vscode` import: plain Node can drive it (integration tests).
 */
import * as net from 'node:net';

import type { Disposable, Event } from './events';
import { Emitter } from './events';
import { FrameDecoder, FrameError, encodeFrameLine } from './frameCodec';
import type { Logger } from './logger';
import { describeError } from './logger';
import type { Announcement, InboundFrame, OutboundFrame } from './protocol';
import { MAX_FRAME_BYTES, PROTOCOL_VERSION } from './protocol';

/** One live connection, as seen by the code that serves requests on it. */
export interface FrameChannel {
  /** Serial number of the connection within this client, for logs. */
  readonly serial: number;
  readonly closed: boolean;
  /** Request, cancel and unknown frames, in arrival order. */
  readonly onFrame: Event<InboundFrame>;
  /** Fires once when the connection is gone, for whatever reason. */
  readonly onClose: Event<void>;
  /**
   * Queues one frame. Returns false (and sends nothing) when the connection
   * is closed. Throws FrameError when the frame is over the size limit.
   */
  send(frame: OutboundFrame): boolean;
  /** Resolves once the socket's write buffer has drained, or it closed. */
  whenWritable(): Promise<void>;
}

export type PipeState = 'idle' | 'connecting' | 'connected' | 'reconnecting';

export interface PipeClientOptions {
  /** Path of the pipe (litellmctl status --json: "pipe"). */
  path: string;
  /** `name/version` of this extension. */
  client: string;
  /** The editor's version (vscode.version). */
  vscodeVersion: string;
  /** Models offered at the first hello. */
  announcement: Announcement;
  logger: Logger;
  /** How long connect() keeps trying for the first connection. Default 10 s. */
  connectTimeoutMs?: number;
  /** Longest wait for `welcome` after `hello`. Default 5 s. */
  handshakeTimeoutMs?: number;
  /** First and longest delay between reconnection attempts. Defaults 250 ms, 5 s. */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  /** Ping period; the responder pings every 15 s too. Default 15 s. */
  pingIntervalMs?: number;
  /** A connection silent this long is dropped. Default 45 s. */
  idleTimeoutMs?: number;
  maxFrameBytes?: number;
}

/** Errors worth retrying while the responder is (re)starting. */
const TRANSIENT_CONNECT_ERRORS = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN', 'ECONNRESET', 'EPIPE']);

export class PipeClient implements Disposable {
  private readonly options: Required<PipeClientOptions>;
  private announcement: Announcement;
  private current: PipeConnection | undefined;
  private stateValue: PipeState = 'idle';
  private wanted = false;
  private serial = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay: number;
  private readonly stateEmitter = new Emitter<PipeState>();
  private readonly connectEmitter = new Emitter<FrameChannel>();

  /** Fires on every state change. */
  readonly onDidChangeState: Event<PipeState> = this.stateEmitter.event;
  /** Fires for each established connection (after welcome). */
  readonly onDidConnect: Event<FrameChannel> = this.connectEmitter.event;

  constructor(options: PipeClientOptions) {
    this.options = {
      connectTimeoutMs: 10_000,
      handshakeTimeoutMs: 5_000,
      reconnectInitialMs: 250,
      reconnectMaxMs: 5_000,
      pingIntervalMs: 15_000,
      idleTimeoutMs: 45_000,
      maxFrameBytes: MAX_FRAME_BYTES,
      ...options,
    };
    this.announcement = options.announcement;
    this.reconnectDelay = this.options.reconnectInitialMs;
  }

  get state(): PipeState {
    return this.stateValue;
  }

  get path(): string {
    return this.options.path;
  }

  /**
   * Makes the first connection, retrying briefly while the pipe does not
   * exist yet. Resolves after `welcome`; from then on, a dropped connection
   * is re-established with backoff until close(). Rejects if no connection
   * could be made, leaving the client idle.
   */
  async connect(): Promise<void> {
    if (this.wanted) {
      return;
    }
    this.wanted = true;
    this.setState('connecting');
    const deadline = Date.now() + this.options.connectTimeoutMs;
    let delay = 100;
    for (;;) {
      try {
        await this.open();
        return;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        const transient = typeof code === 'string' && TRANSIENT_CONNECT_ERRORS.has(code);
        if (!this.isWanted() || !transient || Date.now() + delay > deadline) {
          this.wanted = false;
          this.setState('idle');
          const reason = err instanceof Error ? err.message : String(err);
          throw new Error(`cannot connect to the responder's pipe ${this.options.path}: ${reason}`, { cause: err });
        }
        this.options.logger.debug(`pipe: ${this.options.path} not ready (${code}), retrying in ${delay} ms`);
        await sleep(delay);
        delay = Math.min(delay * 2, 1_000);
      }
    }
  }

  /** Replaces the offered models; sent at once when connected, and in every later hello. */
  announce(announcement: Announcement): void {
    this.announcement = announcement;
    const connection = this.current;
    if (connection && !connection.closed) {
      connection.send({ type: 'models', ...announcement });
    }
  }

  /** Closes the connection and stops reconnecting. */
  close(): void {
    this.wanted = false;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
    }
    const connection = this.current;
    this.current = undefined;
    connection?.destroy('closed by this window');
    this.setState('idle');
  }

  dispose(): void {
    this.close();
    this.stateEmitter.dispose();
    this.connectEmitter.dispose();
  }

  /** Opens one connection and completes the handshake. */
  private async open(): Promise<void> {
    const socket = await connectSocket(this.options.path);
    if (!this.isWanted()) {
      socket.destroy();
      throw new Error('closed while connecting');
    }
    const connection = new PipeConnection(++this.serial, socket, this.options);
    try {
      connection.send({
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        client: this.options.client,
        vscode: this.options.vscodeVersion,
        ...this.announcement,
      });
      const welcome = await connection.welcomed;
      this.options.logger.info(
        `pipe: connected to ${welcome.server ?? 'responder'} at ${this.options.path} (connection #${connection.serial})`,
      );
    } catch (err) {
      connection.destroy('handshake failed');
      throw err;
    }
    if (!this.isWanted() || connection.closed) {
      connection.destroy('closed while connecting');
      throw new Error(`connection closed during the handshake (${connection.closeReason})`);
    }
    this.current = connection;
    this.reconnectDelay = this.options.reconnectInitialMs;
    connection.onClose(() => {
      this.onConnectionClosed(connection);
    });
    this.setState('connected');
    // Listeners attach to the channel synchronously in onDidConnect; frames
    // that arrived with the welcome were held back until now.
    this.connectEmitter.fire(connection);
    connection.release();
  }

  private onConnectionClosed(connection: PipeConnection): void {
    if (this.current !== connection) {
      return;
    }
    this.current = undefined;
    if (!this.wanted) {
      this.setState('idle');
      return;
    }
    this.options.logger.warn(`pipe: connection #${connection.serial} lost (${connection.closeReason}); reconnecting`);
    this.setState('reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = withJitter(this.reconnectDelay);
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, this.options.reconnectMaxMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.wanted) {
        return;
      }
      this.open().catch((err: unknown) => {
        if (!this.wanted) {
          return;
        }
        this.options.logger.debug(`pipe: reconnect failed: ${describeError(err)}`);
        this.scheduleReconnect();
      });
    }, delay);
  }

  /** Read through a method: close() may change it while open() awaits. */
  private isWanted(): boolean {
    return this.wanted;
  }

  private setState(state: PipeState): void {
    if (this.stateValue !== state) {
      this.stateValue = state;
      this.stateEmitter.fire(state);
    }
  }
}

interface Welcome {
  server?: string;
}

/** One socket: codec, handshake, liveness. */
class PipeConnection implements FrameChannel {
  readonly welcomed: Promise<Welcome>;
  closeReason = '';
  private closedValue = false;
  private handshakeDone = false;
  /** Frames received after welcome but before release(). */
  private held: InboundFrame[] | undefined = [];
  private lastReceived = Date.now();
  /** Set while frames are being gathered for one write (see send). */
  private corked = false;
  private readonly decoder: FrameDecoder;
  private readonly frameEmitter = new Emitter<InboundFrame>();
  private readonly closeEmitter = new Emitter<void>();
  private readonly pingTimer: NodeJS.Timeout;
  private resolveWelcome!: (welcome: Welcome) => void;
  private rejectWelcome!: (err: Error) => void;
  private readonly handshakeTimer: NodeJS.Timeout;

  readonly onFrame: Event<InboundFrame> = this.frameEmitter.event;
  readonly onClose: Event<void> = this.closeEmitter.event;

  constructor(
    readonly serial: number,
    private readonly socket: net.Socket,
    private readonly options: Required<PipeClientOptions>,
  ) {
    this.decoder = new FrameDecoder(options.maxFrameBytes);
    this.welcomed = new Promise<Welcome>((resolve, reject) => {
      this.resolveWelcome = resolve;
      this.rejectWelcome = reject;
    });
    // Handled by whoever awaits it; this keeps a failure before then from
    // being reported as unhandled.
    this.welcomed.catch(() => undefined);
    this.handshakeTimer = setTimeout(() => {
      this.destroy(`no welcome within ${options.handshakeTimeoutMs} ms`);
    }, options.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    this.pingTimer = setInterval(() => {
      this.checkLiveness();
    }, Math.min(options.pingIntervalMs, options.idleTimeoutMs / 3));
    this.pingTimer.unref();

    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.onData(chunk);
    });
    socket.on('error', (err) => {
      this.destroy(`socket error: ${err.message}`);
    });
    socket.on('close', () => {
      this.destroy('closed by the responder');
    });
  }

  get closed(): boolean {
    return this.closedValue;
  }

  send(frame: OutboundFrame): boolean {
    if (this.closedValue) {
      return false;
    }
    const line = encodeFrameLine(frame, this.options.maxFrameBytes);
    if (!this.corked) {
      // A write is a system call, and it was this process's largest cost per
      // request (tests/bench/README.md): the frames sent in one turn of the
      // event loop (a reply's delta and done, the replies to the frames of
      // one read) leave in one writev once the turn's promise jobs are done.
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(line);
    return true;
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  whenWritable(): Promise<void> {
    if (this.closedValue || !this.socket.writableNeedDrain) {
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        closeListener.dispose();
        resolve();
      };
      const closeListener = this.onClose(done);
      this.socket.on('drain', done);
    });
  }

  /** Delivers held frames; from now on frames go straight to onFrame. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const frame of held) {
      if (this.closedValue) {
        return;
      }
      this.frameEmitter.fire(frame);
    }
  }

  /**
   * Ends the connection (idempotent); listeners of onClose run once.
   * `flush` lets frames already written reach the peer before the close.
   */
  destroy(reason: string, flush = false): void {
    if (this.closedValue) {
      return;
    }
    this.closedValue = true;
    this.closeReason = reason;
    this.held = undefined;
    clearTimeout(this.handshakeTimer);
    clearInterval(this.pingTimer);
    // Frames sent earlier in this turn are still gathered (send): they are
    // written first, as they would have been had each gone out at once.
    if (this.corked) {
      this.uncork();
    }
    if (flush) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1_000).unref();
    } else {
      this.socket.destroy();
    }
    if (!this.handshakeDone) {
      this.rejectWelcome(new Error(`pipe handshake failed: ${reason}`));
    }
    this.closeEmitter.fire();
    this.frameEmitter.dispose();
    this.closeEmitter.dispose();
  }

  private onData(chunk: Buffer): void {
    this.lastReceived = Date.now();
    const { frames, error } = this.decoder.push(chunk);
    for (const frame of frames) {
      if (this.closedValue) {
        return;
      }
      this.dispatch(frame);
    }
    if (error && !this.closedValue) {
      this.protocolError(error);
    }
  }

  private dispatch(frame: InboundFrame): void {
    switch (frame.type) {
      case 'welcome':
        this.onWelcome(frame);
        return;
      case 'ping':
        this.send({ type: 'pong' });
        return;
      case 'pong':
        return;
      case 'error':
        if (typeof frame.id !== 'string') {
          this.options.logger.error(
            `pipe: the responder reported ${String(frame.code)}: ${String(frame.message)}`,
          );
          return;
        }
        break;
      default:
        break;
    }
    if (!this.handshakeDone) {
      this.options.logger.warn(`pipe: ignoring a ${frame.type} frame received before welcome`);
      return;
    }
    if (this.held) {
      this.held.push(frame);
      return;
    }
    this.frameEmitter.fire(frame);
  }

  private onWelcome(frame: InboundFrame): void {
    if (this.handshakeDone) {
      return;
    }
    if (frame.protocol !== PROTOCOL_VERSION) {
      const message = `the responder speaks pipe protocol ${String(frame.protocol)}, this extension ${PROTOCOL_VERSION}`;
      this.rejectWelcome(new Error(message));
      this.destroy(message);
      return;
    }
    this.handshakeDone = true;
    clearTimeout(this.handshakeTimer);
    this.resolveWelcome(typeof frame.server === 'string' ? { server: frame.server } : {});
  }

  private protocolError(error: FrameError): void {
    this.options.logger.error(`pipe: bad frame from the responder: ${error.message}`);
    this.send({ type: 'error', code: 'protocol', message: error.message });
    this.destroy(`protocol error: ${error.message}`, true);
  }

  private checkLiveness(): void {
    const silentFor = Date.now() - this.lastReceived;
    if (silentFor > this.options.idleTimeoutMs) {
      this.destroy(`the responder was silent for ${Math.round(silentFor / 1000)} s`);
      return;
    }
    this.send({ type: 'ping' });
  }
}

function connectSocket(path: string): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.createConnection({ path });
    const onError = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** ±20 % so that several windows do not reconnect in lock step. */
function withJitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

export { FrameError };
