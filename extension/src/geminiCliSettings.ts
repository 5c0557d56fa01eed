/**
 * geminiCliSettings: what Gemini CLI needs to use this gateway (its Gemini
 * API route), as text in three formats: the shell `export` or PowerShell
 * `$env:` lines for its two variables, and the block of
 * `~/.gemini/settings.json`. Pure: no `vscode` at run time, so every format
 * and the compression arithmetic are unit-tested; commands.ts puts the text
 * on the clipboard. The address, the key (a dummy or a placeholder) and the
 * model come from clientSettings.ts, shared with the other copy commands.
 *
 * What Gemini CLI 0.61.0 reads (README "Use with
 * Gemini CLI", whose block tests/integration/gemini-cli.test.mjs runs the
 * CLI with, and which this one repeats but for the model and the threshold):
 *   GOOGLE_GEMINI_BASE_URL  the gateway without `/v1beta` (the CLI adds it).
 *     Only the environment sets it.
 *   GEMINI_API_KEY  sent as `x-goog-api-key`; the CLI needs it set even
 *     where the gateway needs none.
 *   security.auth.selectedType = "gemini-api-key"  without it a headless run
 *     (`gemini -p`) with a base URL exits 41 ("Invalid auth method selected").
 *   model.name  the model it asks for: the one picked with Select Language
 *     Model. Without it the CLI's default `auto` asks a classifier first.
 *   model.compressionThreshold  the CLI takes every name it does not know for
 *     a 1,048,576-token model and compresses the chat at this fraction of
 *     that (default 0.5): far past a Copilot window. See compressionThreshold.
 *   privacy.usageStatisticsEnabled = false  otherwise it reports every run
 *     to Google.
 */
import type { EnvFormat, GatewayInput, KeyState } from './clientSettings';
import { envPasteHint, formatEnv, keyNote as gatewayKeyNote, resolveGateway } from './clientSettings';

/** The variable that carries the key (or the dummy, or the placeholder). */
export const KEY_VARIABLE = 'GEMINI_API_KEY';
export const BASE_URL_VARIABLE = 'GOOGLE_GEMINI_BASE_URL';

/** Gemini CLI's `tokenLimit()` for a model name it does not know. */
export const ASSUMED_CONTEXT_TOKENS = 1_048_576;
/** Gemini CLI's own default `compressionThreshold`: the share of the context at which it compresses. */
export const DEFAULT_COMPRESSION_SHARE = 0.5;
/** README "Use with Gemini CLI"'s value (about 100 k tokens) when the model's window is not known here. */
export const FALLBACK_THRESHOLD = 0.1;

export interface GeminiCliSettings {
  /** GOOGLE_GEMINI_BASE_URL: the gateway's origin, no `/v1beta`. */
  baseUrl: string;
  /** model.name: the selected model's id. */
  model: string;
  /** model.compressionThreshold. */
  compressionThreshold: number;
  /** The model's input token limit the threshold was computed from; undefined when not known here. */
  maxInputTokens: number | undefined;
  keyState: KeyState;
  /** Name and value, in the order they are written. */
  env: [string, string][];
}

export type GeminiCliBuildResult = { ok: true; settings: GeminiCliSettings } | { ok: false; reason: string };

export function buildGeminiCliSettings(input: GatewayInput): GeminiCliBuildResult {
  const resolved = resolveGateway(input);
  if (!resolved.ok) {
    return resolved;
  }
  const { origin, keyState, key, selectedModel } = resolved.gateway;
  const limit = input.models.find((model) => model.id === selectedModel)?.maxInputTokens;
  const maxInputTokens = limit !== undefined && Number.isFinite(limit) && limit > 0 ? limit : undefined;
  return {
    ok: true,
    settings: {
      baseUrl: origin,
      model: selectedModel,
      compressionThreshold: compressionThreshold(maxInputTokens),
      maxInputTokens,
      keyState,
      env: [
        [BASE_URL_VARIABLE, origin],
        [KEY_VARIABLE, key],
      ],
    },
  };
}

/**
 * The fraction of the CLI's assumed 1,048,576 tokens at which it should
 * compress so that it does so at its own default share (half) of the real
 * window: the compression call sends the whole history plus its own prompt to
 * the same model, and the turn after it may add a large tool output, so the
 * other half is the room both need (the CLI compresses once the last
 * prompt's promptTokenCount reaches threshold × 1,048,576). Rounded down to 3
 * decimals, so it never lands past that half, and at least 0.001: the CLI
 * reads 0 as unset and falls back to 0.5. A window of 1,048,576 or more keeps
 * the CLI's default. Unknown window: the README's 0.1.
 */
export function compressionThreshold(maxInputTokens: number | undefined): number {
  if (maxInputTokens === undefined) {
    return FALLBACK_THRESHOLD;
  }
  const share = (DEFAULT_COMPRESSION_SHARE * Math.min(maxInputTokens, ASSUMED_CONTEXT_TOKENS)) / ASSUMED_CONTEXT_TOKENS;
  return Math.max(0.001, Math.floor(share * 1000) / 1000);
}

// ---- Formats ----

export type GeminiCliFormat = EnvFormat | 'json';

export function formatGeminiCliSettings(settings: GeminiCliSettings, format: GeminiCliFormat): string {
  switch (format) {
    case 'shell':
    case 'powershell':
      return formatEnv(settings.env, format);
    case 'json':
      return settingsJson(settings);
  }
}

/** The ~/.gemini/settings.json block: the README's, with this model and threshold. */
export function settingsJson(settings: Pick<GeminiCliSettings, 'model' | 'compressionThreshold'>): string {
  const block = {
    security: { auth: { selectedType: 'gemini-api-key' } },
    model: { name: settings.model, compressionThreshold: settings.compressionThreshold },
    privacy: { usageStatisticsEnabled: false },
  };
  return JSON.stringify(block, null, 2) + '\n';
}

/** Where the chosen format goes, for the message after copying. */
export function geminiCliPasteHint(format: GeminiCliFormat): string {
  switch (format) {
    case 'json':
      return (
        'Merge it into ~/.gemini/settings.json (or a project\'s .gemini/settings.json), keeping your other settings. ' +
        `Gemini CLI also needs ${BASE_URL_VARIABLE} and ${KEY_VARIABLE} set: copy their lines with this command too.`
      );
    case 'shell':
    case 'powershell':
      return (
        `${envPasteHint(format, 'gemini', true)} Gemini CLI also needs the block in ~/.gemini/settings.json ` +
        '(this command\'s settings.json choice): without it "gemini -p" exits 41.'
      );
  }
}

/** The model and the threshold, for the message. */
export function geminiCliModelSummary(settings: Pick<GeminiCliSettings, 'model' | 'compressionThreshold' | 'maxInputTokens'>): string {
  const at = Math.round((settings.compressionThreshold * ASSUMED_CONTEXT_TOKENS) / 1000);
  const why =
    settings.maxInputTokens === undefined
      ? `Gemini CLI compresses the chat at about ${at} k tokens; this window does not know the model's input token limit, ` +
        `so lower it if that is under ${Math.round(at / DEFAULT_COMPRESSION_SHARE)} k`
      : `Gemini CLI compresses the chat at about ${at} k tokens, half of the model's ${settings.maxInputTokens.toLocaleString('en-US')}`;
  return `Model: ${settings.model}; compressionThreshold ${settings.compressionThreshold} (${why}).`;
}

/** What the message says about the key, if anything needs doing. */
export function geminiCliKeyNote(state: KeyState): string | undefined {
  return gatewayKeyNote(state, KEY_VARIABLE);
}
