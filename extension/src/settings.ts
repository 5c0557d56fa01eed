/**
 * settings: reads the `vscode-litellm.*` configuration (package.json
 * "contributes.configuration" documents each key).
 */
import * as vscode from 'vscode';

import type { ServerMode, ServerSettings } from './serverControl';

export const SETTINGS_SECTION = 'vscode-litellm';

export interface ExtensionSettings extends ServerSettings {
  defaultModel: string;
  autoStart: boolean;
}

/** Keys whose change only takes effect at the next Start. */
const SERVER_KEYS = [
  'port',
  'host',
  'mode',
  'litellmctlPath',
  'responderPath',
  'nginxPath',
  'prefix',
  'systemSnippetPath',
  'systemReloadCommand',
] as const;

export function readSettings(): ExtensionSettings {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  const text = (key: string, fallback: string): string => {
    const value = config.get<unknown>(key);
    return typeof value === 'string' ? value.trim() : fallback;
  };
  const port = config.get<unknown>('port');
  const mode = text('mode', 'managed');
  return {
    port: typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? port : 4000,
    host: text('host', '127.0.0.1') || '127.0.0.1',
    mode: (mode === 'system' ? 'system' : 'managed') satisfies ServerMode,
    litellmctlPath: text('litellmctlPath', 'litellmctl') || 'litellmctl',
    responderPath: text('responderPath', ''),
    nginxPath: text('nginxPath', ''),
    prefix: text('prefix', ''),
    systemSnippetPath: text('systemSnippetPath', ''),
    systemReloadCommand: text('systemReloadCommand', ''),
    defaultModel: text('defaultModel', ''),
    autoStart: config.get<unknown>('autoStart') === true,
    remoteName: vscode.env.remoteName ?? '',
  };
}

export function affectsServer(event: vscode.ConfigurationChangeEvent): boolean {
  return SERVER_KEYS.some((key) => event.affectsConfiguration(`${SETTINGS_SECTION}.${key}`));
}

export function affectsDefaultModel(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(`${SETTINGS_SECTION}.defaultModel`);
}
