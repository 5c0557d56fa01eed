/**
 * modelCalls: serves `request` frames with vscode.lm, concurrently.
 *
 * For each request on a FrameChannel: resolve the model, map the OpenAI
 * messages and options (mapping.ts), call model.sendRequest with a
 * CancellationToken of our own, and send each part of response.stream as a
 * `delta` / `tool_call` frame the moment it arrives; then `done` with usage
 * counted by model.countTokens (the prompt once, at the start, the
 * completion once, at the end; never per chunk). A `cancel` frame, or the
 * connection going away, cancels the token and abandons the stream at once,
 * even if the model ignores the token.
 *
 * No `vscode` import at run time: classes come in through LmApi and models
 * through a resolver, so plain Node can drive this with scripted models.
 */
import { randomBytes } from 'node:crypto';

import type * as vscode from 'vscode';

import type { Disposable, Event } from './events';
import { Emitter, combineDisposables } from './events';
import type { Logger } from './logger';
import { describeError, formatRequestLine } from './logger';
import type { LmApi } from './mapping';
import { CodedError, GRANT_ACCESS_HINT, errorToFrame, partToFrame, toChatMessages, toRequestOptions } from './mapping';
import type { FrameChannel } from './pipeClient';
import type { InboundFrame, OpenAiMessage, ReplyFrame, RequestFrame, Usage } from './protocol';

/** The parts of vscode.LanguageModelChat a model call uses. */
export type CallableModel = Pick<vscode.LanguageModelChat, 'sendRequest' | 'countTokens'>;

export interface ModelCallsOptions<M extends CallableModel> {
  api: LmApi;
  /** The model behind an id the responder resolved (modelCatalog). */
  resolveModel: (id: string) => M | undefined;
  logger: Logger;
  /**
   * context.languageModelAccessInformation.canSendRequest. When given, a
   * model without granted access is refused with no_permissions instead of
   * being called: the call would open a consent dialog in the middle of an
   * HTTP request, where nobody may see it. Consent is asked for at Start and
   * at Select Language Model, which are user actions.
   */
  canSendRequest?: (model: M) => boolean | undefined;
}

/** A promise rejected with something that is not an Error (`value`). */
class NonErrorRejection extends Error {
  constructor(readonly value: unknown) {
    super(describeError(value));
    this.name = 'NonErrorRejection';
  }
}

class CancelledError extends Error {
  constructor() {
    super('request cancelled');
    this.name = 'CancelledError';
  }
}

interface Running {
  source: vscode.CancellationTokenSource;
  /** Why it was cancelled, for the log line. */
  reason?: string;
}

export class ModelCalls<M extends CallableModel> implements Disposable {
  private readonly running = new Map<FrameChannel, Map<string, Running>>();
  private active = 0;
  private readonly activeEmitter = new Emitter<number>();
  private readonly idleWaiters = new Set<() => void>();

  /** Fires with the number of requests in flight whenever it changes. */
  readonly onDidChangeActive: Event<number> = this.activeEmitter.event;

  constructor(private readonly options: ModelCallsOptions<M>) {}

  get activeCount(): number {
    return this.active;
  }

  /** Serves the request and cancel frames of one connection until it closes. */
  serve(channel: FrameChannel): Disposable {
    const requests = new Map<string, Running>();
    this.running.set(channel, requests);
    const frames = channel.onFrame((frame) => {
      this.onFrame(channel, requests, frame);
    });
    const closed = channel.onClose(() => {
      this.cancelAll(requests, 'connection lost');
      this.running.delete(channel);
    });
    return combineDisposables(frames, closed, {
      dispose: () => {
        this.cancelAll(requests, 'no longer serving');
        this.running.delete(channel);
      },
    });
  }

  /** Resolves true once no request is in flight, false after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.active === 0) {
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const waiter = (): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(waiter);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.idleWaiters.delete(waiter);
        resolve(false);
      }, timeoutMs);
      this.idleWaiters.add(waiter);
    });
  }

  dispose(): void {
    for (const requests of this.running.values()) {
      this.cancelAll(requests, 'shutting down');
    }
    this.running.clear();
    this.activeEmitter.dispose();
  }

  private onFrame(channel: FrameChannel, requests: Map<string, Running>, frame: InboundFrame): void {
    switch (frame.type) {
      case 'request':
        void this.handleRequest(channel, requests, frame);
        return;
      case 'cancel': {
        const request = typeof frame.id === 'string' ? requests.get(frame.id) : undefined;
        if (request) {
          request.reason ??= 'cancelled by the responder';
          request.source.cancel();
        }
        return;
      }
      default:
        // Unknown types are ignored (forward compatible).
        return;
    }
  }

  private async handleRequest(channel: FrameChannel, requests: Map<string, Running>, frame: InboundFrame): Promise<void> {
    const started = performance.now();
    const id = typeof frame.id === 'string' ? frame.id : '';
    const modelId = typeof frame.model === 'string' ? frame.model : '';
    const { logger } = this.options;
    if (id === '') {
      logger.error('modelCalls: request frame without an id ignored');
      return;
    }
    if (requests.has(id)) {
      logger.error(`modelCalls: duplicate request id ${id} ignored`);
      return;
    }
    const running: Running = { source: new this.options.api.CancellationTokenSource() };
    requests.set(id, running);
    this.changeActive(1);
    const token = running.source.token;
    let usage: Usage | undefined;
    let outcome: string;
    let detail: string | undefined;
    try {
      const result = await this.call(channel, id, validateRequest(frame), token);
      usage = result.usage;
      outcome = result.finishReason;
    } catch (err) {
      const reply = errorToFrame(id, err, token.isCancellationRequested);
      outcome = reply.code;
      if (reply.code === 'cancelled') {
        detail = running.reason;
      } else {
        detail = describeError(err);
        logger.error(`request ${id} failed: ${detail}`);
      }
      trySend(channel, reply, logger);
    } finally {
      requests.delete(id);
      running.source.dispose();
      this.changeActive(-1);
    }
    logger.info(
      formatRequestLine({
        id,
        model: modelId,
        ...(usage ? { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens } : {}),
        ms: performance.now() - started,
        outcome,
        ...(detail !== undefined ? { detail } : {}),
      }),
    );
  }

  private async call(
    channel: FrameChannel,
    id: string,
    request: RequestFrame,
    token: vscode.CancellationToken,
  ): Promise<{ finishReason: 'stop' | 'tool_calls'; usage: Usage }> {
    const { api, logger } = this.options;
    const model = this.options.resolveModel(request.model);
    if (!model) {
      throw new CodedError('not_found', `model ${JSON.stringify(request.model)} is not offered by this VS Code window`);
    }
    if (this.options.canSendRequest && this.options.canSendRequest(model) !== true) {
      throw new CodedError(
        'no_permissions',
        `VS Code has not granted this extension access to model ${JSON.stringify(request.model)}. ${GRANT_ACCESS_HINT}`,
      );
    }
    const { messages, notes, images } = toChatMessages(api, request.messages);
    for (const note of notes) {
      logger.debug(`request ${id}: ${note}`);
    }
    const requestOptions = toRequestOptions(api, request);

    // Counted while the model works, so `done` does not wait for it.
    const promptTokens = countPrompt(model, messages, token);

    let response: vscode.LanguageModelChatResponse;
    try {
      response = await raceCancellation(model.sendRequest(messages, requestOptions, token), token);
    } catch (err) {
      // VS Code decodes (and may scale) every image in the workbench before the
      // provider sees it; an image it cannot decode rejects the request with
      // the image element's error Event, not an Error.
      if (images > 0 && err instanceof NonErrorRejection) {
        throw new CodedError(
          'internal',
          `VS Code could not decode an image of the request (${describeError(err.value)}); send PNG, JPEG, GIF, WebP or BMP data`,
        );
      }
      throw err;
    }
    const completion: string[] = [];
    let sawToolCall = false;
    const iterator = response.stream[Symbol.asyncIterator]();
    let finished = false;
    try {
      for (;;) {
        const next = await raceCancellation(iterator.next(), token);
        if (next.done === true) {
          finished = true;
          break;
        }
        const reply = partToFrame(api, id, next.value, newCallId);
        if (!reply) {
          logger.trace(`request ${id}: skipped a response part of an unknown type`);
          continue;
        }
        if (reply.type === 'delta') {
          completion.push(reply.text);
        } else {
          sawToolCall = true;
          completion.push(reply.name, reply.arguments);
        }
        if (!channel.send(reply)) {
          throw new CancelledError();
        }
        await channel.whenWritable();
      }
    } finally {
      if (!finished) {
        // Stop the model's stream; it may be waiting for a part that never comes.
        Promise.resolve(iterator.return?.()).catch(() => undefined);
      }
    }
    if (token.isCancellationRequested) {
      throw new CancelledError();
    }

    const usage: Usage = {
      prompt_tokens: await promptTokens,
      completion_tokens: await countText(model, completion.join(''), token),
    };
    const finishReason = sawToolCall ? 'tool_calls' : 'stop';
    trySend(channel, { type: 'done', id, finish_reason: finishReason, usage }, logger);
    return { finishReason, usage };
  }

  private cancelAll(requests: Map<string, Running>, reason: string): void {
    for (const request of requests.values()) {
      request.reason ??= reason;
      request.source.cancel();
    }
  }

  private changeActive(delta: number): void {
    this.active += delta;
    this.activeEmitter.fire(this.active);
    if (this.active === 0) {
      for (const waiter of [...this.idleWaiters]) {
        waiter();
      }
    }
  }
}

/** Checks the fields modelCalls relies on; the responder validated the rest. */
function validateRequest(frame: InboundFrame): RequestFrame {
  if (typeof frame.model !== 'string' || frame.model === '') {
    throw new CodedError('internal', 'request frame without a model');
  }
  if (!Array.isArray(frame.messages)) {
    throw new CodedError('internal', 'request frame without a messages array');
  }
  for (const [index, message] of (frame.messages as unknown[]).entries()) {
    if (typeof message !== 'object' || message === null || typeof (message as OpenAiMessage).role !== 'string') {
      throw new CodedError('internal', `request frame: messages[${index}] is not a message`);
    }
  }
  return frame as unknown as RequestFrame;
}

function trySend(channel: FrameChannel, frame: ReplyFrame, logger: Logger): void {
  try {
    channel.send(frame);
  } catch (err) {
    logger.error(`could not send ${frame.type} for request ${frame.id ?? '-'}: ${describeError(err)}`);
  }
}

/**
 * Settles like `promise`, or rejects with CancelledError as soon as `token`
 * is cancelled. A promise that loses the race is still observed, so its late
 * rejection is not reported as unhandled.
 */
function raceCancellation<T>(promise: PromiseLike<T>, token: vscode.CancellationToken): Promise<T> {
  const settled = Promise.resolve(promise);
  if (token.isCancellationRequested) {
    settled.catch(() => undefined);
    return Promise.reject(new CancelledError());
  }
  // settled.then below observes a rejection too: no extra catch per part.
  return new Promise<T>((resolve, reject) => {
    const listener = token.onCancellationRequested(() => {
      listener.dispose();
      reject(new CancelledError());
    });
    settled.then(
      (value) => {
        listener.dispose();
        resolve(value);
      },
      (err: unknown) => {
        listener.dispose();
        // A non-Error rejection (VS Code may reject with an Event) keeps what it says.
        reject(err instanceof Error ? err : new NonErrorRejection(err));
      },
    );
  });
}

/** Sum of countTokens over the prompt's messages (counted concurrently, once). */
async function countPrompt(
  model: CallableModel,
  messages: readonly vscode.LanguageModelChatMessage[],
  token: vscode.CancellationToken,
): Promise<number> {
  const counts = await Promise.all(
    messages.map(async (message) => {
      try {
        return await model.countTokens(message, token);
      } catch {
        return message.content.reduce((sum: number, part: unknown) => sum + estimatePartTokens(part), 0);
      }
    }),
  );
  return counts.reduce((sum, count) => sum + count, 0);
}

async function countText(model: CallableModel, text: string, token: vscode.CancellationToken): Promise<number> {
  if (text === '') {
    return 0;
  }
  try {
    return await model.countTokens(text, token);
  } catch {
    return estimateTokens(text);
  }
}

/** Fallback when a provider cannot count: about four characters a token. */
function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * What an image costs when the provider cannot count: OpenAI's price of a
 * high-detail 512x512 tile plus the base (170 + 85), a middling guess.
 */
const IMAGE_TOKEN_ESTIMATE = 255;

/**
 * The fallback estimate of one message part. A data part (an image) is not
 * serialised: JSON of its bytes would be eight characters a byte.
 */
function estimatePartTokens(part: unknown): number {
  if (typeof part === 'object' && part !== null && (part as { data?: unknown }).data instanceof Uint8Array) {
    return IMAGE_TOKEN_ESTIMATE;
  }
  // JSON.stringify gives undefined for undefined, whatever its type says.
  const text = JSON.stringify(part) as string | undefined;
  return estimateTokens(text ?? '');
}

function newCallId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}
