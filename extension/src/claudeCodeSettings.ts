/**
 * claudeCodeSettings: the environment Claude Code needs to use this gateway
 * (its Anthropic Messages route), as text in three formats: shell `export`
 * lines (bash, zsh), PowerShell `$env:` lines, and the `"env"` object of a
 * Claude Code settings.json. Pure: no `vscode` at run time, so every format
 * is unit-tested; commands.ts puts the text on the clipboard.
 *
 * What Claude Code 2.1.332 reads (README "Use with Claude Code"):
 *   ANTHROPIC_BASE_URL  the gateway without `/v1` (the client adds `/v1/messages`).
 *   ANTHROPIC_AUTH_TOKEN  sent as `Authorization: Bearer …`, which the
 *     gateway accepts (so does `x-api-key`, from ANTHROPIC_API_KEY, but that
 *     one makes interactive Claude Code ask once whether to use the key).
 *     Claude Code needs a credential set even where the gateway needs none:
 *     without one it starts its own login. The value (a dummy, or a
 *     placeholder for the user's key), the address and the model come from
 *     clientSettings.ts, shared with Copy Codex Settings.
 *   ANTHROPIC_MODEL  the main model: the one picked with Select Language Model.
 *   ANTHROPIC_DEFAULT_{OPUS,SONNET,HAIKU}_MODEL  what the aliases (and the
 *     background tasks, which use the haiku tier) mean: the newest offered
 *     Claude model of that tier, or the selected model when none is offered.
 *   CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1  no telemetry, error reports
 *     or update checks (the sealed runs of AGENT-APIS §5 set it too).
 *   CLAUDE_CODE_ATTRIBUTION_HEADER=0  drops the per-version billing block
 *     Claude Code puts first in `system`: vscode.lm has no system role, so
 *     the model would get it as user text, and it changes every version.
 * Left out: CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY (Claude Code keeps
 * only ids starting with `claude` or `anthropic`, and the gateway's ids are
 * `vendor/family`, so it would find nothing) and ANTHROPIC_SMALL_FAST_MODEL
 * (the 1.x name of the haiku tier).
 */
import type { EnvFormat, GatewayInput, KeyState, OfferedModel } from './clientSettings';
import { envPasteHint, formatEnv, keyNote as gatewayKeyNote, resolveGateway } from './clientSettings';

export type ClaudeCodeInput = GatewayInput;

export type Tier = 'opus' | 'sonnet' | 'haiku';
export const TIERS: readonly Tier[] = ['opus', 'sonnet', 'haiku'];

export interface ClaudeCodeSettings {
  baseUrl: string;
  /** Name and value, in the order they are written. */
  env: [string, string][];
  keyState: KeyState;
  selectedModel: string;
  /** For each tier: the model used, and whether it is a model of that tier (else the selected one). */
  tiers: Record<Tier, { model: string; matched: boolean }>;
}

export type BuildResult = { ok: true; settings: ClaudeCodeSettings } | { ok: false; reason: string };

/** The variable that carries the key (or the dummy, or the placeholder). */
export const KEY_VARIABLE = 'ANTHROPIC_AUTH_TOKEN';

export function buildClaudeCodeSettings(input: ClaudeCodeInput): BuildResult {
  const resolved = resolveGateway(input);
  if (!resolved.ok) {
    return resolved;
  }
  const { origin: baseUrl, keyState, key, selectedModel: selected } = resolved.gateway;
  const tiers = {} as Record<Tier, { model: string; matched: boolean }>;
  for (const tier of TIERS) {
    const best = bestOfTier(input.models, tier);
    tiers[tier] = best ? { model: best, matched: true } : { model: selected, matched: false };
  }
  const env: [string, string][] = [
    ['ANTHROPIC_BASE_URL', baseUrl],
    [KEY_VARIABLE, key],
    ['ANTHROPIC_MODEL', selected],
    ['ANTHROPIC_DEFAULT_OPUS_MODEL', tiers.opus.model],
    ['ANTHROPIC_DEFAULT_SONNET_MODEL', tiers.sonnet.model],
    ['ANTHROPIC_DEFAULT_HAIKU_MODEL', tiers.haiku.model],
    ['CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC', '1'],
    ['CLAUDE_CODE_ATTRIBUTION_HEADER', '0'],
  ];
  return { ok: true, settings: { baseUrl, env, keyState, selectedModel: selected, tiers } };
}

// ---- Tiers ----

/** A Claude model's tier and version, read from its family, id or name. */
export interface ClaudeVersion {
  tier: Tier;
  /** `claude-sonnet-4.5` → [4, 5]; `claude-3.7-sonnet` → [3, 7]; Copilot's `claude-opus-41` → [4, 1]. */
  version: number[];
  /** Words besides claude, the tier and numbers (`thought`, `preview`): a variant, preferred less. */
  extras: number;
}

export function parseClaudeModel(text: string): ClaudeVersion | undefined {
  const words = text
    .toLowerCase()
    .replace(/^.*\//, '') // vendor/family: the family
    .split(/[\s_-]+/)
    .filter((word) => word !== '');
  if (!words.includes('claude')) {
    return undefined;
  }
  const tier = TIERS.find((name) => words.includes(name));
  if (tier === undefined) {
    return undefined;
  }
  const numbers: string[] = [];
  let extras = 0;
  for (const word of words) {
    if (word === 'claude' || word === tier) {
      continue;
    }
    if (/^\d+(\.\d+)*$/.test(word)) {
      if (word.length < 6) {
        numbers.push(word); // 8-digit snapshot dates are not versions
      }
    } else if (word !== 'latest') {
      extras++;
    }
  }
  let version: number[];
  const only = numbers[0];
  if (numbers.length === 1 && only !== undefined && /^\d\d$/.test(only)) {
    version = [Number(only[0]), Number(only[1])]; // Copilot writes Opus 4.1 as `claude-opus-41`
  } else {
    version = numbers.flatMap((number) => number.split('.').map(Number));
  }
  return { tier, version, extras };
}

/** The id of the newest model of `tier` (then the one with fewer variant words, then the first). */
export function bestOfTier(models: readonly OfferedModel[], tier: Tier): string | undefined {
  let best: { id: string; parsed: ClaudeVersion } | undefined;
  for (const model of models) {
    const parsed = [model.family, model.id, model.name]
      .map((text) => (text === undefined ? undefined : parseClaudeModel(text)))
      .find((candidate) => candidate !== undefined);
    if (parsed?.tier !== tier) {
      continue;
    }
    if (!best || compareVersions(parsed, best.parsed) > 0) {
      best = { id: model.id, parsed };
    }
  }
  return best?.id;
}

function compareVersions(a: ClaudeVersion, b: ClaudeVersion): number {
  const length = Math.max(a.version.length, b.version.length);
  for (let i = 0; i < length; i++) {
    const difference = (a.version[i] ?? 0) - (b.version[i] ?? 0);
    if (difference !== 0) {
      return difference;
    }
  }
  return b.extras - a.extras;
}

// ---- Formats ----

export type SettingsFormat = EnvFormat | 'json';

export function formatSettings(settings: Pick<ClaudeCodeSettings, 'env'>, format: SettingsFormat): string {
  switch (format) {
    case 'shell':
    case 'powershell':
      return formatEnv(settings.env, format);
    case 'json':
      return JSON.stringify({ env: Object.fromEntries(settings.env) }, null, 2) + '\n';
  }
}

/** Where the chosen format goes, for the message after copying. */
export function pasteHint(format: SettingsFormat): string {
  switch (format) {
    case 'shell':
    case 'powershell':
      return envPasteHint(format, 'claude', true);
    case 'json':
      return 'Merge its "env" into ~/.claude/settings.json (every project) or .claude/settings.local.json (this project, not committed).';
  }
}

/** Which model each variable names, for the message. */
export function modelSummary(settings: Pick<ClaudeCodeSettings, 'selectedModel' | 'tiers'>): string {
  const tiers = TIERS.map((tier) => {
    const { model, matched } = settings.tiers[tier];
    return `${tier} ${matched ? model : 'the same (no Claude ' + tier + ' model offered)'}`;
  });
  return `Model: ${settings.selectedModel}; ${tiers.join(', ')}.`;
}

/** What the message says about the key, if anything needs doing. */
export function keyNote(state: KeyState): string | undefined {
  return gatewayKeyNote(state, KEY_VARIABLE);
}
