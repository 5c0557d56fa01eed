// The Gemini API's compatibility table (README.md, "Gemini API", "Field by
// field"), checked as compat-responses.test.mjs checks the Responses table:
// every row has a status of the five and samples here, every sample a row;
// and each row against the running gateway through real nginx: its accepted
// values answer 200 (a GenerateContentResponse, validated by the spec guard)
// and the model gets what the row says (the test worker's request frame, or
// the reply when the gateway enforces the field), its refused values answer
// 400 INVALID_ARGUMENT whose message names the field.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { useStack, postChat, nonce, repoReadme } from './harness.mjs';

const stack = useStack({ before, after });

const STATUSES = ['supported', 'enforced', 'best effort', 'ignored', 'refused'];
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const F = { name: 'f', description: 'a tool', parameters: { type: 'OBJECT', properties: { q: { type: 'STRING' } } } };
const G = { name: 'g', description: 'another tool' };

const user = (...parts) => ({ role: 'user', parts });
const model = (...parts) => ({ role: 'model', parts });
/** A request whose last user turn carries the marker `m` (the worker's request frame is found by it). */
const ask = (m, patch = {}, earlier = []) => ({ contents: [...earlier, user({ text: m })], ...patch });
const config = (generationConfig) => (m) => ask(m, { generationConfig });
const withTools = (tools, extra = {}) => (m) => ask(m, { tools, ...extra });
/** A model turn that called f, answered by a turn of `role`. */
const callRoundTrip = (role = 'user') => (m) => ({
  contents: [user({ text: 'call f' }), model({ functionCall: { name: 'f', args: { q: 'x' } } }),
    { role, parts: [{ functionResponse: { name: 'f', response: { output: 'done' } } }, { text: m }] }],
});

const texts = (request) => request.messages.map((message) => JSON.stringify(message.content ?? '')).join('\n');
const toolNames = (request) => (request.tools ?? []).map((tool) => tool.function.name);
const textOf = (content) => (typeof content === 'string' ? content : content.map((part) => part.text).join(''));
const replyOf = (json) => json.candidates[0];
const assistant = (request) => request.messages.filter((message) => message.role === 'assistant');

/**
 * For each row: ok, requests (a function of the marker) the gateway takes,
 * each with `check(request frame, reply)`: what the model got or the reply;
 * bad, [request, the field its 400 names].
 */
const SAMPLES = {
  'contents[].role: user': { ok: [[(m) => ask(m), (r) => assert.equal(r.messages.at(-1).role, 'user')]] },
  'contents[].role: model': {
    ok: [[(m) => ask(m, {}, [user({ text: 'hi' }), model({ text: 'an earlier answer' })]),
      (r) => assert.equal(assistant(r)[0].content, 'an earlier answer')]],
  },
  'contents[].role: function': {
    ok: [[callRoundTrip('function'), (r) => assert.equal(r.messages.find((x) => x.role === 'tool')?.content, 'done')]],
  },
  'contents[].role (any other)': { bad: [[(m) => ({ contents: [{ role: 'system', parts: [{ text: m }] }] }), 'contents[0]']] },
  'parts[].text': {
    ok: [[(m) => ({ contents: [user({ text: 'two ' }, { text: m })] }), (r, reply, m) => assert.equal(textOf(r.messages.at(-1).content), `two ${m}`)]],
    bad: [[() => ({ contents: [user({ text: 42 })] }), 'contents[0].parts[0]']],
  },
  'parts[].inlineData': {
    ok: [[(m) => ({ contents: [user({ inlineData: { mimeType: 'image/png', data: PNG } }, { text: `${m} [[images]]` })] }),
      (r, reply) => assert.equal(replyOf(reply).content.parts[0].text, 'images: 1 image/png')]],
    bad: [[() => ({ contents: [user({ inlineData: { mimeType: 'application/pdf', data: 'AAAA' } })] }), 'contents[0].parts[0]'],
      [(m) => ask(m, {}, [user({ text: 'hi' }), model({ inlineData: { mimeType: 'image/png', data: PNG } })]), 'contents[1].parts[0]']],
  },
  'parts[].fileData': { bad: [[() => ({ contents: [user({ fileData: { mimeType: 'image/png', fileUri: 'https://files.invalid/a.png' } })] }), 'contents[0].parts[0]']] },
  'parts[].functionCall': {
    ok: [[callRoundTrip(), (r) => assert.deepEqual(assistant(r)[0].tool_calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)]), [['f', { q: 'x' }]])]],
    bad: [[() => ({ contents: [user({ functionCall: { name: 'f', args: {} } })] }), 'contents[0].parts[0]']],
  },
  'parts[].functionResponse': {
    ok: [[callRoundTrip(), (r) => {
      const result = r.messages.find((x) => x.role === 'tool');
      assert.equal(result.content, 'done');
      assert.equal(result.tool_call_id, assistant(r)[0].tool_calls[0].id);
    }]],
    bad: [[(m) => ask(m, {}, [user({ text: 'hi' }), model({ functionResponse: { name: 'f', response: {} } })]), 'contents[1].parts[0]']],
  },
  'parts[].thought': {
    ok: [[(m) => ask(m, {}, [user({ text: 'hi' }), model({ text: 'secret reasoning', thought: true }, { text: 'the answer' })]),
      (r) => { assert.ok(!texts(r).includes('secret reasoning')); assert.equal(assistant(r)[0].content, 'the answer'); }]],
    bad: [[(m) => ({ contents: [user({ text: m, thought: 'yes' })] }), 'contents[0].parts[0]']],
  },
  'parts[].thoughtSignature': {
    ok: [[(m) => ask(m, {}, [user({ text: 'hi' }), model({ text: 'the answer', thoughtSignature: 'c2lnbmF0dXJl' })]),
      (r) => { assert.equal(assistant(r)[0].content, 'the answer'); assert.ok(!JSON.stringify(r.messages).includes('c2lnbmF0dXJl')); }]],
  },
  'parts[].executableCode': {
    ok: [[(m) => ask(m, {}, [user({ text: 'hi' }), model({ executableCode: { language: 'PYTHON', code: 'print(6*7)' } }, { text: 'the answer' })]),
      (r) => { assert.ok(!texts(r).includes('print(6*7)')); assert.equal(assistant(r)[0].content, 'the answer'); }]],
  },
  'parts[].codeExecutionResult': {
    ok: [[(m) => ask(m, {}, [user({ text: 'hi' }), model({ codeExecutionResult: { outcome: 'OUTCOME_OK', output: 'forty-two' } }, { text: 'the answer' })]),
      (r) => assert.ok(!texts(r).includes('forty-two'))]],
  },
  'parts[].videoMetadata': {
    ok: [[(m) => ({ contents: [user({ videoMetadata: { startOffset: '1s' } }, { text: m })] }),
      (r) => assert.ok(!JSON.stringify(r.messages).includes('startOffset'))]],
  },
  systemInstruction: {
    ok: [[(m) => ask(m, { systemInstruction: 'be brief' }), (r) => assert.deepEqual(r.messages[0], { role: 'system', content: 'be brief' })],
      [(m) => ask(m, { systemInstruction: { parts: [{ text: 'one' }, { text: 'two' }] } }), (r) => assert.deepEqual(r.messages[0], { role: 'system', content: 'one\n\ntwo' })]],
    bad: [[(m) => ask(m, { systemInstruction: 42 }), 'systemInstruction']],
  },
  'tools[].functionDeclarations': {
    ok: [[withTools([{ functionDeclarations: [F, G] }]), (r) => assert.deepEqual(toolNames(r), ['f', 'g'])]],
    bad: [[withTools([{ functionDeclarations: [{ description: 'no name' }] }]), 'tools[0].functionDeclarations[0]']],
  },
  'functionDeclarations[].parameters': {
    ok: [[withTools([{ functionDeclarations: [F] }]),
      (r) => assert.deepEqual(r.tools[0].function.parameters, { type: 'object', properties: { q: { type: 'string' } } })]],
    bad: [[withTools([{ functionDeclarations: [{ name: 'f', parameters: 'OBJECT' }] }]), 'tools[0].functionDeclarations[0]']],
  },
  'functionDeclarations[].parametersJsonSchema': {
    ok: [[withTools([{ functionDeclarations: [{ name: 'f', parametersJsonSchema: { type: 'object', properties: { q: { type: 'string', pattern: '^A' } } } }] }]),
      (r) => assert.deepEqual(r.tools[0].function.parameters, { type: 'object', properties: { q: { type: 'string', pattern: '^A' } } })]],
    bad: [[withTools([{ functionDeclarations: [{ name: 'f', parametersJsonSchema: [] }] }]), 'tools[0].functionDeclarations[0]']],
  },
  'tools[].googleSearch': {
    ok: [[withTools([{ googleSearch: {} }]), (r) => assert.equal(r.tools, null)],
      [withTools([{ googleSearch: {} }, { functionDeclarations: [F] }]), (r) => assert.deepEqual(toolNames(r), ['f'])]],
  },
  'tools[].googleSearchRetrieval': { ok: [[withTools([{ googleSearchRetrieval: {} }]), (r) => assert.equal(r.tools, null)]] },
  'tools[].codeExecution': { ok: [[withTools([{ codeExecution: {} }]), (r) => assert.equal(r.tools, null)]] },
  'tools[].urlContext': { ok: [[withTools([{ urlContext: {} }]), (r) => assert.equal(r.tools, null)]] },
  'toolConfig.functionCallingConfig.mode': {
    ok: [['AUTO', 'auto'], ['VALIDATED', 'auto'], ['MODE_UNSPECIFIED', 'auto'], ['ANY', 'required']].map(([mode, choice]) =>
      [withTools([{ functionDeclarations: [F] }], { toolConfig: { functionCallingConfig: { mode } } }), (r) => assert.equal(r.tool_choice, choice)])
      .concat([[withTools([{ functionDeclarations: [F] }], { toolConfig: { functionCallingConfig: { mode: 'NONE' } } }), (r) => assert.equal(r.tools, null)]]),
    bad: [[withTools([{ functionDeclarations: [F] }], { toolConfig: { functionCallingConfig: { mode: 'SOMETIMES' } } }), 'toolConfig.functionCallingConfig.mode']],
  },
  'toolConfig.functionCallingConfig.allowedFunctionNames': {
    ok: [[withTools([{ functionDeclarations: [F, G] }], { toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['g'] } } }),
      (r) => { assert.deepEqual(toolNames(r), ['g']); assert.equal(r.tool_choice, 'required'); }]],
    bad: [[withTools([{ functionDeclarations: [F] }], { toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['nope'] } } }), 'toolConfig.functionCallingConfig.allowedFunctionNames']],
  },
  'generationConfig.maxOutputTokens': {
    ok: [[(m) => ({ contents: [user({ text: `${m} [[reply:one two three four five six seven]]` })], generationConfig: { maxOutputTokens: 2 } }),
      (r, reply) => { assert.equal(replyOf(reply).finishReason, 'MAX_TOKENS'); assert.ok(replyOf(reply).content.parts[0].text.length <= 8, JSON.stringify(reply)); }]],
    bad: [[config({ maxOutputTokens: 0 }), 'generationConfig.maxOutputTokens'], [config({ maxOutputTokens: 1.5 }), 'generationConfig.maxOutputTokens']],
  },
  'generationConfig.stopSequences': {
    ok: [[(m) => ({ contents: [user({ text: `${m} [[deltas:["say ","ST","OP now"]]]` })], generationConfig: { stopSequences: ['STOP'] } }),
      (r, reply) => { assert.equal(replyOf(reply).content.parts[0].text, 'say '); assert.equal(replyOf(reply).finishReason, 'STOP'); }]],
    bad: [[config({ stopSequences: Array.from({ length: 17 }, (_, i) => `s${i}`) }), 'generationConfig.stopSequences'],
      [config({ stopSequences: 'STOP' }), 'generationConfig.stopSequences']],
  },
  'generationConfig.candidateCount': {
    ok: [[config({ candidateCount: 1 }), (r, reply) => assert.equal(reply.candidates.length, 1)]],
    bad: [[config({ candidateCount: 2 }), 'generationConfig.candidateCount']],
  },
  'generationConfig.responseMimeType': {
    ok: [[config({ responseMimeType: 'application/json' }), (r) => { assert.equal(r.messages[0].role, 'system'); assert.match(r.messages[0].content, /valid JSON/); }],
      [config({ responseMimeType: 'text/plain' }), (r) => assert.ok(!r.messages.some((x) => x.role === 'system'))]],
    bad: [[config({ responseMimeType: 42 }), 'generationConfig.responseMimeType']],
  },
  'generationConfig.responseJsonSchema': {
    ok: [[config({ responseMimeType: 'application/json', responseJsonSchema: { type: 'object', properties: { city: { type: 'string' } } } }),
      (r) => assert.ok(r.messages[0].content.includes('{"type":"object","properties":{"city":{"type":"string"}}}'), r.messages[0].content)]],
    bad: [[config({ responseMimeType: 'application/json', responseJsonSchema: 42 }), 'generationConfig.responseJsonSchema']],
  },
  'generationConfig.responseSchema': {
    ok: [[config({ responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { city: { type: 'STRING' } } } }),
      (r) => assert.ok(r.messages[0].content.includes('{"type":"object","properties":{"city":{"type":"string"}}}'), r.messages[0].content)]],
    bad: [[config({ responseMimeType: 'application/json', responseSchema: 42 }), 'generationConfig.responseSchema']],
  },
  'generationConfig.thinkingConfig': { ok: [[config({ thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } }), (r) => assert.deepEqual(r.options, {})]] },
  'generationConfig.responseLogprobs': { ok: [[config({ responseLogprobs: true }), (r, reply) => assert.equal(replyOf(reply).logprobsResult, undefined)]] },
  'generationConfig.logprobs': { ok: [[config({ responseLogprobs: true, logprobs: 3 }), (r, reply) => assert.equal(replyOf(reply).logprobsResult, undefined)]] },
  'generationConfig.responseModalities': { ok: [[config({ responseModalities: ['TEXT'] }), (r) => assert.deepEqual(r.options, {})]] },
  'generationConfig.speechConfig': { ok: [[config({ speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } } }), (r) => assert.deepEqual(r.options, {})]] },
  'generationConfig.mediaResolution': { ok: [[config({ mediaResolution: 'MEDIA_RESOLUTION_LOW' }), (r) => assert.deepEqual(r.options, {})]] },
  'generationConfig (not an object)': { bad: [[config('hot'), 'generationConfig'], [config([1]), 'generationConfig']] },
  safetySettings: { ok: [[(m) => ask(m, { safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }] }), (r) => assert.deepEqual(r.options, {})]] },
  cachedContent: { ok: [[(m) => ask(m, { cachedContent: 'cachedContents/abc123' }), (r) => assert.equal(r.messages.length, 1)]] },
  labels: { ok: [[(m) => ask(m, { labels: { team: 'gateway' } }), (r) => assert.deepEqual(r.options, {})]] },
};

// The sampling options: passed on under the pipe's names, out of range refused.
for (const [field, option, good, outOfRange] of [
  ['temperature', 'temperature', 0.5, 2.5], ['topP', 'top_p', 0.9, 1.5], ['topK', 'top_k', 40, 0],
  ['presencePenalty', 'presence_penalty', 0.5, 3], ['frequencyPenalty', 'frequency_penalty', -0.5, -3], ['seed', 'seed', 42, 1.5],
]) {
  SAMPLES[`generationConfig.${field}`] = {
    ok: [[config({ [field]: good }), (r) => assert.deepEqual(r.options, { [option]: good })]],
    bad: [[config({ [field]: outOfRange }), `generationConfig.${field}`], [config({ [field]: 'high' }), `generationConfig.${field}`]],
  };
}

/** The README's rows: field → {status, line}. */
function compatibilityTable() {
  const readme = fs.readFileSync(repoReadme, 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Gemini API'));
  assert.ok(section, 'README.md has a section "Gemini API"');
  const rows = new Map();
  const statuses = STATUSES.join('|');
  for (const line of section.split('\n')) {
    const match = new RegExp(`^\\| \`([^\`]+)\`((?: \\([^)]*\\))?) \\| (${statuses}) \\| (.+) \\|$`).exec(line);
    if (!match) continue;
    const field = match[1] + match[2];
    assert.ok(!rows.has(field), `one row for ${field}`);
    rows.set(field, { status: match[3], line });
  }
  return rows;
}

const path = '/v1beta/models/gpt-4o:generateContent';

test('the README\'s Gemini table: a known status for every row, samples here for every row, a row for every sample', () => {
  const rows = compatibilityTable();
  assert.ok(rows.size >= 40, `the table has its rows: ${[...rows.keys()]}`);
  assert.deepEqual([...rows.keys()].sort(), Object.keys(SAMPLES).sort());
  for (const [field, row] of rows) {
    const { ok = [], bad = [] } = SAMPLES[field];
    if (row.status === 'refused') assert.ok(bad.length && !ok.length, `${field} is refused: refused samples only`);
    else assert.ok(ok.length, `${field} (${row.status}) has accepted samples`);
  }
});

for (const [field, { ok = [], bad = [] }] of Object.entries(SAMPLES)) {
  test(`Gemini compatibility row ${field}: ${ok.length ? 'accepted values → 200 and what the row says' : ''}${ok.length && bad.length ? ', ' : ''}${bad.length ? 'refused values → 400 naming it' : ''}`, async () => {
    const row = compatibilityTable().get(field);
    assert.ok(row, `README.md's Gemini table has a row for ${field}`);
    for (const [body, check] of ok) {
      const marker = nonce('gcompat');
      const sent = body(marker);
      const response = await postChat(stack.port, sent, { path });
      assert.equal(response.status, 200, `${field}: ${JSON.stringify(sent)} → ${response.text}`);
      const request = await stack.worker.waitRequest(marker);
      check(request, response.json, marker);
    }
    for (const [body, named] of bad) {
      const sent = body(nonce('gcompat'));
      const response = await postChat(stack.port, sent, { path });
      assert.equal(response.status, 400, `${field}: ${JSON.stringify(sent)} → ${response.text}`);
      const { error } = response.json;
      assert.equal(error.code, 400);
      assert.equal(error.status, 'INVALID_ARGUMENT');
      assert.ok(error.message.startsWith(`Invalid value at '${named}'`), `${field}: ${JSON.stringify(sent)} → ${error.message}`);
    }
  });
}
