/** Copy Claude Code Settings: the variables, the tiers, the key, and each format's quoting. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ClaudeCodeInput, ClaudeCodeSettings } from '../../src/claudeCodeSettings';
import {
  bestOfTier,
  buildClaudeCodeSettings,
  formatSettings,
  keyNote,
  modelSummary,
  parseClaudeModel,
  pasteHint,
} from '../../src/claudeCodeSettings';
import type { OfferedModel } from '../../src/clientSettings';
import { KEY_PLACEHOLDER, OPEN_TOKEN, powerShellQuote, shellQuote } from '../../src/clientSettings';
import { parseHealth } from '../../src/serverStatus';
import { runShell } from '../shellRun';

const open = { keys: 0, mode: 'open on loopback' };
const withKeys = { keys: 2, mode: 'keys' };

/** What GitHub Copilot offers, announced as vendor/family. */
const copilot: OfferedModel[] = [
  { id: 'copilot/gpt-4o', family: 'gpt-4o', name: 'GPT-4o' },
  { id: 'copilot/claude-3.5-sonnet', family: 'claude-3.5-sonnet', name: 'Claude 3.5 Sonnet' },
  { id: 'copilot/claude-3.7-sonnet', family: 'claude-3.7-sonnet', name: 'Claude 3.7 Sonnet' },
  { id: 'copilot/claude-3.7-sonnet-thought', family: 'claude-3.7-sonnet-thought', name: 'Claude 3.7 Sonnet Thinking' },
  { id: 'copilot/claude-sonnet-4.5', family: 'claude-sonnet-4.5', name: 'Claude Sonnet 4.5' },
  { id: 'copilot/claude-sonnet-4', family: 'claude-sonnet-4', name: 'Claude Sonnet 4' },
  { id: 'copilot/claude-opus-4', family: 'claude-opus-4', name: 'Claude Opus 4' },
  { id: 'copilot/claude-opus-41', family: 'claude-opus-41', name: 'Claude Opus 4.1' },
  { id: 'copilot/claude-haiku-4.5', family: 'claude-haiku-4.5', name: 'Claude Haiku 4.5' },
];

function build(input: Partial<ClaudeCodeInput>): ClaudeCodeSettings {
  const result = buildClaudeCodeSettings({
    listen: '127.0.0.1:4000',
    models: copilot,
    selectedModel: 'copilot/gpt-4o',
    auth: open,
    ...input,
  });
  if (!result.ok) {
    assert.fail(result.reason);
  }
  return result.settings;
}

function envOf(settings: ClaudeCodeSettings): Record<string, string> {
  return Object.fromEntries(settings.env);
}

describe('Claude Code settings: the variables', () => {
  it('open loopback gateway: base URL without /v1, a dummy token, the models, the two switches', () => {
    const settings = build({});
    assert.deepEqual(settings.env, [
      ['ANTHROPIC_BASE_URL', 'http://127.0.0.1:4000'],
      ['ANTHROPIC_AUTH_TOKEN', OPEN_TOKEN],
      ['ANTHROPIC_MODEL', 'copilot/gpt-4o'],
      ['ANTHROPIC_DEFAULT_OPUS_MODEL', 'copilot/claude-opus-41'],
      ['ANTHROPIC_DEFAULT_SONNET_MODEL', 'copilot/claude-sonnet-4.5'],
      ['ANTHROPIC_DEFAULT_HAIKU_MODEL', 'copilot/claude-haiku-4.5'],
      ['CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC', '1'],
      ['CLAUDE_CODE_ATTRIBUTION_HEADER', '0'],
    ]);
    assert.equal(settings.keyState, 'open');
    assert.equal(keyNote('open'), undefined);
    assert.equal(
      formatSettings(settings, 'shell'),
      [
        "export ANTHROPIC_BASE_URL='http://127.0.0.1:4000'",
        `export ANTHROPIC_AUTH_TOKEN='${OPEN_TOKEN}'`,
        "export ANTHROPIC_MODEL='copilot/gpt-4o'",
        "export ANTHROPIC_DEFAULT_OPUS_MODEL='copilot/claude-opus-41'",
        "export ANTHROPIC_DEFAULT_SONNET_MODEL='copilot/claude-sonnet-4.5'",
        "export ANTHROPIC_DEFAULT_HAIKU_MODEL='copilot/claude-haiku-4.5'",
        "export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC='1'",
        "export CLAUDE_CODE_ATTRIBUTION_HEADER='0'",
        '',
      ].join('\n'),
    );
    assert.equal(
      formatSettings(settings, 'powershell').split('\n').slice(0, 2).join('\n'),
      "$env:ANTHROPIC_BASE_URL = 'http://127.0.0.1:4000'\n" + `$env:ANTHROPIC_AUTH_TOKEN = '${OPEN_TOKEN}'`,
    );
  });

  it('keys in use: the placeholder, in every format, and a note saying how to get a key', () => {
    const settings = build({ auth: withKeys });
    assert.equal(settings.keyState, 'needed');
    assert.equal(envOf(settings).ANTHROPIC_AUTH_TOKEN, KEY_PLACEHOLDER);
    assert.match(KEY_PLACEHOLDER, /litellmctl keys add NAME/);
    for (const format of ['shell', 'powershell', 'json'] as const) {
      assert.ok(formatSettings(settings, format).includes(KEY_PLACEHOLDER), format);
    }
    assert.match(keyNote('needed') ?? '', /replace the ANTHROPIC_AUTH_TOKEN placeholder.*litellmctl keys add NAME/);
    // Pasted as is, the placeholder is one literal word: no redirection from < and >.
    assert.equal(runShell('bash', formatSettings(settings, 'shell'), ['ANTHROPIC_AUTH_TOKEN']).ANTHROPIC_AUTH_TOKEN, KEY_PLACEHOLDER);
  });

  it('no keys: open only on a loopback address and in the auto policy; unknown policy: the placeholder', () => {
    assert.equal(build({ listen: '0.0.0.0:4000' }).keyState, 'open'); // reached through 127.0.0.1
    assert.equal(build({ listen: '127.0.0.2:4000' }).keyState, 'open');
    assert.equal(build({ listen: '[::1]:4000' }).keyState, 'open');
    const lan = build({ listen: '192.168.1.20:4000' });
    assert.equal(lan.keyState, 'needed-none-exists');
    assert.equal(envOf(lan).ANTHROPIC_AUTH_TOKEN, KEY_PLACEHOLDER);
    assert.match(keyNote('needed-none-exists') ?? '', /has none yet.*litellmctl keys add NAME/);
    assert.equal(build({ auth: { keys: 0, mode: 'required' } }).keyState, 'needed-none-exists');
    const unknown = build({ auth: null });
    assert.equal(unknown.keyState, 'unknown');
    assert.equal(envOf(unknown).ANTHROPIC_AUTH_TOKEN, KEY_PLACEHOLDER);
    assert.match(keyNote('unknown') ?? '', /did not say/);
  });

  it('reads the key policy from the status document as the pipe delivers it', () => {
    const health = parseHealth({ auth: { keys: 3, mode: 'keys' }, models: ['copilot/claude-sonnet-4'] });
    assert.equal(build({ auth: health.auth }).keyState, 'needed');
  });

  it('the address: wildcards become loopback, IPv6 keeps its brackets; a malformed one is refused', () => {
    assert.equal(build({ listen: '0.0.0.0:4000' }).baseUrl, 'http://127.0.0.1:4000');
    assert.equal(build({ listen: '[::]:8080' }).baseUrl, 'http://[::1]:8080');
    assert.equal(build({ listen: '[fd00::5]:4000', auth: withKeys }).baseUrl, 'http://[fd00::5]:4000');
    assert.equal(build({ listen: 'gateway.lan:4001', auth: withKeys }).baseUrl, 'http://gateway.lan:4001');
    const bad = buildClaudeCodeSettings({ listen: '', models: copilot, selectedModel: 'copilot/gpt-4o', auth: open });
    assert.deepEqual(bad, { ok: false, reason: 'the server\'s listen address "" is not host:port' });
  });

  it('no selected model: the first offered; no models at all: refused with what to do', () => {
    assert.equal(envOf(build({ selectedModel: undefined })).ANTHROPIC_MODEL, 'copilot/gpt-4o');
    assert.equal(envOf(build({ selectedModel: '' })).ANTHROPIC_MODEL, 'copilot/gpt-4o');
    const none = buildClaudeCodeSettings({ listen: '127.0.0.1:4000', models: [], selectedModel: undefined, auth: open });
    assert.equal(none.ok, false);
    assert.match((none as { reason: string }).reason, /no VS Code window offers a language model/);
  });
});

describe('Claude Code settings: tiers', () => {
  it('reads tier and version from the family names providers use', () => {
    assert.deepEqual(parseClaudeModel('claude-sonnet-4.5'), { tier: 'sonnet', version: [4, 5], extras: 0 });
    assert.deepEqual(parseClaudeModel('claude-3.5-sonnet'), { tier: 'sonnet', version: [3, 5], extras: 0 });
    assert.deepEqual(parseClaudeModel('claude-3-5-sonnet-20241022'), { tier: 'sonnet', version: [3, 5], extras: 0 });
    assert.deepEqual(parseClaudeModel('claude-sonnet-4-5-20250929'), { tier: 'sonnet', version: [4, 5], extras: 0 });
    assert.deepEqual(parseClaudeModel('claude-opus-41'), { tier: 'opus', version: [4, 1], extras: 0 });
    assert.deepEqual(parseClaudeModel('Claude Opus 4.1'), { tier: 'opus', version: [4, 1], extras: 0 });
    assert.deepEqual(parseClaudeModel('copilot/claude-3.7-sonnet-thought'), { tier: 'sonnet', version: [3, 7], extras: 1 });
    assert.deepEqual(parseClaudeModel('anthropic/claude-haiku-4-5'), { tier: 'haiku', version: [4, 5], extras: 0 });
    assert.equal(parseClaudeModel('gpt-4o'), undefined);
    assert.equal(parseClaudeModel('claude-instant'), undefined);
    assert.equal(parseClaudeModel('sonnet-4'), undefined);
  });

  it('picks the newest of each tier; a variant only when nothing plainer has its version', () => {
    assert.equal(bestOfTier(copilot, 'opus'), 'copilot/claude-opus-41');
    assert.equal(bestOfTier(copilot, 'sonnet'), 'copilot/claude-sonnet-4.5');
    assert.equal(bestOfTier(copilot, 'haiku'), 'copilot/claude-haiku-4.5');
    const older = copilot.filter((model) => /3\.7/.test(model.id));
    assert.equal(bestOfTier(older, 'sonnet'), 'copilot/claude-3.7-sonnet');
    assert.equal(bestOfTier([...older].reverse(), 'sonnet'), 'copilot/claude-3.7-sonnet');
  });

  it('models of other windows come as ids only, VS Code ids included', () => {
    const ids: OfferedModel[] = [{ id: 'copilot/gpt-4o' }, { id: 'claude-sonnet-4' }, { id: 'anthropic/claude-opus-4-5-20251101' }];
    assert.equal(bestOfTier(ids, 'sonnet'), 'claude-sonnet-4');
    assert.equal(bestOfTier(ids, 'opus'), 'anthropic/claude-opus-4-5-20251101');
    // The name is the last resort, when family and id say nothing.
    assert.equal(bestOfTier([{ id: 'vendor/m1', family: 'm1', name: 'Claude Haiku 3' }], 'haiku'), 'vendor/m1');
  });

  it('a tier with no Claude model uses the selected model, and the message says so', () => {
    const models = copilot.filter((model) => model.id === 'copilot/gpt-4o' || model.id === 'copilot/claude-sonnet-4');
    const settings = build({ models, selectedModel: 'copilot/gpt-4o' });
    assert.deepEqual(settings.tiers, {
      opus: { model: 'copilot/gpt-4o', matched: false },
      sonnet: { model: 'copilot/claude-sonnet-4', matched: true },
      haiku: { model: 'copilot/gpt-4o', matched: false },
    });
    assert.equal(
      modelSummary(settings),
      'Model: copilot/gpt-4o; opus the same (no Claude opus model offered), sonnet copilot/claude-sonnet-4, haiku the same (no Claude haiku model offered).',
    );
  });
});

describe('Claude Code settings: formats and quoting', () => {
  const awkward: [string, string][] = [
    ['A_SPACE', 'my model (preview)'],
    ['A_SINGLE', "it's 'quoted'"],
    ['A_DOUBLE', 'say "hi" \\ back'],
    ['A_DOLLAR', '$HOME `id` $(id) ${PATH} !1'],
    ['A_SMART', 'Claude’s ‘model’ ‚x‛'],
    ['A_EMPTY', ''],
  ];

  it('shell: every value comes back byte for byte in bash and in POSIX sh', () => {
    const text = formatSettings({ env: awkward }, 'shell');
    assert.match(text, /^export A_SPACE='my model \(preview\)'$/m);
    assert.match(text, /^export A_SINGLE='it'\\''s '\\''quoted'\\'''$/m);
    for (const shell of ['bash', 'sh']) {
      assert.deepEqual(runShell(shell, text, awkward.map(([name]) => name)), Object.fromEntries(awkward), shell);
    }
    assert.equal(shellQuote("'"), "''\\'''");
  });

  it('PowerShell: verbatim strings, quotes doubled (typographic ones too), nothing else touched', () => {
    const text = formatSettings({ env: awkward }, 'powershell');
    assert.deepEqual(text.split('\n'), [
      "$env:A_SPACE = 'my model (preview)'",
      "$env:A_SINGLE = 'it''s ''quoted'''",
      "$env:A_DOUBLE = 'say \"hi\" \\ back'",
      "$env:A_DOLLAR = '$HOME `id` $(id) ${PATH} !1'",
      "$env:A_SMART = 'Claude’’s ‘‘model’’ ‚‚x‛‛'",
      "$env:A_EMPTY = ''",
      '',
    ]);
    assert.equal(powerShellQuote(KEY_PLACEHOLDER), `'${KEY_PLACEHOLDER}'`);
  });

  it('JSON: a settings.json object whose "env" holds every variable as a string, in order', () => {
    const text = formatSettings({ env: awkward }, 'json');
    const parsed = JSON.parse(text) as { env: Record<string, unknown> };
    assert.deepEqual(Object.keys(parsed), ['env']);
    assert.deepEqual(Object.entries(parsed.env), awkward);
    const real = build({ auth: withKeys });
    const env = (JSON.parse(formatSettings(real, 'json')) as { env: Record<string, unknown> }).env;
    assert.deepEqual(env, envOf(real));
    assert.ok(Object.values(env).every((value) => typeof value === 'string'));
    assert.ok(text.endsWith('}\n'));
  });

  it('says where each format goes', () => {
    assert.match(pasteHint('shell'), /bash or zsh.*~\/\.bashrc or ~\/\.zshrc/);
    assert.match(pasteHint('powershell'), /\$PROFILE/);
    assert.match(pasteHint('json'), /~\/\.claude\/settings\.json.*\.claude\/settings\.local\.json/);
  });
});
