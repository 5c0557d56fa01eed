/**
 * codexSettings: what Codex CLI needs to use this gateway (its OpenAI
 * Responses route), as text in three formats: the provider block of
 * `~/.codex/config.toml`, and the shell `export` or PowerShell `$env:` line
 * for the key variable that block names. Pure: no `vscode` at run time, so
 * every format is unit-tested; commands.ts puts the text on the clipboard.
 * The address, the key (a dummy or a placeholder) and the model come from
 * clientSettings.ts, shared with Copy Claude Code Settings.
 *
 * What Codex 0.171.0 reads (README
 * "Use with Codex CLI", whose block tests/integration/codex.test.mjs runs
 * Codex with, and which this one repeats but for the address and model):
 *   model_provider, model  top-level keys of config.toml ($CODEX_HOME, else
 *     ~/.codex): the provider below, and the model Codex sends as `model`
 *     (the one picked with Select Language Model; the gateway resolves it).
 *     In TOML a key after a `[table]` header belongs to that table, so these
 *     two must stay above the file's first table.
 *   [model_providers.vscode-litellm]  `base_url` is the gateway WITH `/v1`
 *     (Codex posts to `{base_url}/responses`); `env_key` names the variable
 *     Codex reads the key from and sends as `Authorization: Bearer`; Codex
 *     will not start while it is unset or empty, even against a gateway that
 *     needs no key. `wire_api = "responses"` is the only one left ("chat" is a
 *     config error).
 */
import type { EnvFormat, GatewayInput, KeyState } from './clientSettings';
import { envPasteHint, formatEnv, keyNote as gatewayKeyNote, resolveGateway } from './clientSettings';

export const PROVIDER_ID = 'vscode-litellm';
export const PROVIDER_NAME = 'VSCode LiteLLM';
/** The provider block's `env_key`: the variable that carries the key (or the dummy, or the placeholder). */
export const KEY_VARIABLE = 'LITELLM_API_KEY';

export interface CodexSettings {
  /** The provider's `base_url`: the gateway with `/v1`. */
  baseUrl: string;
  /** The `model` line: the selected model's id. */
  model: string;
  keyState: KeyState;
  /** The key variable, name and value. */
  env: [string, string][];
}

export type CodexBuildResult = { ok: true; settings: CodexSettings } | { ok: false; reason: string };

export function buildCodexSettings(input: GatewayInput): CodexBuildResult {
  const resolved = resolveGateway(input);
  if (!resolved.ok) {
    return resolved;
  }
  const { origin, keyState, key, selectedModel } = resolved.gateway;
  return {
    ok: true,
    settings: { baseUrl: `${origin}/v1`, model: selectedModel, keyState, env: [[KEY_VARIABLE, key]] },
  };
}

// ---- Formats ----

export type CodexFormat = 'toml' | EnvFormat;

export function formatCodexSettings(settings: CodexSettings, format: CodexFormat): string {
  switch (format) {
    case 'toml':
      return configToml(settings);
    case 'shell':
    case 'powershell':
      return formatEnv(settings.env, format);
  }
}

/** The config.toml snippet: the two top-level keys, then the provider table. */
export function configToml(settings: Pick<CodexSettings, 'baseUrl' | 'model'>): string {
  return [
    '# VSCode LiteLLM. model and model_provider are top-level keys: keep them above the first [table].',
    `model = ${tomlString(settings.model)}`,
    `model_provider = ${tomlString(PROVIDER_ID)}`,
    '',
    `[model_providers.${tomlKey(PROVIDER_ID)}]`,
    `name = ${tomlString(PROVIDER_NAME)}`,
    `base_url = ${tomlString(settings.baseUrl)}`,
    `env_key = ${tomlString(KEY_VARIABLE)}`,
    `wire_api = ${tomlString('responses')}`,
    '',
  ].join('\n');
}

const TOML_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\f': '\\f',
  '\r': '\\r',
};

/**
 * A TOML basic string: `"` and `\` escaped, the control characters
 * (U+0000–U+001F, U+007F, and U+0080–U+009F for legibility) as escapes,
 * everything else as it is. A lone UTF-16 surrogate is no Unicode scalar
 * value, which TOML (UTF-8, `\u` of scalar values only) cannot carry: it
 * becomes U+FFFD.
 */
export function tomlString(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    const escape = TOML_ESCAPES[char];
    if (escape !== undefined) {
      out += escape;
    } else if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
      out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += '\uFFFD';
    } else {
      out += char;
    }
  }
  return out + '"';
}

/** A TOML key: bare when it may be (A–Z, a–z, 0–9, `_`, `-`), else a quoted string. */
export function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key);
}

/** Where the chosen format goes, for the message after copying. */
export function codexPasteHint(format: CodexFormat): string {
  switch (format) {
    case 'toml':
      return (
        'Add it to ~/.codex/config.toml (or $CODEX_HOME/config.toml): the model and model_provider lines above the ' +
        `file's first [table], in place of any model, model_provider or [model_providers.${PROVIDER_ID}] already there.`
      );
    case 'shell':
    case 'powershell':
      return `${envPasteHint(format, 'codex', false)} Codex also needs the provider block in ~/.codex/config.toml (this command's config.toml choice).`;
  }
}

/** The model line, for the message. */
export function codexModelSummary(settings: Pick<CodexSettings, 'model'>): string {
  return `Model: ${settings.model} (Codex warns that it has no metadata for it and uses its defaults).`;
}

/**
 * What the message says about the key. The config.toml text holds only the
 * variable's name, so that choice always says the variable must be set too.
 */
export function codexKeyNote(state: KeyState, format: CodexFormat): string | undefined {
  const notes: string[] = [];
  if (format === 'toml') {
    notes.push(
      `Codex reads the key from ${KEY_VARIABLE} and will not start while it is unset: copy its shell or PowerShell line with this command too.`,
    );
  }
  const note = gatewayKeyNote(state, KEY_VARIABLE);
  if (note !== undefined) {
    notes.push(note);
  }
  return notes.length > 0 ? notes.join(' ') : undefined;
}
