import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ChatModelInfo } from '../../src/modelCatalog';
import { ModelCatalog, assignModelIds, capabilitiesOf } from '../../src/modelCatalog';

function model(id: string, vendor: string, family: string, maxInputTokens = 1000): ChatModelInfo {
  return { id, vendor, family, name: `${family} (${id})`, version: '1', maxInputTokens };
}

const gpt4o = model('copilot-gpt-4o', 'copilot', 'gpt-4o', 64000);
const claude = model('copilot-claude', 'copilot', 'claude-sonnet-4');
const llamaA = model('ollama-llama-8b', 'ollama', 'llama3');
const llamaB = model('ollama-llama-70b', 'ollama', 'llama3');

describe('model ids', () => {
  it('announces vendor/family, and the VS Code id for models sharing one', () => {
    const entries = assignModelIds([gpt4o, llamaA, claude, llamaB]).map((item) => item.entry);
    assert.deepEqual(
      entries.map((entry) => entry.id),
      ['copilot/gpt-4o', 'ollama-llama-8b', 'copilot/claude-sonnet-4', 'ollama-llama-70b'],
    );
    assert.deepEqual(entries[0], {
      id: 'copilot/gpt-4o',
      vendor: 'copilot',
      family: 'gpt-4o',
      name: 'gpt-4o (copilot-gpt-4o)',
      version: '1',
      max_input_tokens: 64000,
    });
  });

  it('never announces one id twice', () => {
    const twin = model('copilot-gpt-4o', 'other', 'x');
    const ids = assignModelIds([gpt4o, twin, model('dup', 'a', 'b'), model('dup', 'a', 'b')]).map((item) => item.entry.id);
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe('catalog', () => {
  it('defaults to the first model', () => {
    const catalog = new ModelCatalog<ChatModelInfo>();
    catalog.update([gpt4o, claude]);
    assert.equal(catalog.defaultModel, gpt4o);
    assert.deepEqual(catalog.announcement().default_model, 'copilot/gpt-4o');
  });

  it('prefers the picked model, then the setting (id, VS Code id or family)', () => {
    const catalog = new ModelCatalog<ChatModelInfo>();
    catalog.update([gpt4o, claude, llamaA, llamaB], { selectedModelId: 'copilot-claude', configuredDefault: 'gpt-4o' });
    assert.equal(catalog.defaultModel, claude);
    catalog.update([gpt4o, claude], { selectedModelId: 'vanished', configuredDefault: 'claude-sonnet-4' });
    assert.equal(catalog.defaultModel, claude);
    catalog.update([gpt4o, claude], { configuredDefault: 'copilot/claude-sonnet-4' });
    assert.equal(catalog.defaultModel, claude);
    catalog.update([gpt4o, llamaA, llamaB], { configuredDefault: 'ollama-llama-70b' });
    assert.equal(catalog.defaultModel, llamaB);
    catalog.update([gpt4o, claude], { configuredDefault: 'unknown' });
    assert.equal(catalog.defaultModel, gpt4o);
  });

  it('resolves announced ids and VS Code ids', () => {
    const catalog = new ModelCatalog<ChatModelInfo>();
    catalog.update([gpt4o, llamaA, llamaB]);
    assert.equal(catalog.resolve('copilot/gpt-4o'), gpt4o);
    assert.equal(catalog.resolve('copilot-gpt-4o'), gpt4o);
    assert.equal(catalog.resolve('ollama-llama-70b'), llamaB);
    assert.equal(catalog.resolve('ollama/llama3'), undefined);
    assert.equal(catalog.entryOf(llamaA)?.id, 'ollama-llama-8b');
  });

  it('announces nothing when VS Code offers no model', () => {
    const catalog = new ModelCatalog<ChatModelInfo>();
    catalog.update([]);
    assert.deepEqual(catalog.announcement(), { models: [], default_model: null });
    assert.equal(catalog.defaultModel, undefined);
  });
});

describe('capabilities', () => {
  it('announces capabilities from the run-time LanguageModelChat.capabilities', () => {
    const vision = { ...gpt4o, capabilities: { supportsImageToText: true, supportsToolCalling: true } };
    const textOnly = { ...claude, capabilities: { supportsImageToText: false, supportsToolCalling: true, editToolsHint: [] } };
    const catalog = new ModelCatalog<ChatModelInfo>();
    catalog.update([vision, textOnly]);
    assert.deepEqual(catalog.entries.map((entry) => entry.capabilities), [
      { image_input: true, tool_calling: true },
      { image_input: false, tool_calling: true },
    ]);
    assert.deepEqual(catalog.announcement().models[0], {
      id: 'copilot/gpt-4o',
      vendor: 'copilot',
      family: 'gpt-4o',
      name: 'gpt-4o (copilot-gpt-4o)',
      version: '1',
      max_input_tokens: 64000,
      capabilities: { image_input: true, tool_calling: true },
    });
  });

  it('leaves capabilities out when VS Code does not have them (feature detection)', () => {
    const [entry] = assignModelIds([gpt4o]).map((item) => item.entry);
    assert.ok(entry);
    assert.equal('capabilities' in entry, false, 'no capabilities key at all');
    assert.equal(JSON.stringify(entry).includes('capabilities'), false);
    for (const capabilities of [undefined, null, 'yes', {}, { supportsImageToText: 'yes', supportsToolCalling: 1 }]) {
      assert.equal(capabilitiesOf({ ...gpt4o, capabilities }), undefined, JSON.stringify(capabilities));
    }
  });

  it('keeps only the fields VS Code reports as booleans', () => {
    assert.deepEqual(capabilitiesOf({ ...gpt4o, capabilities: { supportsToolCalling: false } }), { tool_calling: false });
    assert.deepEqual(capabilitiesOf({ ...gpt4o, capabilities: { supportsImageToText: true } }), { image_input: true });
  });

  it('reads capabilities through a getter, as VS Code model objects have it, and survives one that throws', () => {
    const withGetter = {
      ...gpt4o,
      get capabilities() {
        return { supportsImageToText: true, supportsToolCalling: false };
      },
    };
    assert.deepEqual(capabilitiesOf(withGetter), { image_input: true, tool_calling: false });
    const throwing = {
      ...gpt4o,
      get capabilities(): unknown {
        throw new Error('proposed API not enabled');
      },
    };
    assert.equal(capabilitiesOf(throwing), undefined);
    assert.equal(assignModelIds([throwing])[0]?.entry.capabilities, undefined);
  });
});
