// The OpenAI Responses API (issue 15) with raw HTTP through real nginx and
// the test worker: the named events of a stream and their sequence numbers,
// a whole Response, a function tool round trip, custom and namespaced tools
// named back, hosted tools skipped, input_tokens, what a stateless gateway
// refuses, error statuses (and failures that open the stream), the heartbeat
// before a slow first token, max_output_tokens, and one limit budget shared
// with chat completions.
//
// Streams are read with node:http here, not the harness's openStream: its
// spec guard knows chat's chunks only (the Responses schemas are wired in
// by the spec validation work).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import {
  useStacks, writeFcgiConfig, httpRequest, postChat, nonce, withTimeout, GUARD_MS,
} from './harness.mjs';

// Stack 0 serves the tests; stack 1 has a limit of 2 requests a minute on
// gpt-4o-mini, which chat and Responses requests share.
const [stack, limited] = useStacks({ before, after }, 2, ({ dir }) => [
  {},
  {
    ctlArgs: ['--fcgi-config', writeFcgiConfig(path.join(dir, 'limited.conf'), { 'limits-model': 'gpt-4o-mini:rpm=2' })],
    workerArgs: ['--models', 'gpt-4o,gpt-4o-mini'],
  },
], { tag: 'resp' });

const WEATHER = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather of a city',
  strict: true,
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/**
 * POSTs `body` (JSON) and reads the response as it comes: {status, headers,
 * text(), events() (the SSE events so far: {name, data}), readUntil(pred),
 * readToEnd()}.
 */
function open(port, body, { path: urlPath = '/v1/responses' } = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method: 'POST', path: urlPath, agent: false,
      headers: { 'content-type': 'application/json' },
    }, (res) => {
      let text = '';
      let ended = false;
      const waiters = new Set();
      const wake = () => { for (const w of [...waiters]) w(); };
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; wake(); });
      res.on('end', () => { ended = true; wake(); });
      res.on('close', () => { ended = true; wake(); });
      const events = () => parseEvents(text);
      const readUntil = (pred, what) => withTimeout(new Promise((ok, fail) => {
        const check = () => {
          if (pred(events(), text)) { waiters.delete(check); ok(events()); } else if (ended) {
            waiters.delete(check);
            fail(new Error(`the response ended before ${what}: ${text.slice(0, 2000)}`));
          }
        };
        waiters.add(check);
        check();
      }), what, GUARD_MS);
      resolve({
        status: res.statusCode,
        headers: res.headers,
        text: () => text,
        events,
        readUntil,
        readToEnd: () => readUntil((_, __) => ended, 'the end of the response').then(() => text),
        destroy: () => { req.destroy(); res.destroy(); },
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  }), `response headers of POST ${urlPath}`);
}

/** Complete SSE blocks of `text` as {name, data (parsed)}; every block must have both. */
function parseEvents(text) {
  const blocks = text.split('\n\n');
  blocks.pop(); // not complete yet (or '' after the last)
  return blocks.map((block) => {
    const lines = block.split('\n');
    assert.equal(lines.length, 2, `an event: "event:" and "data:" lines: ${block}`);
    assert.match(lines[0], /^event: /);
    assert.match(lines[1], /^data: /);
    return { name: lines[0].slice(7), data: JSON.parse(lines[1].slice(6)) };
  });
}

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/** Reads a whole stream and checks what every stream must be: named events of
 * increasing sequence_number from 0, response.created first, one terminal
 * event last, one response id. Returns the events' data. */
async function streamEvents(port, body) {
  const response = await open(port, body);
  assert.equal(response.status, 200, response.text());
  assert.match(response.headers['content-type'], /^text\/event-stream/);
  await response.readToEnd();
  const events = response.events();
  assert.ok(events.length >= 3, `events: ${response.text()}`);
  events.forEach((event, i) => {
    assert.equal(event.name, event.data.type, 'the event: line names the type');
    assert.equal(event.data.sequence_number, i, `sequence_number of ${event.name}`);
  });
  assert.equal(events[0].name, 'response.created');
  assert.equal(events[1].name, 'response.in_progress');
  assert.ok(TERMINAL.has(events.at(-1).name), `last: ${events.at(-1).name}`);
  assert.equal(events.filter((e) => TERMINAL.has(e.name)).length, 1);
  const ids = new Set(events.filter((e) => e.data.response).map((e) => e.data.response.id));
  assert.equal(ids.size, 1, `one response id: ${[...ids]}`);
  assert.match([...ids][0], /^resp_/);
  return events.map((e) => e.data);
}

const types = (events) => events.map((e) => e.type);

/** What a finished Response must hold (the document's required fields). */
function assertResponse(response, status) {
  for (const field of ['id', 'object', 'created_at', 'error', 'incomplete_details', 'instructions', 'model',
    'tools', 'output', 'parallel_tool_calls', 'metadata', 'tool_choice', 'temperature', 'top_p']) {
    assert.ok(field in response, `Response.${field} in ${JSON.stringify(response)}`);
  }
  assert.equal(response.object, 'response');
  assert.equal(response.status, status);
  if (status !== 'failed') {
    const usage = response.usage;
    assert.ok(usage.input_tokens > 0 && usage.output_tokens >= 0, JSON.stringify(usage));
    assert.equal(usage.total_tokens, usage.input_tokens + usage.output_tokens);
    assert.deepEqual(usage.input_tokens_details, { cached_tokens: 0, cache_write_tokens: 0 });
    assert.deepEqual(usage.output_tokens_details, { reasoning_tokens: 0 });
  }
}

const postJson = (port, urlPath, body) => httpRequest(port, {
  method: 'POST', path: urlPath, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});

test('stream: the events in order, each named, with increasing sequence numbers', async () => {
  const marker = nonce('rstream');
  const events = await streamEvents(stack.port, {
    model: 'gpt-4o', stream: true, instructions: 'Be brief.', input: `${marker} [[deltas:["Hel","lo ","there"]]]`,
  });
  assert.deepEqual(types(events), [
    'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
    'response.output_text.delta', 'response.output_text.delta', 'response.output_text.delta',
    'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
  ]);
  assert.deepEqual(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta), ['Hel', 'lo ', 'there']);
  const added = events[2];
  assert.equal(added.item.type, 'message');
  assert.equal(added.item.status, 'in_progress');
  for (const e of events.slice(3, 10)) {
    assert.equal(e.item_id ?? e.item.id, added.item.id);
    assert.equal(e.output_index, 0);
  }
  assert.equal(events[7].text, 'Hello there');
  assert.deepEqual(events[9].item.content, [{ type: 'output_text', text: 'Hello there', annotations: [], logprobs: [] }]);
  const completed = events.at(-1).response;
  assertResponse(completed, 'completed');
  assert.equal(completed.instructions, 'Be brief.');
  assert.equal(completed.model, 'test/gpt-4o');
  assert.deepEqual(completed.output, [events[9].item]);
  // The worker got the instructions first, then the input.
  const request = await stack.worker.waitRequest(marker);
  assert.deepEqual(request.messages.map((m) => m.role), ['system', 'user']);
});

test('non-stream: one Response object', async () => {
  const marker = nonce('rwhole');
  const response = await postJson(stack.port, '/v1/responses', {
    model: 'gpt-4o', input: [{ role: 'user', content: [{ type: 'input_text', text: `${marker} [[reply:Hi.]]` }] }],
    metadata: { run: marker }, temperature: 0.3, store: true,
  });
  assert.equal(response.status, 200, response.text);
  assert.match(response.headers['content-type'], /^application\/json/);
  assertResponse(response.json, 'completed');
  assert.equal(response.json.output.length, 1);
  assert.equal(response.json.output[0].content[0].text, 'Hi.');
  assert.deepEqual(response.json.metadata, { run: marker });
  assert.equal(response.json.temperature, 0.3);
  const request = await stack.worker.waitRequest(marker);
  assert.equal(request.options.temperature, 0.3);
});

test('function tool round trip: function_call out, function_call_output back', async () => {
  const marker = nonce('rtool');
  const ask = `${marker} Weather in Paris? [[tool:get_weather:{"city":"Paris"}]]`;
  const events = await streamEvents(stack.port, { model: 'gpt-4o', stream: true, input: ask, tools: [WEATHER] });
  assert.deepEqual(types(events), [
    'response.created', 'response.in_progress', 'response.output_item.added',
    'response.function_call_arguments.delta', 'response.function_call_arguments.done', 'response.output_item.done',
    'response.completed',
  ]);
  const call = events[5].item;
  assert.equal(call.type, 'function_call');
  assert.equal(call.name, 'get_weather');
  assert.match(call.call_id, /^call_/);
  assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
  assert.equal(events[4].name, 'get_weather');
  assertResponse(events.at(-1).response, 'completed');
  assert.deepEqual(events.at(-1).response.tools, [WEATHER]);

  // The second turn: the whole conversation (nothing is stored).
  const second = await postJson(stack.port, '/v1/responses', {
    model: 'gpt-4o', tools: [WEATHER],
    input: [{ role: 'user', content: ask }, call, { type: 'function_call_output', call_id: call.call_id, output: '18 C, sunny' }],
  });
  assert.equal(second.status, 200, second.text);
  assert.equal(second.json.output[0].content[0].text, 'tool result: 18 C, sunny');
  const frame = await stack.worker.waitEvent((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker) &&
    e.messages.some((m) => m.role === 'tool'), 'the second turn\'s request frame');
  assert.deepEqual(frame.messages.map((m) => m.role), ['user', 'assistant', 'tool']);
  assert.equal(frame.messages[1].tool_calls[0].id, call.call_id);
  assert.equal(frame.messages[2].tool_call_id, call.call_id);
  assert.equal(frame.tools[0].function.name, 'get_weather');
});

test('custom tool: the model gets {"input": string}, the client a custom_tool_call with the raw input', async () => {
  const marker = nonce('rcustom');
  const patchTool = { type: 'custom', name: 'apply_patch', description: 'Edit files.', format: { type: 'grammar', syntax: 'lark', definition: 'start: "*** Begin Patch" /.+/' } };
  const ask = `${marker} fix it [[tool:apply_patch:{"input":"*** Begin Patch\\n+x\\n*** End Patch"}]]`;
  const events = await streamEvents(stack.port, { model: 'gpt-4o', stream: true, input: ask, tools: [patchTool] });
  assert.deepEqual(types(events).slice(2, -1), [
    'response.output_item.added', 'response.custom_tool_call_input.delta', 'response.custom_tool_call_input.done',
    'response.output_item.done',
  ]);
  const call = events.at(-2).item;
  assert.equal(call.type, 'custom_tool_call');
  assert.equal(call.name, 'apply_patch');
  assert.equal(call.input, '*** Begin Patch\n+x\n*** End Patch');
  assert.equal(events[4].input, call.input);
  const request = await stack.worker.waitRequest(marker);
  const tool = request.tools[0].function;
  assert.equal(tool.name, 'apply_patch');
  assert.deepEqual(tool.parameters.required, ['input']);
  assert.equal(tool.parameters.properties.input.type, 'string');
  assert.match(tool.description, /^Edit files\.\n\n.*lark grammar:\nstart: /s);

  // Its output goes back as a tool message; its call as {"input": ...} arguments.
  const second = await postJson(stack.port, '/v1/responses', {
    model: 'gpt-4o', tools: [patchTool],
    input: [{ role: 'user', content: ask }, call, { type: 'custom_tool_call_output', call_id: call.call_id, output: 'Done!' }],
  });
  assert.equal(second.status, 200, second.text);
  assert.equal(second.json.output[0].content[0].text, 'tool result: Done!');
  const frame = await stack.worker.waitEvent((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker) &&
    e.messages.some((m) => m.role === 'tool'), 'the custom tool\'s second turn');
  assert.deepEqual(JSON.parse(frame.messages[1].tool_calls[0].function.arguments), { input: call.input });
});

test('namespace tools are flattened for the model and named back; hosted tools skipped and logged', async () => {
  const marker = nonce('rns');
  const namespace = {
    type: 'namespace', name: 'multi_agent_v1', description: 'Sub-agents.',
    tools: [{ type: 'function', name: 'spawn_agent', strict: false, parameters: { type: 'object', properties: { task: { type: 'string' } } } }],
  };
  const response = await postJson(stack.port, '/v1/responses', {
    model: 'gpt-4o', tools: [namespace, { type: 'web_search', external_web_access: false }],
    input: [{ type: 'additional_tools', tools: [{ type: 'namespace', name: 'functions', description: '', tools: [{ type: 'custom', name: 'exec' }] }] },
      { role: 'user', content: `${marker} [[tools:[{"name":"multi_agent_v1__spawn_agent","arguments":{"task":"tests"}},{"name":"functions__exec","arguments":{"input":"ls"}}]]]` }],
  });
  assert.equal(response.status, 200, response.text);
  const [spawn, exec] = response.json.output;
  assert.deepEqual({ type: spawn.type, name: spawn.name, namespace: spawn.namespace, arguments: JSON.parse(spawn.arguments) },
    { type: 'function_call', name: 'spawn_agent', namespace: 'multi_agent_v1', arguments: { task: 'tests' } });
  assert.deepEqual({ type: exec.type, name: exec.name, namespace: exec.namespace, input: exec.input },
    { type: 'custom_tool_call', name: 'exec', namespace: 'functions', input: 'ls' });
  const request = await stack.worker.waitRequest(marker);
  assert.deepEqual(request.tools.map((t) => t.function.name), ['multi_agent_v1__spawn_agent', 'functions__exec']);
  await stack.responderIdle();
  assert.match(stack.logText(), /request \w+: hosted tools skipped \(VS Code's models cannot run them\): web_search\n/);
});

test('POST /v1/responses/input_tokens counts with the token estimator', async () => {
  const short = await postJson(stack.port, '/v1/responses/input_tokens', { model: 'gpt-4o', input: 'Hello' });
  assert.equal(short.status, 200, short.text);
  assert.equal(short.json.object, 'response.input_tokens');
  assert.ok(Number.isInteger(short.json.input_tokens) && short.json.input_tokens > 0, short.text);
  const long = await postJson(stack.port, '/responses/input_tokens', {
    model: 'gpt-4o', instructions: 'Be brief.', input: 'Hello '.repeat(200), tools: [WEATHER],
  });
  assert.equal(long.status, 200, long.text);
  assert.ok(long.json.input_tokens > short.json.input_tokens + 150, `${long.json.input_tokens} vs ${short.json.input_tokens}`);
});

test('stateless: previous_response_id is a 400, GET /v1/responses/{id} a 404', async () => {
  const previous = await postJson(stack.port, '/v1/responses', { model: 'gpt-4o', input: 'and?', previous_response_id: 'resp_123' });
  assert.equal(previous.status, 400);
  assert.equal(previous.json.error.code, 'previous_response_not_found');
  assert.equal(previous.json.error.param, 'previous_response_id');
  assert.match(previous.json.error.message, /whole conversation in 'input'/);
  for (const urlPath of ['/v1/responses/resp_123', '/responses/resp_123', '/v1/responses/resp_123/input_items']) {
    const got = await httpRequest(stack.port, { path: urlPath });
    assert.equal(got.status, 404, urlPath);
    assert.equal(got.json.error.code, 'response_not_found');
  }
});

test('errors: refusals keep their 4xx; a failed model call of a stream is response.failed, of a whole reply its status', async () => {
  const bad = await postJson(stack.port, '/v1/responses', { model: 'gpt-4o', input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/a.png' }] }] });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.param, 'input[0].content[0].image_url');
  const unknown = await postJson(stack.port, '/v1/responses', { model: 'no-such-model', input: 'x', stream: true });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error.code, 'model_not_found');
  const denied = await postJson(stack.port, '/v1/responses', { model: 'gpt-4o', stream: true, input: `${nonce('rdeny')} [[error:no_permissions]]` });
  assert.equal(denied.status, 403);
  assert.equal(denied.headers['x-should-retry'], 'false');

  // Codex retries a 5xx ~30 times and a 429 six times, but reads response.failed.
  const failed = await streamEvents(stack.port, { model: 'gpt-4o', stream: true, input: `${nonce('rfail')} [[error:internal:boom]]` });
  assert.deepEqual(types(failed), ['response.created', 'response.in_progress', 'response.failed']);
  assertResponse(failed.at(-1).response, 'failed');
  assert.deepEqual(failed.at(-1).response.error, { code: 'server_error', message: 'The model call failed in VS Code: boom' });
  const blocked = await streamEvents(stack.port, { model: 'gpt-4o', stream: true, input: `${nonce('rblock')} [[error:rate_limited:quota used up]]` });
  assert.equal(blocked.at(-1).response.error.code, 'rate_limit_exceeded');
  // In the words Codex parses for its wait before the next try.
  assert.match(blocked.at(-1).response.error.message, /quota used up\. Please try again in 10s\.$/);
  const midway = await streamEvents(stack.port, { model: 'gpt-4o', stream: true, input: `${nonce('rmid')} [[error-after-delta:internal:late]]` });
  const output = midway.at(-1).response.output;
  assert.equal(output[0].status, 'incomplete');
  assert.equal(output[0].content[0].text, 'partial ');

  const whole = await postJson(stack.port, '/v1/responses', { model: 'gpt-4o', input: `${nonce('rwfail')} [[error:internal:boom]]` });
  assert.equal(whole.status, 502);
  assert.equal(whole.json.error.code, 'upstream_error');
});

test('a slow first token: the stream opens with response.in_progress heartbeats (parsed events, not comments)', async () => {
  const marker = nonce('rhold');
  const response = await open(stack.port, { model: 'gpt-4o', stream: true, input: `${marker} [[hold]]` });
  assert.equal(response.status, 200);
  const request = await stack.worker.waitRequest(marker);
  const gate = await stack.worker.waitEvent((e) => e.event === 'gate' && e.id === request.id, 'the worker to hold the request');
  await response.readUntil((events) => events.filter((e) => e.name === 'response.in_progress').length >= 2, 'a heartbeat');
  assert.ok(!response.text().includes('\n:') && !response.text().startsWith(':'), 'no SSE comment');
  stack.worker.command(`release ${gate.id}`);
  await response.readToEnd();
  const events = response.events();
  events.forEach((e, i) => assert.equal(e.data.sequence_number, i));
  assert.equal(events.at(-1).name, 'response.completed');
  assert.equal(events.at(-1).data.response.output[0].content[0].text, 'after-gate');
});

test('max_output_tokens: the reply is cut and the Response is incomplete', async () => {
  const events = await streamEvents(stack.port, { model: 'gpt-4o', stream: true, max_output_tokens: 16, input: `${nonce('rmax')} [[chunks:100]]` });
  const last = events.at(-1);
  assert.equal(last.type, 'response.incomplete');
  assertResponse(last.response, 'incomplete');
  assert.deepEqual(last.response.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal(last.response.max_output_tokens, 16);
  assert.equal(last.response.output[0].status, 'incomplete');
  assert.ok(last.response.output[0].content[0].text.length <= 64, last.response.output[0].content[0].text);
  assert.equal(last.response.usage.output_tokens, 16);
});

test('one limit budget: chat completions and Responses count against the same requests per minute', async () => {
  const chat = await postChat(limited.port, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one' }] });
  assert.equal(chat.status, 200, chat.text);
  const responses = await postJson(limited.port, '/v1/responses', { model: 'gpt-4o-mini', input: 'two' });
  assert.equal(responses.status, 200, responses.text);
  const third = await postJson(limited.port, '/v1/responses', { model: 'gpt-4o-mini', input: 'three', stream: true });
  assert.equal(third.status, 429, third.text);
  assert.equal(third.json.error.type, 'rate_limit_error');
  assert.ok(Number(third.headers['retry-after']) > 0);
  const fourth = await postChat(limited.port, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'four' }] });
  assert.equal(fourth.status, 429, fourth.text);
  // Another model has its own budget.
  const other = await postJson(limited.port, '/v1/responses', { model: 'gpt-4o', input: 'five' });
  assert.equal(other.status, 200, other.text);
});
