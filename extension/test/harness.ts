/**
 * harness: the extension's real pipe client and model-call code, usable from
 * plain Node (the integration tests in ../../tests drive it against the real
 * responder behind real nginx). The only double is the model: ScriptedModel
 * and the `vscode` stand-in classes it yields.
 *
 * Built by `npm run build:harness` into out/harness.mjs (ES module):
 *
 *   import { serveModels, ScriptedModel, LanguageModelTextPart } from '../../extension/out/harness.mjs';
 *   const model = new ScriptedModel({ vendor: 'test', family: 'echo' }, async function* (messages, options, token) {
 *     yield new LanguageModelTextPart('hello');
 *   });
 *   const core = await serveModels({ pipePath, models: [model] });
 *   ... // requests through nginx are now answered by `model`
 *   core.dispose();
 *
 * This is the same wiring as src/proxyController.ts (pipe.onDidConnect ->
 * calls.serve), minus VS Code's UI and litellmctl. ServerControl (litellmctl
 * start/stop/status --json) and the status bar's texts (statusView) are
 * exported too, to run against the real litellmctl; `status` follows the
 * responder's status frames as the extension's Session does.
 */
import type { Disposable } from '../src/events';
import type { Logger } from '../src/logger';
import { silentLogger } from '../src/logger';
import type { CallableModel } from '../src/modelCalls';
import { ModelCalls } from '../src/modelCalls';
import type { ChatModelInfo, DefaultPreference } from '../src/modelCatalog';
import { ModelCatalog } from '../src/modelCatalog';
import type { FrameChannel, PipeClientOptions } from '../src/pipeClient';
import { PipeClient } from '../src/pipeClient';
import { ServerStatusFeed } from '../src/serverStatus';
import { lmApi } from './vscodeStandIn';

export { FrameDecoder, FrameError, encodeFrame } from '../src/frameCodec';
export { describeError, formatRequestLine, silentLogger } from '../src/logger';
export { decodeImageDataUrl, errorToFrame, partToFrame, toChatMessages, toRequestOptions } from '../src/mapping';
export { ModelCalls } from '../src/modelCalls';
export { ModelCatalog, assignModelIds, capabilitiesOf } from '../src/modelCatalog';
export { PipeClient } from '../src/pipeClient';
export { MAX_FRAME_BYTES, PROTOCOL_VERSION } from '../src/protocol';
export { ServerControl, parseStatus } from '../src/serverControl';
export { ServerStatusFeed, healthOfFrame, parseHealth } from '../src/serverStatus';
export { probeListen } from '../src/listenProbe';
export { serverLines, statusView } from '../src/statusText';
export { ScriptedModel, waitOrCancel } from './scriptedModel';
export * from './vscodeStandIn';

type Model = ChatModelInfo & CallableModel;

export interface ServeModelsOptions {
  /** The responder's pipe (litellm-fcgi --pipe, or litellmctl status --json "pipe"). */
  pipePath: string;
  models: readonly Model[];
  /** Default model choice, as Select Language Model / the defaultModel setting would give. */
  preference?: DefaultPreference;
  logger?: Logger;
  /** Stands in for languageModelAccessInformation.canSendRequest. */
  canSendRequest?: (model: Model) => boolean | undefined;
  /** Pipe client tuning (timeouts, backoff). */
  pipe?: Partial<Omit<PipeClientOptions, 'path' | 'announcement' | 'logger'>>;
  /**
   * Called with every connection (the first and each reconnection) BEFORE
   * ModelCalls serves it: a listener it adds to channel.onFrame sees each
   * frame before ModelCalls does (tests/worker/test-worker.mjs records them).
   */
  onConnect?: (channel: FrameChannel) => void;
}

export interface ServedModels extends Disposable {
  pipe: PipeClient;
  calls: ModelCalls<Model>;
  catalog: ModelCatalog<Model>;
  /** The responder's status frames, as the extension's Session follows them. */
  status: ServerStatusFeed;
  /** Replaces the models and sends a `models` frame. */
  setModels(models: readonly Model[], preference?: DefaultPreference): void;
}

/** Connects to the pipe (hello/welcome) and serves requests until disposed. */
export async function serveModels(options: ServeModelsOptions): Promise<ServedModels> {
  const logger = options.logger ?? silentLogger;
  const catalog = new ModelCatalog<Model>();
  catalog.update(options.models, options.preference);
  const calls = new ModelCalls<Model>({
    api: lmApi,
    resolveModel: (id) => catalog.resolve(id),
    logger,
    ...(options.canSendRequest ? { canSendRequest: options.canSendRequest } : {}),
  });
  const pipe = new PipeClient({
    client: 'vscode-litellm/harness',
    vscodeVersion: '0.0.0-harness',
    ...options.pipe,
    path: options.pipePath,
    announcement: catalog.announcement(),
    logger,
  });
  // Before connect(), as in proxyController.ts: the first status frame follows welcome.
  const status = new ServerStatusFeed(pipe);
  const served = new Set<Disposable>();
  const subscription = pipe.onDidConnect((channel) => {
    options.onConnect?.(channel);
    const serving = calls.serve(channel);
    served.add(serving);
    channel.onClose(() => {
      serving.dispose();
      served.delete(serving);
    });
  });
  try {
    await pipe.connect();
  } catch (err) {
    subscription.dispose();
    status.dispose();
    pipe.dispose();
    calls.dispose();
    throw err;
  }
  return {
    pipe,
    calls,
    catalog,
    status,
    setModels(models, preference) {
      catalog.update(models, preference);
      pipe.announce(catalog.announcement());
    },
    dispose() {
      subscription.dispose();
      status.dispose();
      for (const serving of served) {
        serving.dispose();
      }
      pipe.dispose();
      calls.dispose();
    },
  };
}

/**
 * A TEST-ONLY escape hatch: destroys the socket under `channel` as a failing
 * connection would (the peer sees it vanish; the PipeClient sees 'close' and
 * reconnects with backoff, its real path after a lost connection). The
 * extension never drops a healthy connection itself, so FrameChannel has no
 * such method; this reaches the PipeConnection's private socket.
 */
export function dropConnection(channel: FrameChannel): void {
  const socket = (channel as unknown as { socket?: { destroy(): void; uncork(): void; writableCorked: number } }).socket;
  if (!socket || typeof socket.destroy !== 'function') {
    throw new Error('dropConnection: this channel has no socket (is it a PipeClient connection?)');
  }
  // The frames the client gathered in this turn (PipeConnection.send) reach
  // the peer before the drop, as frames sent before a failure do.
  while (socket.writableCorked > 0) {
    socket.uncork();
  }
  socket.destroy();
}
