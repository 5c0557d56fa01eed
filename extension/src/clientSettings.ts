/**
 * clientSettings: what every agent pointed at the running gateway needs, for
 * the copy commands (claudeCodeSettings.ts, codexSettings.ts,
 * geminiCliSettings.ts): the address a
 * client on this machine reaches it at, the credential it should send (a
 * dummy, or a placeholder for the user's key), the model it should ask for,
 * and environment lines quoted for the POSIX shells and PowerShell. Pure: no
 * `vscode` at run time, unit-tested through both commands' texts.
 *
 * The key: clients need a credential set even where the gateway needs none
 * (Claude Code starts its own login without one, Codex refuses to start).
 * With no keys, the responder lets a loopback client through whatever key it
 * presents (auth.c), so a dummy value works; with keys, only the user knows
 * theirs, and the text carries a placeholder.
 */
import { probeAddress } from './listenProbe';
import { listenAddress } from './serverControl';
import type { AuthStatus } from './serverStatus';

/** A model the connected windows offer. */
export interface OfferedModel {
  /** The id it is announced under (`copilot/claude-sonnet-4.5`, or a VS Code model id). */
  id: string;
  /** VS Code's family and name, when known (this window's models); other windows' come as ids only. */
  family?: string | undefined;
  name?: string | undefined;
  /** VS Code's input token limit, when known (this window's models). */
  maxInputTokens?: number | undefined;
}

export interface GatewayInput {
  /** `host:port` the server listens on, as `litellmctl status --json` reports it. */
  listen: string;
  models: readonly OfferedModel[];
  /** The announced id of the model picked with Select Language Model. */
  selectedModel: string | undefined;
  /** The responder's key policy (status document); null when it did not say. */
  auth: AuthStatus | null;
}

export type KeyState =
  /** No keys and a loopback address: any token passes. */
  | 'open'
  /** Keys exist: the user must fill in theirs. */
  | 'needed'
  /** No keys, but the address is not loopback (or the policy is `required`): refused until a key exists. */
  | 'needed-none-exists'
  /** The status said nothing about keys. */
  | 'unknown';

export interface Gateway {
  /** `http://host:port`, no path; a wildcard listen address as loopback, IPv6 in brackets. */
  origin: string;
  keyState: KeyState;
  /** The credential to write: OPEN_TOKEN when any passes, else KEY_PLACEHOLDER. */
  key: string;
  /** The selected model's id, else the first offered. */
  selectedModel: string;
}

export type GatewayResult = { ok: true; gateway: Gateway } | { ok: false; reason: string };

/** Any value: the gateway ignores the token while it has no keys. */
export const OPEN_TOKEN = 'litellm-no-key-needed';
export const KEY_PLACEHOLDER = '<your litellm key: litellmctl keys add NAME>';

export function resolveGateway(input: GatewayInput): GatewayResult {
  const address = probeAddress(input.listen);
  if (!address) {
    return { ok: false, reason: `the server's listen address "${input.listen}" is not host:port` };
  }
  const selected =
    input.selectedModel !== undefined && input.selectedModel !== '' ? input.selectedModel : input.models[0]?.id;
  if (selected === undefined) {
    return {
      ok: false,
      reason: 'no VS Code window offers a language model (install and sign in to a model provider, for example GitHub Copilot Chat)',
    };
  }
  const keyState = keyStateOf(input.auth, address.host);
  return {
    ok: true,
    gateway: {
      origin: `http://${listenAddress(address.host, address.port)}`,
      keyState,
      key: keyState === 'open' ? OPEN_TOKEN : KEY_PLACEHOLDER,
      selectedModel: selected,
    },
  };
}

function keyStateOf(auth: AuthStatus | null, host: string): KeyState {
  if (auth === null) {
    return 'unknown';
  }
  if (auth.keys > 0) {
    return 'needed';
  }
  // Without keys the responder lets only loopback clients in, and only in its
  // `auto` policy (`open on loopback`; `required` refuses everyone) (auth.c).
  return auth.mode === 'open on loopback' && isLoopback(host) ? 'open' : 'needed-none-exists';
}

/** 127.0.0.0/8, ::1, localhost (litellmctl writes localhost as 127.0.0.1 anyway). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare) || bare === '::ffff:127.0.0.1';
}

/** What the message says about the key `variable` holds, if anything needs doing. */
export function keyNote(state: KeyState, variable: string): string | undefined {
  switch (state) {
    case 'open':
      return undefined;
    case 'needed':
      return `The gateway uses API keys: replace the ${variable} placeholder with yours (create one with "litellmctl keys add NAME").`;
    case 'needed-none-exists':
      return `The gateway needs an API key at this address and has none yet, so it refuses every request: create one with "litellmctl keys add NAME" and put it in place of the ${variable} placeholder.`;
    case 'unknown':
      return `The server did not say whether it uses API keys: if it does, replace the ${variable} placeholder with yours; if not, any value works.`;
  }
}

// ---- Environment lines ----

export type EnvFormat = 'shell' | 'powershell';

/** `export NAME='value'` or `$env:NAME = 'value'` lines, one per variable, newline-terminated. */
export function formatEnv(env: readonly (readonly [string, string])[], format: EnvFormat): string {
  switch (format) {
    case 'shell':
      return env.map(([name, value]) => `export ${name}=${shellQuote(value)}`).join('\n') + '\n';
    case 'powershell':
      return env.map(([name, value]) => `$env:${name} = ${powerShellQuote(value)}`).join('\n') + '\n';
  }
}

/** A POSIX single-quoted word: nothing inside is special but `'`, written `'\''`. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * A PowerShell verbatim (single-quoted) string: nothing inside is expanded;
 * a quote is doubled. PowerShell also reads the typographic single quotes
 * ‘ ’ ‚ ‛ as quotes, so those are doubled too.
 */
export function powerShellQuote(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201a\u201b]/g, (quote) => quote + quote)}'`;
}

/** Where environment lines go, for the message after copying; `program` is the command the user runs. */
export function envPasteHint(format: EnvFormat, program: string, plural: boolean): string {
  const them = plural ? 'them' : 'it';
  switch (format) {
    case 'shell':
      return `Paste ${them} into the bash or zsh terminal where you run ${program}, or into ~/.bashrc or ~/.zshrc to keep ${them}.`;
    case 'powershell':
      return `Paste ${them} into the PowerShell session where you run ${program}, or into your $PROFILE to keep ${them}.`;
  }
}
