// The Responses API's compatibility table (tests/spec/RESPONSES-COMPATIBILITY.md,
// carried verbatim by the README's "Compatibility with the Responses API"),
// checked as compat-matrix.test.mjs checks the chat table: one row for every
// parameter of OpenAI's CreateResponse (the vendored document) and no other;
// each row's status is one of the five; and each row against the running
// gateway: the accepted values answer 200 (a Response, validated against the
// document), the refused ones 400 invalid_request_error whose `param` names
// the parameter. Every row marked refused has refused samples.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { useStack, postChat, openAiError, repoReadme } from './harness.mjs';
import { load } from '../spec/openapi.mjs';
import { compatibilityRows } from '../lib/compat-table.mjs';

const stack = useStack({ before, after });

const TABLE_FILE = new URL('../spec/RESPONSES-COMPATIBILITY.md', import.meta.url);
const STATUSES = ['supported', 'best effort', 'passed on', 'ignored', 'refused'];
const FN = { type: 'function', name: 'f', description: 'a tool', parameters: { type: 'object', properties: {} } };


/** For each parameter: values the gateway accepts (200) and refuses (400 naming it); extra: fields a sample needs. */
const SAMPLES = {
  input: {
    ok: ['hi', [{ role: 'user', content: 'hi' }],
      [{ type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'rules' }] }, { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
      [{ type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAAAA' }, { role: 'user', content: 'hi' }],
      [{ role: 'user', content: 'call' }, { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' }, { type: 'function_call_output', call_id: 'c1', output: 'done' }],
      [{ role: 'user', content: 'call' }, { type: 'custom_tool_call', call_id: 'c2', name: 'f', input: 'x' }, { type: 'custom_tool_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'done' }] }],
      [{ type: 'additional_tools', tools: [FN] }, { role: 'user', content: 'hi' }],
      [{ type: 'some_future_item' }, { role: 'user', content: 'hi' }]],
    bad: [[{ role: 'user', content: [{ type: 'input_file', file_data: 'data:application/pdf;base64,AAAA', filename: 'a.pdf' }] }],
      [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://images.invalid/a.png' }] }],
      [{ role: 'tool', content: 'x' }],
      [{ type: 'reasoning', id: 'rs_1', summary: [] }]],
  },
  instructions: { ok: ['be brief'], bad: [42] },
  model: { ok: ['gpt-4o', 'test/gpt-4o', 'gpt-4o-2024-08-06', 'default'] },
  stream: { ok: [true, false], bad: ['yes'] },
  stream_options: { ok: [{ include_obfuscation: false }], extra: { stream: true } },
  tools: {
    ok: [[FN], [{ type: 'custom', name: 'c', description: 'free text' }], [{ type: 'namespace', name: 'ns', description: '', tools: [FN] }], [{ type: 'web_search' }, FN]],
    bad: [[{ type: 'function' }], [{ type: 'namespace', name: 'ns', tools: [{ type: 'web_search' }] }]],
  },
  tool_choice: {
    ok: ['none', 'auto', 'required', { type: 'function', name: 'f' }, { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'f' }] }],
    bad: ['sometimes', { type: 'function', name: 'not_given' }, { type: 'web_search_preview' }],
    extra: { tools: [FN] },
  },
  parallel_tool_calls: { ok: [true, false], bad: ['no'], extra: { tools: [FN] } },
  max_output_tokens: { ok: [64], bad: [0, 1.5] },
  max_tool_calls: { ok: [3] },
  temperature: { ok: [0, 1.5], bad: [2.5] },
  top_p: { ok: [0.5], bad: [1.5] },
  top_logprobs: { ok: [3] },
  text: {
    ok: [{ format: { type: 'text' } }, { verbosity: 'low' }, { format: { type: 'json_object' } }, { format: { type: 'json_schema', name: 'x', schema: { type: 'object' } } }],
    bad: [{ format: { type: 'yaml' } }, { format: { type: 'json_schema', name: 'x' } }],
  },
  reasoning: { ok: [{ effort: 'low', summary: 'auto' }] },
  include: { ok: [['reasoning.encrypted_content']] },
  metadata: { ok: [{ purpose: 'test' }], bad: [{ n: 1 }] },
  store: { ok: [true, false] },
  previous_response_id: { ok: [null], bad: ['resp_123'] },
  conversation: { ok: [null], bad: ['conv_123', { id: 'conv_123' }] },
  background: { ok: [false], bad: [true] },
  prompt: { ok: [null], bad: [{ id: 'pmpt_123' }] },
  context_management: { ok: [[{ type: 'compaction', compact_threshold: 1000 }]] },
  truncation: { ok: ['auto', 'disabled'] },
  service_tier: { ok: ['auto', 'flex'] },
  moderation: { ok: [null] },
  user: { ok: ['user-1'] },
  safety_identifier: { ok: ['sid-1'] },
  prompt_cache_key: { ok: ['cache-1'] },
  prompt_cache_retention: { ok: ['in-memory', '24h'] },
  prompt_cache_options: { ok: [{}] },
};

const compatibilityTable = () => compatibilityRows(TABLE_FILE);

test('RESPONSES-COMPATIBILITY.md has one row for every parameter of OpenAI\'s CreateResponse, and no other', async () => {
  const parameters = (await load()).responsesRequestParameters.map((p) => p.name).sort();
  assert.ok(parameters.length >= 30, `CreateResponse has its parameters: ${parameters}`);
  const rows = compatibilityTable();
  assert.deepEqual([...rows.keys()].sort(), parameters);
  for (const [name, row] of rows) assert.ok(STATUSES.includes(row.status), `${name}: status "${row.status}" is one of ${STATUSES.join(', ')}`);
  assert.deepEqual(Object.keys(SAMPLES).sort(), parameters, 'this test has samples for every parameter');
});

test('README.md carries the Responses compatibility table, row by row, in its section', () => {
  const readme = fs.readFileSync(repoReadme, 'utf8');
  const section = readme.split(/^#+ /m).find((s) => s.startsWith('Compatibility with the Responses API'));
  assert.ok(section, 'README.md has a section "Compatibility with the Responses API"');
  for (const { line } of compatibilityTable().values()) assert.ok(section.includes(line), `the README's table lacks the row:\n${line}`);
});

for (const [name, { ok = [], bad = [], extra = {} }] of Object.entries(SAMPLES)) {
  test(`Responses compatibility row ${name}: accepted values → 200${bad.length ? ', refused values → 400 naming it' : ''}`, async () => {
    const row = compatibilityTable().get(name);
    assert.ok(row, `RESPONSES-COMPATIBILITY.md has a row for ${name}`);
    if (row.status === 'refused') assert.ok(bad.length, `a refused parameter (${name}) has refused samples`);
    const body = (value) => ({ model: 'gpt-4o', input: `param ${name}`, ...extra, [name]: value });
    for (const value of ok) {
      const response = await postChat(stack.port, body(value), { path: '/v1/responses' });
      assert.equal(response.status, 200, `${name}: ${JSON.stringify(value)} → ${response.text}`);
    }
    for (const value of bad) {
      const error = openAiError(assert, await postChat(stack.port, body(value), { path: '/v1/responses' }), 400);
      assert.equal(error.type, 'invalid_request_error');
      assert.ok(String(error.param).startsWith(name), `${name}: ${JSON.stringify(value)} → param ${error.param}: ${error.message}`);
    }
  });
}
