/**
 * logs: the "VSCode LiteLLM" LogOutputChannel (its level follows VS Code's
 * "Developer: Set Log Level"), and error messages that offer "Show Logs".
 *
 * Other modules write to it through the Logger interface (logger.ts), which
 * a LogOutputChannel satisfies. At info: one line per request and every
 * start/stop step; never prompt or completion text.
 */
import * as vscode from 'vscode';

export const LOG_CHANNEL_NAME = 'VSCode LiteLLM';

export function createLogChannel(): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel(LOG_CHANNEL_NAME, { log: true });
}

/** An error notification with a "Show Logs" action that opens the channel. */
export async function showErrorWithLogs(channel: vscode.LogOutputChannel, message: string): Promise<void> {
  const showLogs = 'Show Logs';
  const choice = await vscode.window.showErrorMessage(message, showLogs);
  if (choice === showLogs) {
    channel.show(true);
  }
}
