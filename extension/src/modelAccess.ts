/**
 * modelAccess: makes sure this extension may use a model before it serves
 * it, asking the user when VS Code has not recorded a decision yet.
 *
 * vscode.lm shows its consent dialog on an extension's first sendRequest to
 * a provider that requires it (GitHub Copilot, for one), and that request
 * must follow a user action. So the question is asked here, from Start and
 * from Select Language Model, with a tiny request carrying a justification;
 * the request is cancelled as soon as it was accepted, so at most a few
 * tokens are spent, and only while access is still undecided. HTTP requests
 * never trigger the dialog: modelCalls refuses a model without access
 * (no_permissions, with instructions) instead of calling it.
 */
import * as vscode from 'vscode';

import type { Logger } from './logger';
import { describeError } from './logger';

const JUSTIFICATION =
  'VSCode LiteLLM serves this model to programs on this computer through its OpenAI-compatible API ' +
  '(http://localhost:4000 by default). Requests arrive from those programs while the server runs.';

export type AccessResult = { granted: true } | { granted: false; reason: string };

export function hasAccess(access: vscode.LanguageModelAccessInformation, model: vscode.LanguageModelChat): boolean {
  return access.canSendRequest(model) === true;
}

/** Must be called from a user action: it may open VS Code's consent dialog. */
export async function requestModelAccess(
  access: vscode.LanguageModelAccessInformation,
  model: vscode.LanguageModelChat,
  logger: Logger,
): Promise<AccessResult> {
  if (hasAccess(access, model)) {
    return { granted: true };
  }
  logger.info(`asking for access to ${model.vendor}/${model.family} (${model.name})`);
  const source = new vscode.CancellationTokenSource();
  try {
    const response = await model.sendRequest(
      [vscode.LanguageModelChatMessage.User('Reply with the single word OK.')],
      { justification: JUSTIFICATION },
      source.token,
    );
    // Access is settled once the request is accepted; the answer is not needed.
    source.cancel();
    try {
      for await (const _part of response.stream) {
        break;
      }
    } catch {
      // The cancelled stream may end with a cancellation error.
    }
  } catch (err) {
    if (hasAccess(access, model)) {
      // Consent was given; the tiny request failed for another reason.
      logger.warn(`access granted, but the check request failed: ${describeError(err)}`);
      return { granted: true };
    }
    logger.warn(`access to ${model.vendor}/${model.family} not granted: ${describeError(err)}`);
    return { granted: false, reason: describeError(err) };
  } finally {
    source.dispose();
  }
  if (access.canSendRequest(model) === false) {
    return { granted: false, reason: 'VS Code reports that access was denied' };
  }
  logger.info(`access to ${model.vendor}/${model.family} granted`);
  return { granted: true };
}
