/** Copy Codex Settings: the config.toml block, its TOML quoting, the key line, the address. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

import type { GatewayInput, OfferedModel } from '../../src/clientSettings';
import { KEY_PLACEHOLDER, OPEN_TOKEN } from '../../src/clientSettings';
import type { CodexSettings } from '../../src/codexSettings';
import {
  KEY_VARIABLE,
  PROVIDER_ID,
  buildCodexSettings,
  codexKeyNote,
  codexModelSummary,
  codexPasteHint,
  configToml,
  formatCodexSettings,
  tomlKey,
  tomlString,
} from '../../src/codexSettings';
import { runShell } from '../shellRun';

const open = { keys: 0, mode: 'open on loopback' };
const withKeys = { keys: 2, mode: 'keys' };

const models: OfferedModel[] = [
  { id: 'copilot/gpt-4o', family: 'gpt-4o', name: 'GPT-4o' },
  { id: 'copilot/claude-sonnet-4.5', family: 'claude-sonnet-4.5', name: 'Claude Sonnet 4.5' },
];

function build(input: Partial<GatewayInput>): CodexSettings {
  const result = buildCodexSettings({
    listen: '127.0.0.1:4000',
    models,
    selectedModel: 'copilot/claude-sonnet-4.5',
    auth: open,
    ...input,
  });
  if (!result.ok) {
    assert.fail(result.reason);
  }
  return result.settings;
}

/** Python's tomllib (3.11+), a TOML 1.0 parser, when there is one. */
const tomllib = spawnSync('python3', ['-c', 'import tomllib'], { stdio: 'ignore' }).status === 0;
const noTomllib = !tomllib && 'python3 with tomllib (3.11+) not found';

/** Each text as tomllib reads it (one python3 for all). */
function parseToml(texts: string[]): unknown[] {
  const script = 'import json, sys, tomllib; json.dump([tomllib.loads(t) for t in json.load(sys.stdin)], sys.stdout)';
  return JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify(texts), encoding: 'utf8' })) as unknown[];
}

describe('Codex settings: config.toml', () => {
  it('open loopback gateway: the README provider block with this address (/v1) and the selected model', () => {
    const settings = build({});
    assert.equal(settings.baseUrl, 'http://127.0.0.1:4000/v1');
    assert.equal(settings.model, 'copilot/claude-sonnet-4.5');
    assert.equal(
      formatCodexSettings(settings, 'toml'),
      [
        '# VSCode LiteLLM. model and model_provider are top-level keys: keep them above the first [table].',
        'model = "copilot/claude-sonnet-4.5"',
        'model_provider = "vscode-litellm"',
        '',
        '[model_providers.vscode-litellm]',
        'name = "VSCode LiteLLM"',
        'base_url = "http://127.0.0.1:4000/v1"',
        'env_key = "LITELLM_API_KEY"',
        'wire_api = "responses"',
        '',
      ].join('\n'),
    );
  });

  it('parses as TOML into the keys Codex reads', { skip: noTomllib }, () => {
    assert.deepEqual(parseToml([formatCodexSettings(build({ listen: '[::]:8080' }), 'toml')])[0], {
      model: 'copilot/claude-sonnet-4.5',
      model_provider: PROVIDER_ID,
      model_providers: {
        [PROVIDER_ID]: { name: 'VSCode LiteLLM', base_url: 'http://[::1]:8080/v1', env_key: KEY_VARIABLE, wire_api: 'responses' },
      },
    });
  });

  it('the address: wildcards become loopback, IPv6 keeps its brackets; a malformed one is refused', () => {
    assert.equal(build({ listen: '0.0.0.0:4000' }).baseUrl, 'http://127.0.0.1:4000/v1');
    assert.equal(build({ listen: '*:4002' }).baseUrl, 'http://127.0.0.1:4002/v1');
    assert.equal(build({ listen: '[::]:8080' }).baseUrl, 'http://[::1]:8080/v1');
    assert.equal(build({ listen: '[::1]:4000' }).baseUrl, 'http://[::1]:4000/v1');
    assert.equal(build({ listen: '[fd00::5]:4000', auth: withKeys }).baseUrl, 'http://[fd00::5]:4000/v1');
    assert.equal(build({ listen: 'gateway.lan:4001', auth: withKeys }).baseUrl, 'http://gateway.lan:4001/v1');
    assert.match(formatCodexSettings(build({ listen: '[::]:8080' }), 'toml'), /^base_url = "http:\/\/\[::1\]:8080\/v1"$/m);
    for (const listen of ['', '127.0.0.1', '::1:4000', '127.0.0.1:0']) {
      assert.deepEqual(buildCodexSettings({ listen, models, selectedModel: undefined, auth: open }), {
        ok: false,
        reason: `the server's listen address "${listen}" is not host:port`,
      });
    }
  });

  it('no selected model: the first offered; no models at all: refused with what to do', () => {
    assert.equal(build({ selectedModel: undefined }).model, 'copilot/gpt-4o');
    assert.equal(build({ selectedModel: '' }).model, 'copilot/gpt-4o');
    const none = buildCodexSettings({ listen: '127.0.0.1:4000', models: [], selectedModel: undefined, auth: open });
    assert.equal(none.ok, false);
    assert.match((none as { reason: string }).reason, /no VS Code window offers a language model/);
  });

  it('the key is never in config.toml: only the variable name, whatever the policy', () => {
    for (const auth of [open, withKeys, null]) {
      const text = formatCodexSettings(build({ auth }), 'toml');
      assert.ok(!text.includes(OPEN_TOKEN) && !text.includes(KEY_PLACEHOLDER));
      assert.match(text, /^env_key = "LITELLM_API_KEY"$/m);
    }
  });
});

describe('Codex settings: TOML quoting', () => {
  const odd: [string, string][] = [
    ['plain', '"plain"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['C:\\models\\m1', '"C:\\\\models\\\\m1"'],
    ["it's", '"it\'s"'],
    ['a\tb\nc\rd\be\ff', '"a\\tb\\nc\\rd\\be\\ff"'],
    ['nul\u0000 esc\u001b del\u007f c1\u0085', '"nul\\u0000 esc\\u001B del\\u007F c1\\u0085"'],
    ['#not a comment = [x]', '"#not a comment = [x]"'],
    ['${HOME} $(id) `id`', '"${HOME} $(id) `id`"'],
    ['Modèle “ü” 模型 😀', '"Modèle “ü” 模型 😀"'],
    ['lone \ud800 surrogate', '"lone \uFFFD surrogate"'],
    ['', '""'],
  ];

  it('basic strings: quotes and backslashes escaped, control characters as escapes, the rest as is', () => {
    for (const [value, quoted] of odd) {
      assert.equal(tomlString(value), quoted, JSON.stringify(value));
    }
  });

  it('a model id with odd characters is one TOML string that reads back as the id', { skip: noTomllib }, () => {
    const texts = odd.map(([value]) => configToml({ baseUrl: 'http://127.0.0.1:4000/v1', model: value }));
    const parsed = parseToml(texts) as { model: string }[];
    odd.forEach(([value], i) => {
      const expected = value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\uFFFD');
      assert.equal(parsed[i]?.model, expected, JSON.stringify(value));
    });
  });

  it('keys: bare when TOML allows, quoted otherwise', () => {
    assert.equal(tomlKey('vscode-litellm'), 'vscode-litellm');
    assert.equal(tomlKey('a_B-9'), 'a_B-9');
    assert.equal(tomlKey('my.provider'), '"my.provider"');
    assert.equal(tomlKey('two words'), '"two words"');
    assert.equal(tomlKey(''), '""');
  });
});

describe('Codex settings: the key variable', () => {
  it('open loopback gateway: a dummy value, since Codex will not start without one', () => {
    const settings = build({});
    assert.equal(settings.keyState, 'open');
    assert.equal(formatCodexSettings(settings, 'shell'), `export LITELLM_API_KEY='${OPEN_TOKEN}'\n`);
    assert.equal(formatCodexSettings(settings, 'powershell'), `$env:LITELLM_API_KEY = '${OPEN_TOKEN}'\n`);
    assert.equal(codexKeyNote('open', 'shell'), undefined);
    assert.match(codexKeyNote('open', 'toml') ?? '', /reads the key from LITELLM_API_KEY and will not start while it is unset/);
  });

  it('keys in use: the placeholder, read back as one word by bash and sh, and a note saying how to get a key', () => {
    const settings = build({ auth: withKeys });
    assert.equal(settings.keyState, 'needed');
    assert.deepEqual(settings.env, [[KEY_VARIABLE, KEY_PLACEHOLDER]]);
    assert.equal(KEY_PLACEHOLDER, '<your litellm key: litellmctl keys add NAME>');
    assert.equal(formatCodexSettings(settings, 'powershell'), `$env:LITELLM_API_KEY = '${KEY_PLACEHOLDER}'\n`);
    for (const shell of ['bash', 'sh']) {
      assert.equal(runShell(shell, formatCodexSettings(settings, 'shell'), [KEY_VARIABLE])[KEY_VARIABLE], KEY_PLACEHOLDER, shell);
    }
    assert.match(codexKeyNote('needed', 'shell') ?? '', /replace the LITELLM_API_KEY placeholder.*litellmctl keys add NAME/);
    assert.match(codexKeyNote('needed', 'toml') ?? '', /will not start while it is unset.*replace the LITELLM_API_KEY placeholder/);
  });

  it('no keys: open only on a loopback address and in the auto policy; unknown policy: the placeholder', () => {
    assert.equal(build({ listen: '0.0.0.0:4000' }).keyState, 'open');
    assert.equal(build({ listen: '[::]:4000' }).keyState, 'open');
    const lan = build({ listen: '192.168.1.20:4000' });
    assert.equal(lan.keyState, 'needed-none-exists');
    assert.deepEqual(lan.env, [[KEY_VARIABLE, KEY_PLACEHOLDER]]);
    assert.match(codexKeyNote('needed-none-exists', 'shell') ?? '', /has none yet.*LITELLM_API_KEY placeholder/);
    assert.equal(build({ auth: { keys: 0, mode: 'required' } }).keyState, 'needed-none-exists');
    const unknown = build({ auth: null });
    assert.equal(unknown.keyState, 'unknown');
    assert.deepEqual(unknown.env, [[KEY_VARIABLE, KEY_PLACEHOLDER]]);
    assert.match(codexKeyNote('unknown', 'powershell') ?? '', /did not say/);
  });
});

describe('Codex settings: the message', () => {
  it('says where each format goes', () => {
    assert.match(codexPasteHint('toml'), /~\/\.codex\/config\.toml.*\$CODEX_HOME.*above the file's first \[table\].*\[model_providers\.vscode-litellm\]/);
    assert.match(codexPasteHint('shell'), /Paste it into the bash or zsh terminal where you run codex.*~\/\.bashrc.*config\.toml/);
    assert.match(codexPasteHint('powershell'), /PowerShell session where you run codex.*\$PROFILE.*config\.toml/);
    assert.equal(codexModelSummary({ model: 'copilot/gpt-4o' }), 'Model: copilot/gpt-4o (Codex warns that it has no metadata for it and uses its defaults).');
  });
});
