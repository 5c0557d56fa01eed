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
 * While started, `status --json` is polled so the state follows reality
 * (nginx or the responder dying, Stop in another window).
 */
import * as vscode from 'vscode';

import type { Disposable } from './events';
import { describeError } from './logger';
import type { ModelCalls } from './modelCalls';
import { requestModelAccess } from './modelAccess';
import type { ModelPicker } from './modelPicker';
import { PipeClient } from './pipeClient';
import type { ServerControl, ServerStatus } from './serverControl';
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

/** How often `status --json` runs while started. */
const POLL_INTERVAL_MS = 3_000;
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
  /** Fires after each status poll (serverStatus may have new limits). */
  readonly onDidPollServerStatus: vscode.Event<void> = this.serverStatusEmitter.event;

  constructor(private readonly options: ProxyControllerOptions) {}

  get state(): ProxyState {
    return this.stateValue;
  }

  /** The last `litellmctl status --json` of this window's session (between Start and Stop). */
  get serverStatus(): ServerStatus | undefined {
    return this.session?.status;
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
      session = new Session(this.options, status, () => {
        this.refreshState();
      });
      await session.pipe.connect();
      this.session = session;
      this.setState({ kind: 'running', listen: status.listen });
      session.startPolling(POLL_INTERVAL_MS);
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
    this.session?.stopPolling();
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

  /** Recomputes running/error from the last poll and the pipe state. */
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

/** One Start..Stop: the pipe client, its wiring, the status poll. */
class Session implements vscode.Disposable {
  readonly pipe: PipeClient;
  private readonly subscriptions: Disposable[] = [];
  private readonly served = new Set<Disposable>();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private lastStatus: ServerStatus;
  private lastPollError: string | undefined;

  constructor(
    private readonly options: ProxyControllerOptions,
    status: ServerStatus,
    private readonly onChange: () => void,
  ) {
    this.lastStatus = status;
    this.pipe = new PipeClient({
      path: status.pipe,
      client: options.client,
      vscodeVersion: vscode.version,
      announcement: options.picker.catalog.announcement(),
      logger: options.log,
    });
    this.subscriptions.push(
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
    );
  }

  get status(): ServerStatus {
    return this.lastStatus;
  }

  describe(): ProxyState {
    if (this.lastPollError !== undefined) {
      return { kind: 'error', message: `Cannot read the server's status: ${this.lastPollError}` };
    }
    if (!this.lastStatus.running) {
      return {
        kind: 'error',
        message:
          'The server is not running: nginx or the responder stopped, or Stop was run in another window. Start again to serve.',
      };
    }
    if (this.pipe.state !== 'connected') {
      return { kind: 'error', message: 'Lost the connection to the responder; reconnecting.' };
    }
    return { kind: 'running', listen: this.lastStatus.listen };
  }

  startPolling(intervalMs: number): void {
    this.stopPolling();
    this.pollTimer = setInterval(() => {
      void this.poll();
    }, intervalMs);
  }

  stopPolling(): void {
    if (this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  dispose(): void {
    this.stopPolling();
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
    for (const serving of this.served) {
      serving.dispose();
    }
    this.served.clear();
    this.pipe.dispose();
  }

  private async poll(): Promise<void> {
    if (this.polling) {
      return;
    }
    this.polling = true;
    try {
      this.lastStatus = await this.options.control.status();
      this.lastPollError = undefined;
    } catch (err) {
      this.lastPollError = err instanceof Error ? err.message : String(err);
    } finally {
      this.polling = false;
    }
    if (this.pollTimer) {
      this.onChange();
    }
  }
}
