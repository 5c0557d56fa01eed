/** Copy Gemini CLI Settings: the variables, the settings.json block, the compression threshold, the key. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';

import type { GatewayInput, OfferedModel } from '../../src/clientSettings';
import { KEY_PLACEHOLDER, OPEN_TOKEN } from '../../src/clientSettings';
import type { GeminiCliSettings } from '../../src/geminiCliSettings';
import {
  ASSUMED_CONTEXT_TOKENS,
  BASE_URL_VARIABLE,
  FALLBACK_THRESHOLD,
  KEY_VARIABLE,
  buildGeminiCliSettings,
  compressionThreshold,
  formatGeminiCliSettings,
  geminiCliKeyNote,
  geminiCliModelSummary,
  geminiCliPasteHint,
  settingsJson,
} from '../../src/geminiCliSettings';
import { runShell } from '../shellRun';

const open = { keys: 0, mode: 'open on loopback' };
const withKeys = { keys: 2, mode: 'keys' };

/** This window's models carry their input limits; another window's come as an id only. */
const models: OfferedModel[] = [
  { id: 'copilot/gpt-4o', family: 'gpt-4o', name: 'GPT-4o', maxInputTokens: 63_833 },
  { id: 'copilot/claude-sonnet-4.5', family: 'claude-sonnet-4.5', name: 'Claude Sonnet 4.5', maxInputTokens: 127_805 },
  { id: 'copilot/gemini-2.5-pro', family: 'gemini-2.5-pro', name: 'Gemini 2.5 Pro', maxInputTokens: 2_000_000 },
  { id: 'copilot/o3-mini' },
];

function build(input: Partial<GatewayInput>): GeminiCliSettings {
  const result = buildGeminiCliSettings({
    listen: '127.0.0.1:4000',
    models,
    selectedModel: 'copilot/gpt-4o',
    auth: open,
    ...input,
  });
  if (!result.ok) {
    assert.fail(result.reason);
  }
  return result.settings;
}

describe('Gemini CLI settings: settings.json', () => {
  it('the README block with the selected model and its threshold', () => {
    const settings = build({});
    assert.equal(
      formatGeminiCliSettings(settings, 'json'),
      [
        '{',
        '  "security": {',
        '    "auth": {',
        '      "selectedType": "gemini-api-key"',
        '    }',
        '  },',
        '  "model": {',
        '    "name": "copilot/gpt-4o",',
        '    "compressionThreshold": 0.03',
        '  },',
        '  "privacy": {',
        '    "usageStatisticsEnabled": false',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('has the keys and values of the README block that tests/integration/gemini-cli.test.mjs runs the CLI with, but the model and the threshold', () => {
    // tests/extension/run.sh names it (the checks may run on a copy of
    // extension/); else out/test/ → the repository's README.md.
    const readme = readFileSync(process.env.LITELLM_README ?? resolve(__dirname, '../../../README.md'), 'utf8');
    const section = readme.split(/^## /m).find((text) => text.startsWith('Use with Gemini CLI')) ?? '';
    const block = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(block !== undefined, 'README.md "Use with Gemini CLI" has a ```json block');
    const expected = JSON.parse(block) as { model: Record<string, unknown> };
    expected.model.name = 'copilot/claude-sonnet-4.5';
    expected.model.compressionThreshold = 0.06;
    assert.deepEqual(JSON.parse(formatGeminiCliSettings(build({ selectedModel: 'copilot/claude-sonnet-4.5' }), 'json')), expected);
    // And the shell block's variables, in the same order.
    const shell = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const names = [...shell.matchAll(/^export (\w+)=/gm)].map((match) => match[1]);
    assert.deepEqual(names, build({}).env.map(([name]) => name));
  });

  it('a model id with odd characters reads back as the id; the key is never in the block', () => {
    for (const model of ['say "hi"', 'C:\\m\\1', 'a\nb\u2028c', 'Modèle 模型 😀', '</script>']) {
      const parsed = JSON.parse(settingsJson({ model, compressionThreshold: 0.1 })) as { model: { name: string } };
      assert.equal(parsed.model.name, model);
    }
    for (const auth of [open, withKeys, null]) {
      const text = formatGeminiCliSettings(build({ auth }), 'json');
      assert.ok(!text.includes(OPEN_TOKEN) && !text.includes(KEY_PLACEHOLDER) && !text.includes('127.0.0.1'));
    }
  });

  it('no selected model: the first offered; no models at all, or a malformed address: refused with the reason', () => {
    assert.equal(build({ selectedModel: undefined }).model, 'copilot/gpt-4o');
    assert.equal(build({ selectedModel: '' }).model, 'copilot/gpt-4o');
    const none = buildGeminiCliSettings({ listen: '127.0.0.1:4000', models: [], selectedModel: undefined, auth: open });
    assert.equal(none.ok, false);
    assert.match((none as { reason: string }).reason, /no VS Code window offers a language model/);
    assert.deepEqual(buildGeminiCliSettings({ listen: '127.0.0.1', models, selectedModel: undefined, auth: open }), {
      ok: false,
      reason: 'the server\'s listen address "127.0.0.1" is not host:port',
    });
  });
});

describe('Gemini CLI settings: compression threshold', () => {
  it('half the model window, as a fraction of the 1,048,576 tokens the CLI assumes, rounded down to 3 decimals', () => {
    assert.equal(ASSUMED_CONTEXT_TOKENS, 1_048_576);
    // 0.5 × 63,833 / 1,048,576 = 0.030438… → 0.030
    assert.equal(compressionThreshold(63_833), 0.03);
    // 0.5 × 127,805 / 1,048,576 = 0.060942… → 0.060
    assert.equal(compressionThreshold(127_805), 0.06);
    // 0.5 × 200,000 / 1,048,576 = 0.095367… → 0.095
    assert.equal(compressionThreshold(200_000), 0.095);
    // 0.5 × 65,536 / 1,048,576 = 0.03125 → 0.031
    assert.equal(compressionThreshold(65_536), 0.031);
    assert.equal(compressionThreshold(524_288), 0.25);
  });

  it('never past half the real window, whatever the limit', () => {
    for (let limit = 4_000; limit <= ASSUMED_CONTEXT_TOKENS; limit += 997) {
      const threshold = compressionThreshold(limit);
      assert.ok(threshold * ASSUMED_CONTEXT_TOKENS <= limit / 2, `${limit}: ${threshold}`);
      assert.ok(threshold > 0, `${limit}: ${threshold}`);
      assert.equal(Math.round(threshold * 1000) / 1000, threshold, `${limit}: ${threshold} has more than 3 decimals`);
    }
  });

  it('a tiny window: 0.001, not 0 (which the CLI reads as unset); a window of 1 M or more: the CLI default 0.5', () => {
    assert.equal(compressionThreshold(1_000), 0.001);
    assert.equal(compressionThreshold(1), 0.001);
    assert.equal(compressionThreshold(ASSUMED_CONTEXT_TOKENS), 0.5);
    assert.equal(compressionThreshold(2_000_000), 0.5);
  });

  it('the window of the selected model when this window knows it, else the README value 0.1', () => {
    assert.equal(build({ selectedModel: 'copilot/claude-sonnet-4.5' }).compressionThreshold, 0.06);
    assert.equal(build({ selectedModel: 'copilot/claude-sonnet-4.5' }).maxInputTokens, 127_805);
    assert.equal(build({ selectedModel: 'copilot/gemini-2.5-pro' }).compressionThreshold, 0.5);
    const other = build({ selectedModel: 'copilot/o3-mini' });
    assert.equal(other.maxInputTokens, undefined);
    assert.equal(other.compressionThreshold, FALLBACK_THRESHOLD);
    assert.equal(FALLBACK_THRESHOLD, 0.1);
    // A model no window lists (the status's default): unknown too.
    assert.equal(build({ selectedModel: 'copilot/unlisted' }).compressionThreshold, 0.1);
    // A limit VS Code reports as 0 is no limit.
    const zero = build({ models: [{ id: 'm', maxInputTokens: 0 }], selectedModel: 'm' });
    assert.equal(zero.maxInputTokens, undefined);
    assert.equal(zero.compressionThreshold, 0.1);
  });

  it('the message says where the CLI compresses and why', () => {
    assert.equal(
      geminiCliModelSummary(build({})),
      'Model: copilot/gpt-4o; compressionThreshold 0.03 (Gemini CLI compresses the chat at about 31 k tokens, half of the model\'s 63,833).',
    );
    assert.equal(
      geminiCliModelSummary(build({ selectedModel: 'copilot/o3-mini' })),
      'Model: copilot/o3-mini; compressionThreshold 0.1 (Gemini CLI compresses the chat at about 105 k tokens; this window does not ' +
        'know the model\'s input token limit, so lower it if that is under 210 k).',
    );
  });
});

describe('Gemini CLI settings: the environment', () => {
  it('base URL without /v1beta, then the key; wildcards become loopback, IPv6 keeps its brackets', () => {
    assert.deepEqual(build({}).env, [
      [BASE_URL_VARIABLE, 'http://127.0.0.1:4000'],
      [KEY_VARIABLE, OPEN_TOKEN],
    ]);
    assert.equal(BASE_URL_VARIABLE, 'GOOGLE_GEMINI_BASE_URL');
    assert.equal(KEY_VARIABLE, 'GEMINI_API_KEY');
    assert.equal(build({ listen: '0.0.0.0:4000' }).baseUrl, 'http://127.0.0.1:4000');
    assert.equal(build({ listen: '[::]:8080' }).baseUrl, 'http://[::1]:8080');
    assert.equal(build({ listen: 'gateway.lan:4001', auth: withKeys }).baseUrl, 'http://gateway.lan:4001');
  });

  it('shell and PowerShell lines; bash and sh read the values back as written', () => {
    const settings = build({});
    assert.equal(
      formatGeminiCliSettings(settings, 'shell'),
      `export GOOGLE_GEMINI_BASE_URL='http://127.0.0.1:4000'\nexport GEMINI_API_KEY='${OPEN_TOKEN}'\n`,
    );
    assert.equal(
      formatGeminiCliSettings(settings, 'powershell'),
      `$env:GOOGLE_GEMINI_BASE_URL = 'http://127.0.0.1:4000'\n$env:GEMINI_API_KEY = '${OPEN_TOKEN}'\n`,
    );
    const placeholder = build({ auth: withKeys, listen: '[::]:8080' });
    for (const shell of ['bash', 'sh']) {
      assert.deepEqual(runShell(shell, formatGeminiCliSettings(placeholder, 'shell'), [BASE_URL_VARIABLE, KEY_VARIABLE]), {
        [BASE_URL_VARIABLE]: 'http://[::1]:8080',
        [KEY_VARIABLE]: KEY_PLACEHOLDER,
      });
    }
  });

  it('the key: a dummy on an open loopback gateway, else the placeholder and a note saying what to do', () => {
    assert.equal(build({}).keyState, 'open');
    assert.equal(geminiCliKeyNote('open'), undefined);
    assert.equal(build({ auth: withKeys }).keyState, 'needed');
    assert.match(geminiCliKeyNote('needed') ?? '', /replace the GEMINI_API_KEY placeholder.*litellmctl keys add NAME/);
    assert.equal(build({ listen: '192.168.1.20:4000' }).keyState, 'needed-none-exists');
    assert.match(geminiCliKeyNote('needed-none-exists') ?? '', /has none yet.*GEMINI_API_KEY placeholder/);
    assert.equal(build({ auth: null }).keyState, 'unknown');
    assert.deepEqual(build({ auth: null }).env[1], [KEY_VARIABLE, KEY_PLACEHOLDER]);
  });
});

describe('Gemini CLI settings: the message', () => {
  it('says where each format goes and that the other one is needed too', () => {
    assert.match(geminiCliPasteHint('json'), /~\/\.gemini\/settings\.json.*keeping your other settings.*GOOGLE_GEMINI_BASE_URL and GEMINI_API_KEY/);
    assert.match(geminiCliPasteHint('shell'), /Paste them into the bash or zsh terminal where you run gemini.*~\/\.bashrc.*settings\.json.*exits 41/);
    assert.match(geminiCliPasteHint('powershell'), /PowerShell session where you run gemini.*\$PROFILE.*settings\.json/);
  });
});
