// The Messages compatibility table (tests/spec/MESSAGES-COMPATIBILITY.md, the
// README's "Compatibility with the Messages API") checked against the pinned
// SDK's request type and, row by row, against the running gateway; and the
// behaviours its rows promise that a status code alone does not show.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { loadAnthropic } from '../spec/anthropic.mjs';
import { useStack, httpRequest, openStream, nonce, repoReadme } from './harness.mjs';
import { compatibilityRows } from '../lib/compat-table.mjs';

// claude-3.5-sonnet takes images, gpt-4o does not.
const stack = useStack({ before, after }, { workerArgs: ['--image-input', 'claude-3.5-sonnet'] });

const TABLE_FILE = new URL('../spec/MESSAGES-COMPATIBILITY.md', import.meta.url);
const SDK_TYPES = new URL('../node_modules/@anthropic-ai/sdk/resources/messages/messages.d.ts', import.meta.url);
const STATUSES = ['supported', 'best effort', 'passed on', 'ignored', 'refused'];
/** Rows for fields of earlier API versions that clients still send (not in the SDK 1.17.0 types). */
const EARLIER_FIELDS = ['temperature', 'top_p', 'top_k', 'context_management'];

const compatibilityTable = () => compatibilityRows(TABLE_FILE);

/** The fields of `interface MessageCreateParamsBase` in the installed SDK's types. */
function sdkRequestFields() {
  const text = fs.readFileSync(SDK_TYPES, 'utf8');
  const start = text.indexOf('export interface MessageCreateParamsBase {');
  assert.ok(start >= 0, 'the SDK types have MessageCreateParamsBase');
  const body = text.slice(start, text.indexOf('\n}', start)).replace(/\/\*\*[\s\S]*?\*\//g, '');
  return [...body.matchAll(/^ {4}([a-z_]+)\??:/gm)].map((m) => m[1]);
}

test('the schema\'s request fields are the SDK\'s MessageCreateParamsBase; the table has a row for each and the earlier fields, no other', () => {
  const sdk = sdkRequestFields().sort();
  assert.ok(sdk.length > 10, `parsed the SDK's fields: ${sdk}`);
  assert.deepEqual([...loadAnthropic().requestParameters].sort(), sdk, 'anthropic-messages.schema.json MessageCreateParams');
  const rows = compatibilityTable();
  assert.deepEqual([...rows.keys()].sort(), [...sdk, ...EARLIER_FIELDS].sort());
  for (const [name, row] of rows) assert.ok(STATUSES.includes(row.status), `${name}: status "${row.status}" is one of ${STATUSES.join(', ')}`);
  assert.deepEqual(Object.keys(SAMPLES).sort(), [...rows.keys()].sort(), 'this test has samples for every row');
});

test('README.md carries the Messages compatibility table, row by row', () => {
  const readme = fs.readFileSync(repoReadme, 'utf8');
  const rows = fs.readFileSync(TABLE_FILE, 'utf8').split('\n').filter((line) => line.startsWith('| `'));
  assert.ok(rows.length > 20, 'the table has a row per field');
  for (const row of rows) assert.ok(readme.includes(row), `README.md lacks the row:\n${row}`);
  assert.ok(readme.includes('### Compatibility with the Messages API'), 'under its heading');
});

const TOOL = { name: 'f', description: 'a tool', input_schema: { type: 'object', properties: {} } };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** For each field: values the gateway accepts (200) and values it refuses (400 naming it); extra: fields a sample needs. */
const SAMPLES = {
  model: { ok: ['gpt-4o', 'test/gpt-4o', 'gpt-4o-2024-08-06', 'default'] },
  max_tokens: { ok: [1, 64], bad: [0, 1.5, '64'] },
  messages: {
    ok: [
      [{ role: 'user', content: 'hi' }],
      [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] }, { role: 'system', content: 'a system turn' }],
      [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 's' }, { type: 'text', text: 'a' }] }, { role: 'user', content: 'hi' }],
    ],
    bad: [
      [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }] }],
      [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] }],
      [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'file_1' } }] }],
    ],
  },
  system: { ok: ['be terse', [{ type: 'text', text: 'x-anthropic-billing-header: cc_version=1' }, { type: 'text', text: 'be terse', cache_control: { type: 'ephemeral' } }]], bad: [[{ type: 'image' }]] },
  stop_sequences: { ok: [['zzz'], []], bad: [['a', 1], Array.from({ length: 17 }, (_, i) => `s${i}`)] },
  stream: { ok: [true, false], bad: ['yes'] },
  tools: { ok: [[TOOL], [TOOL, { type: 'web_search_20250305', name: 'web_search', max_uses: 1 }]], bad: [[{ description: 'no name', input_schema: {} }]] },
  tool_choice: {
    ok: [{ type: 'auto' }, { type: 'any' }, { type: 'tool', name: 'f' }, { type: 'none' }, { type: 'auto', disable_parallel_tool_use: true }],
    bad: [{ type: 'tool', name: 'g' }, { type: 'required' }],
    extra: { tools: [TOOL] },
  },
  temperature: { ok: [0, 1], bad: [1.5] },
  top_p: { ok: [0.5], bad: [2] },
  top_k: { ok: [40], bad: [-1, 1.5] },
  metadata: { ok: [{ user_id: '{"device_id":"d"}' }] },
  thinking: { ok: [{ type: 'enabled', budget_tokens: 1024 }, { type: 'adaptive', display: 'omitted' }, { type: 'disabled' }] },
  output_config: { ok: [{ effort: 'medium' }, { format: { type: 'json_schema', schema: { type: 'object' } } }] },
  context_management: { ok: [{ edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] }] },
  cache_control: { ok: [{ type: 'ephemeral' }] },
  container: { ok: ['container_1'] },
  diagnostics: { ok: [{}] },
  inference_geo: { ok: ['us'] },
  service_tier: { ok: ['auto', 'standard_only'] },
  speed: { ok: ['standard'] },
  user_profile_id: { ok: ['up_1'] },
  workspace_id: { ok: ['wrk_1'] },
};

const HEADERS = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
const post = (body, urlPath = '/v1/messages') => httpRequest(stack.port, { method: 'POST', path: urlPath, headers: HEADERS, body: JSON.stringify(body) });

for (const [name, { ok = [], bad = [], extra = {} }] of Object.entries(SAMPLES)) {
  test(`Messages compatibility row ${name}: accepted values → 200${bad.length ? ', refused values → 400 naming it' : ''}`, async () => {
    const row = compatibilityTable().get(name);
    assert.ok(row, `the table has a row for ${name}`);
    if (row.status === 'refused') assert.ok(bad.length, `a refused field (${name}) has refused samples`);
    for (const value of ok) {
      const body = { model: 'gpt-4o', max_tokens: 64, messages: [{ role: 'user', content: `param ${name}` }], ...extra, [name]: value };
      const response = await post(body);
      assert.equal(response.status, 200, `${name}: ${JSON.stringify(value)} → ${response.text}`);
    }
    for (const value of bad) {
      const body = { model: 'gpt-4o', max_tokens: 64, messages: [{ role: 'user', content: `param ${name}` }], ...extra, [name]: value };
      const response = await post(body);
      assert.equal(response.status, 400, `${name}: ${JSON.stringify(value).slice(0, 200)} → ${response.status} ${response.text}`);
      assert.equal(response.json.error.type, 'invalid_request_error');
      assert.ok(response.json.error.message.startsWith(name), `${name}: the message names it: ${response.json.error.message}`);
    }
  });
}

// ---------------------------------------------------------------- what the rows promise

const ask = (content, more = {}) => ({ model: 'gpt-4o', max_tokens: 256, messages: [{ role: 'user', content }], ...more });

test('max_tokens: required; the reply cut at the limit with stop_reason max_tokens, stream or not', async () => {
  const missing = await post({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(missing.status, 400);
  assert.match(missing.json.error.message, /^max_tokens/);
  const cut = await post(ask('[[chunks:40]]', { max_tokens: 3 }));
  assert.equal(cut.status, 200, cut.text);
  assert.equal(cut.json.stop_reason, 'max_tokens');
  assert.ok(cut.json.content[0].text.length <= 12, `at most 3 tokens of 4 bytes: ${JSON.stringify(cut.json.content[0].text)}`);
  const stream = await openStream(stack.port, ask('[[chunks:40]]', { max_tokens: 3, stream: true }), { path: '/v1/messages', headers: HEADERS });
  assert.match(await stream.readToEnd(), /"stop_reason":\s*"max_tokens"/);
});

test('stop_sequences: cut before the match, stop_reason stop_sequence naming it, even split across deltas', async () => {
  const body = ask('[[deltas:["one two ST","OP three"]]]', { stop_sequences: ['nothing', 'STOP'] });
  const plain = await post(body);
  assert.equal(plain.status, 200, plain.text);
  assert.equal(plain.json.content[0].text, 'one two ');
  assert.equal(plain.json.stop_reason, 'stop_sequence');
  assert.equal(plain.json.stop_sequence, 'STOP');
  const stream = await openStream(stack.port, { ...body, stream: true }, { path: '/v1/messages', headers: HEADERS });
  const text = await stream.readToEnd();
  assert.match(text, /"stop_sequence":\s*"STOP"/);
  assert.doesNotMatch(text, /three/);
});

test('messages: thinking not sent, a mid-conversation system turn in place, server tools skipped, unpaired tool calls repaired', async () => {
  const marker = nonce('mcompat');
  const response = await post({
    model: 'gpt-4o',
    max_tokens: 256,
    system: [{ type: 'text', text: 'the system prompt' }],
    tools: [TOOL, { type: 'web_search_20250305', name: 'web_search', max_uses: 1 }],
    messages: [
      { role: 'user', content: 'first' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'SECRET-THOUGHT', signature: 'sig' }, { type: 'tool_use', id: 'toolu_unanswered', name: 'f', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_orphan', content: 'orphan result' }, { type: 'text', text: marker }] },
      { role: 'system', content: 'a later system turn' },
    ],
  });
  assert.equal(response.status, 200, response.text);
  const frame = await stack.worker.waitEvent((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker), 'the request frame');
  const text = JSON.stringify(frame.messages);
  assert.doesNotMatch(text, /SECRET-THOUGHT/, 'thinking blocks are not sent to the model');
  assert.equal(frame.messages[0].role, 'system', 'the system prompt first');
  assert.equal(frame.messages.at(-1).role, 'system', 'the system turn where it stood');
  assert.deepEqual(frame.tools.map((t) => t.function.name), ['f'], 'the server tool was skipped');
  const answered = frame.messages.find((m) => m.role === 'tool' && m.tool_call_id === 'toolu_unanswered');
  assert.ok(answered, `the unanswered tool_use got a placeholder result: ${text}`);
  assert.match(text, /orphan result/, 'the orphan tool_result still reaches the model, as text');
  await stack.responderIdle();
  assert.match(stack.logText(), /toolu_unanswered/, 'the repair is logged');
});

test('an image goes to a model with image input, and is refused for one without, as in chat', async () => {
  const image = (model, marker) => ({
    model, max_tokens: 64,
    messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }, { type: 'text', text: `[[images]] ${marker}` }] }],
  });
  const marker = nonce('mimg');
  const seen = await post(image('claude-3.5-sonnet', marker));
  assert.equal(seen.status, 200, seen.text);
  assert.equal(seen.json.content[0].text, 'images: 1 image/png', 'the model got the image as an image part');
  const refused = await post(image('gpt-4o', nonce('mimg')));
  assert.equal(refused.status, 400, `a model without image input: ${refused.status} ${refused.text}`);
  assert.equal(refused.json.error.type, 'invalid_request_error');
  assert.match(refused.json.error.message, /test\/gpt-4o.*does not accept images/);
  assert.equal(refused.headers['x-should-retry'], 'false');
});
