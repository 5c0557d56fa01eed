/**
 * proxyController: Start and Stop, and the state the status bar shows.
 *
 * Start: consent for the default model (a user action, so VS Code's dialog
 * may appear now rather than during an HTTP request) -> `litellmctl start`
 * (idempotent: a second window joins the running server) -> pipe path from
 * `litellmctl status --json` -> connect, hello with every model -> running.
 * A failure leaves nothing half-started: if this window's `litellmctl start`
 * started the server (it was not running before) and a later step failed,
 * `litellmctl stop` undoes it; a failed `litellmctl start` undoes itself.
 * Stop: `litellmctl stop` (the site is disabled, nginx reloads, streams in
 * flight finish), wait for this window's requests to end, disconnect.
 * While started, the state follows reality without running litellmctl: the
 * responder sends its status document over the pipe on every change
 * (serverStatus.ts; a lost pipe means the responder is gone), and a TCP
 * probe of the listen address every few seconds notices nginx no longer
 * serving (Stop in another window, nginx gone).
 */
import * as vscode from 'vscode';

import type { Disposable } from './events';
import { describeError } from './logger';
import type { ModelCalls } from './modelCalls';
import { requestModelAccess } from './modelAccess';
import type { ModelPicker } from './modelPicker';
import { PipeClient } from './pipeClient';
import { probeListen } from './listenProbe';
import type { ServerControl } from './serverControl';
import type { ServerHealth } from './serverStatus';
import { ServerStatusFeed } from './serverStatus';
import { showErrorWithLogs } from './logs';

export type ProxyState =
  | { kind: 'stopped' }
  | { kind: 'starting' }
  | { kind: 'stopping' }
  | { kind: 'running'; listen: string }
  | { kind: 'error'; message: string };

export interface ProxyControllerOptions {
  control: ServerControl;
  picker: ModelPicker;
  calls: ModelCalls<vscode.LanguageModelChat>;
  access: vscode.LanguageModelAccessInformation;
  log: vscode.LogOutputChannel;
  /** `name/version` sent in hello. */
  client: string;
}

/** How often the listen address is probed while started (a TCP connect, nothing more). */
const PROBE_INTERVAL_MS = 3_000;
/** How long Stop waits for this window's requests to finish. */
const DRAIN_TIMEOUT_MS = 30_000;

/** A failure whose message is already meant for the user. */
class StartError extends Error {}

export class ProxyController implements vscode.Disposable {
  private stateValue: ProxyState = { kind: 'stopped' };
  private readonly stateEmitter = new vscode.EventEmitter<ProxyState>();
  private readonly serverStatusEmitter = new vscode.EventEmitter<void>();
  /** Set while this window means to serve (between Start and Stop). */
  private session: Session | undefined;

  readonly onDidChangeState: vscode.Event<ProxyState> = this.stateEmitter.event;
  /** Fires when serverStatus may have changed (a status frame, the pipe, the probe). */
  readonly onDidChangeServerStatus: vscode.Event<void> = this.serverStatusEmitter.event;

  constructor(private readonly options: ProxyControllerOptions) {}

  get state(): ProxyState {
    return this.stateValue;
  }

  /**
   * The server's status document as the responder last sent it over the pipe
   * (between Start and Stop; undefined while the pipe is down).
   */
  get serverStatus(): ServerHealth | undefined {
    return this.session?.health;
  }

  /**
   * `interactive` is false for autoStart: no consent dialog without a user
   * action; the user is asked to run Start instead.
   */
  async start(interactive: boolean): Promise<void> {
    const { log, picker, control, access } = this.options;
    const kind = this.stateValue.kind;
    if (kind === 'starting' || kind === 'stopping') {
      void vscode.window.showInformationMessage(`VSCode LiteLLM is ${kind === 'starting' ? 'starting' : 'stopping'}; try again in a moment.`);
      return;
    }
    if (kind === 'running') {
      void vscode.window.showInformationMessage(`VSCode LiteLLM is already serving on ${this.stateValue.listen}.`);
      return;
    }
    this.endSession();
    this.setState({ kind: 'starting' });
    log.info('start: begin');
    let startedByUs = false;
    let session: Session | undefined;
    try {
      await picker.refresh();
      const model = picker.catalog.defaultModel;
      if (!model) {
        throw new StartError(
          'VS Code offers no language models. Install and sign in to a model provider (for example GitHub Copilot Chat), then Start again.',
        );
      }
      if (access.canSendRequest(model) !== true) {
        if (!interactive) {
          this.setState({ kind: 'stopped' });
          await this.askForStart(model.name);
          return;
        }
        const result = await requestModelAccess(access, model, log);
        if (!result.granted) {
          throw new StartError(
            `VSCode LiteLLM may not use ${model.name}: ${result.reason}. Start again and allow access, or pick another model with "Select Language Model".`,
          );
        }
      }

      const before = await control.status().catch((err: unknown) => {
        log.debug(`start: status before start failed: ${describeError(err)}`);
        return undefined;
      });
      const wasRunning = before?.running === true;
      if (wasRunning) {
        log.info(`start: joining the server already running on ${before.listen}`);
      }
      await control.start();
      // Only now: a `litellmctl start` that fails undoes what it started itself,
      // and a server this window did not start is not this window's to stop.
      startedByUs = !wasRunning;
      const status = await control.status();
      if (status.pipe === '') {
        throw new StartError('litellmctl status --json did not name the pipe; is litellmctl up to date?');
      }
      session = new Session(this.options, status.pipe, status.listen, () => {
        this.refreshState();
      });
      await session.pipe.connect();
      this.session = session;
      this.setState({ kind: 'running', listen: status.listen });
      session.startProbing(PROBE_INTERVAL_MS);
      log.info(`start: serving on ${status.listen} through ${status.pipe}`);
    } catch (err) {
      session?.dispose();
      if (startedByUs) {
        await control.stop().catch((stopErr: unknown) => {
          log.warn(`start: cleanup with litellmctl stop failed: ${describeError(stopErr)}`);
        });
      }
      const message = err instanceof Error ? err.message : String(err);
      log.error(`start failed: ${describeError(err)}`);
      this.setState({ kind: 'error', message: `Start failed: ${message}` });
      void showErrorWithLogs(log, `VSCode LiteLLM: Start failed: ${message}`);
    }
  }

  /** Stops the server (for every window: the site is disabled). */
  async stop(): Promise<void> {
    const { log, control, calls } = this.options;
    const kind = this.stateValue.kind;
    if (kind === 'starting' || kind === 'stopping') {
      void vscode.window.showInformationMessage(`VSCode LiteLLM is ${kind === 'starting' ? 'starting' : 'stopping'}; try again in a moment.`);
      return;
    }
    this.setState({ kind: 'stopping' });
    this.session?.stopProbing();
    log.info('stop: begin');
    let failure: string | undefined;
    try {
      await control.stop();
    } catch (err) {
      failure = err instanceof Error ? err.message : String(err);
      log.error(`stop failed: ${describeError(err)}`);
    }
    if (calls.activeCount > 0) {
      log.info(`stop: waiting for ${calls.activeCount} request(s) in flight`);
      if (!(await calls.whenIdle(DRAIN_TIMEOUT_MS))) {
        log.warn(`stop: requests still running after ${DRAIN_TIMEOUT_MS / 1000} s are cut off`);
      }
    }
    this.endSession();
    if (failure !== undefined) {
      this.setState({ kind: 'error', message: `Stop failed: ${failure}` });
      void showErrorWithLogs(log, `VSCode LiteLLM: Stop failed: ${failure}`);
      return;
    }
    this.setState({ kind: 'stopped' });
    log.info('stop: done');
  }

  /** Sends the current models to the responder (after a change). */
  announce(): void {
    this.session?.pipe.announce(this.options.picker.catalog.announcement());
  }

  /** Disconnects this window; the server keeps running for other windows. */
  dispose(): void {
    this.endSession();
    this.stateEmitter.dispose();
    this.serverStatusEmitter.dispose();
  }

  private async askForStart(modelName: string): Promise<void> {
    this.options.log.info(`autoStart: access to ${modelName} is not granted yet; waiting for the user to run Start`);
    const start = 'Start';
    const choice = await vscode.window.showInformationMessage(
      `VSCode LiteLLM needs your permission to use ${modelName} before it can start. Start now?`,
      start,
    );
    if (choice === start) {
      await this.start(true);
    }
  }

  private endSession(): void {
    this.session?.dispose();
    this.session = undefined;
  }

  /** Recomputes running/error from the probe, the pipe and its status frames. */
  private refreshState(): void {
    const session = this.session;
    const kind = this.stateValue.kind;
    if (!session || kind === 'starting' || kind === 'stopping') {
      return;
    }
    this.serverStatusEmitter.fire();
    const next = session.describe();
    if (JSON.stringify(next) !== JSON.stringify(this.stateValue)) {
      if (next.kind === 'error') {
        this.options.log.warn(next.message);
      } else {
        this.options.log.info(`serving again on ${next.kind === 'running' ? next.listen : '?'}`);
      }
      this.setState(next);
    }
  }

  private setState(state: ProxyState): void {
    this.stateValue = state;
    this.stateEmitter.fire(state);
  }
}

/** One Start..Stop: the pipe client, its wiring, its status frames, the listen probe. */
class Session implements vscode.Disposable {
  readonly pipe: PipeClient;
  private readonly feed: ServerStatusFeed;
  private readonly subscriptions: Disposable[] = [];
  private readonly served = new Set<Disposable>();
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  /** The last probe's answer; Start has just seen nginx serve. */
  private serving = true;

  constructor(
    options: ProxyControllerOptions,
    pipePath: string,
    private readonly listen: string,
    private readonly onChange: () => void,
  ) {
    this.pipe = new PipeClient({
      path: pipePath,
      client: options.client,
      vscodeVersion: vscode.version,
      announcement: options.picker.catalog.announcement(),
      logger: options.log,
    });
    // Before connect(): the first status frame follows welcome at once.
    this.feed = new ServerStatusFeed(this.pipe);
    this.subscriptions.push(
      this.feed,
      this.pipe.onDidConnect((channel) => {
        const serving = options.calls.serve(channel);
        this.served.add(serving);
        channel.onClose(() => {
          serving.dispose();
          this.served.delete(serving);
        });
      }),
      this.pipe.onDidChangeState(() => {
        this.onChange();
      }),
      this.feed.onDidChange(() => {
        this.onChange();
      }),
    );
  }

  get health(): ServerHealth | undefined {
    return this.feed.health;
  }

  describe(): ProxyState {
    if (!this.serving) {
      return {
        kind: 'error',
        message: `The server is not running: nothing accepts connections on ${this.listen} (nginx stopped, or Stop was run in another window). Start again to serve.`,
      };
    }
    if (this.pipe.state !== 'connected') {
      return { kind: 'error', message: 'Lost the connection to the responder; reconnecting.' };
    }
    return { kind: 'running', listen: this.listen };
  }

  startProbing(intervalMs: number): void {
    this.stopProbing();
    this.probeTimer = setInterval(() => {
      void this.probe();
    }, intervalMs);
  }

  stopProbing(): void {
    if (this.probeTimer) {
      clearInterval(this.probeTimer);
      this.probeTimer = undefined;
    }
  }

  dispose(): void {
    this.stopProbing();
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
    for (const serving of this.served) {
      serving.dispose();
    }
    this.served.clear();
    this.pipe.dispose();
  }

  private async probe(): Promise<void> {
    if (this.probing) {
      return;
    }
    this.probing = true;
    let serving: boolean;
    try {
      serving = await probeListen(this.listen);
    } finally {
      this.probing = false;
    }
    if (this.probeTimer && serving !== this.serving) {
      this.serving = serving;
      this.onChange();
    }
  }
}
