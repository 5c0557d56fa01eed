// Anthropic Messages through real nginx, with raw HTTP: /v1/messages (named
// SSE events in Anthropic's order, one Message when not streaming, tool_use
// round trips), /v1/messages/count_tokens, Anthropic's model list, errors in
// Anthropic's shape with request-id (from the responder and from nginx), and
// one rate-limit budget shared with chat completions.
//
// The suite's http helpers validate against OpenAI's document, which these
// answers do not follow by design, so this file speaks HTTP itself
// (anthropicRequest); chat requests still go through the validated postChat.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { useStacks, writeFcgiConfig, postChat, httpRequest, openAiError, nonce, withTimeout, waitUntil } from './harness.mjs';

const LIMITED_RPM = 4;

// [0]: a plain stack; [1]: keys and a global RPM; [2]: no VS Code window.
const [stack, limited, empty] = useStacks({ before, after }, 3, ({ dir }) => {
  const config = writeFcgiConfig(path.join(dir, 'limited.conf'), { 'limits-rpm': LIMITED_RPM });
  return [{}, { ctlArgs: ['--fcgi-config', config] }, { worker: false }];
}, { tag: 'lmsg' });

const ANTHROPIC_HEADERS = {
  'content-type': 'application/json',
  'anthropic-version': '2023-06-01',
  'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
  'x-api-key': 'sk-ant-anything',
};

/** One request, its whole answer: {status, headers, text, json, events} (events: named SSE). */
function anthropicRequest(port, { method = 'POST', path: urlPath = '/v1/messages?beta=true', headers = {}, body } = {}) {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return withTimeout(new Promise((resolve, reject) => {
    let responded = false;
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, agent: false, headers: { ...ANTHROPIC_HEADERS, ...headers } }, (res) => {
      responded = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        const events = /^text\/event-stream/.test(res.headers['content-type'] ?? '') ? namedEvents(text) : undefined;
        resolve({ status: res.statusCode, headers: res.headers, text, json, events });
      });
      res.on('error', reject);
    });
    // nginx may answer 413 before reading the whole body and close.
    req.on('error', (err) => { if (!responded) reject(err); });
    if (payload !== undefined) req.write(payload);
    req.end();
  }), `${method} ${urlPath}`);
}

/** "event: NAME\ndata: JSON\n\n" blocks as [{event, data}]; anything else fails. */
function namedEvents(text) {
  assert.ok(text.endsWith('\n\n'), `the stream ends with a whole event: ${JSON.stringify(text.slice(-80))}`);
  return text.slice(0, -2).split('\n\n').map((block) => {
    const match = /^event: ([a-z_]+)\ndata: (.*)$/.exec(block);
    assert.ok(match, `a named event: ${JSON.stringify(block)}`);
    const data = JSON.parse(match[2]);
    assert.equal(data.type, match[1], 'the event names its data type');
    return { event: match[1], data };
  });
}

/** Anthropic's error object, with the request id in the body and both headers. */
function anthropicError(response, status, type) {
  assert.equal(response.status, status, response.text);
  assert.match(response.headers['content-type'] ?? '', /^application\/json/);
  const id = response.headers['request-id'];
  assert.ok(id, 'a request-id header');
  assert.equal(response.headers['x-request-id'], id, 'request-id is x-request-id');
  assert.equal(response.json?.type, 'error', response.text);
  assert.equal(response.json.error.type, type, response.text);
  assert.equal(typeof response.json.error.message, 'string');
  assert.ok(response.json.error.message.length > 0);
  assert.equal(response.json.request_id, id, 'the body names the request');
  return response.json.error;
}

/** The stream's order, as @anthropic-ai/sdk's MessageStream enforces it; returns its blocks. */
function assertEventOrder(events) {
  assert.equal(events[0]?.event, 'message_start', 'message_start first');
  assert.equal(events.filter((e) => e.event === 'message_start').length, 1, 'one message_start');
  const start = events[0].data.message;
  assert.deepEqual([start.type, start.role, start.content, start.stop_reason], ['message', 'assistant', [], null]);
  assert.match(start.id, /^msg_/);
  assert.ok(start.usage.input_tokens > 0, 'message_start carries the prompt estimate');
  const blocks = [];
  let open = null;
  let deltaSeen = false;
  for (const { event, data } of events.slice(1)) {
    assert.ok(!deltaSeen || event === 'message_stop', `nothing but message_stop after message_delta: ${event}`);
    switch (event) {
      case 'ping': break;
      case 'content_block_start':
        assert.equal(open, null, 'blocks do not overlap');
        assert.equal(data.index, blocks.length, 'blocks are numbered in order');
        open = { ...data.content_block, text: data.content_block.text ?? '', json: '' };
        break;
      case 'content_block_delta':
        assert.equal(data.index, blocks.length, 'a delta goes to the open block');
        if (open.type === 'text') {
          assert.equal(data.delta.type, 'text_delta');
          open.text += data.delta.text;
        } else {
          assert.equal(data.delta.type, 'input_json_delta');
          open.json += data.delta.partial_json;
        }
        break;
      case 'content_block_stop':
        assert.equal(data.index, blocks.length);
        if (open.type === 'tool_use') open.input = JSON.parse(open.json);
        blocks.push(open);
        open = null;
        break;
      case 'message_delta':
        assert.equal(open, null, 'every block stopped before message_delta');
        deltaSeen = true;
        break;
      case 'message_stop':
        assert.ok(deltaSeen, 'message_delta before message_stop');
        break;
      default:
        assert.fail(`unexpected event ${event}`);
    }
  }
  assert.equal(events.at(-1).event, 'message_stop', 'message_stop last');
  const delta = events.find((e) => e.event === 'message_delta').data;
  return { blocks, delta, start };
}

const user = (text) => [{ role: 'user', content: text }];

test('non-stream: one Message, the system prompt and blocks mapped for the model', async () => {
  const marker = nonce('msg');
  const response = await anthropicRequest(stack.port, {
    body: {
      model: 'claude-3-5-sonnet-20241022',
      max_tokens: 1024,
      system: [{ type: 'text', text: 'x-anthropic-billing-header: cc_version=test;' }, { type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: marker }] }],
      metadata: { user_id: 'u1' },
      thinking: { type: 'adaptive' },
      output_config: { effort: 'medium' },
    },
  });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.headers['request-id'], response.headers['x-request-id']);
  const message = response.json;
  assert.match(message.id, /^msg_/);
  assert.deepEqual([message.type, message.role, message.stop_reason, message.stop_sequence], ['message', 'assistant', 'end_turn', null]);
  assert.equal(message.model, 'test/claude-3.5-sonnet', 'the dated id resolved to the family offered');
  assert.deepEqual(message.content, [{ type: 'text', text: marker }]);
  for (const field of ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens']) {
    assert.equal(typeof message.usage[field], 'number', field);
  }
  const request = await stack.worker.waitRequest(marker);
  assert.deepEqual(request.messages[0], { role: 'system', content: 'x-anthropic-billing-header: cc_version=test;\n\nBe brief.' });
  assert.equal(request.max_tokens, undefined, 'token caps stay in the responder');
});

test('stream: named events in Anthropic\'s order, text deltas, end_turn', async () => {
  const response = await anthropicRequest(stack.port, {
    body: { model: 'claude-3.5-sonnet', max_tokens: 1024, stream: true, messages: user('[[deltas:["Hel","lo ","world"]]]') },
  });
  assert.equal(response.status, 200, response.text);
  assert.match(response.headers['content-type'], /^text\/event-stream/);
  assert.equal(response.headers['request-id'], response.headers['x-request-id']);
  const { blocks, delta } = assertEventOrder(response.events);
  assert.deepEqual(blocks.map((b) => [b.type, b.text]), [['text', 'Hello world']]);
  assert.equal(response.events.filter((e) => e.event === 'content_block_delta').length, 3, 'one delta per part');
  assert.deepEqual(delta.delta, { stop_reason: 'end_turn', stop_sequence: null });
  assert.ok(delta.usage.output_tokens > 0 && delta.usage.input_tokens > 0, 'cumulative usage');
});

test('stream: max_tokens and stop_sequences end the reply with their stop reasons', async () => {
  const cut = await anthropicRequest(stack.port, {
    body: { model: 'claude-3.5-sonnet', max_tokens: 2, stream: true, messages: user('[[reply:one two three four five six seven]]') },
  });
  const first = assertEventOrder(cut.events);
  assert.equal(first.delta.delta.stop_reason, 'max_tokens');
  assert.ok(first.blocks[0].text.length <= 8, first.blocks[0].text);

  const stopped = await anthropicRequest(stack.port, {
    body: { model: 'claude-3.5-sonnet', max_tokens: 100, stream: true, stop_sequences: ['STOP'], messages: user('[[deltas:["say ","ST","OP now"]]]') },
  });
  const second = assertEventOrder(stopped.events);
  assert.deepEqual(second.delta.delta, { stop_reason: 'stop_sequence', stop_sequence: 'STOP' });
  assert.equal(second.blocks[0].text, 'say ');
});

test('tool_use round trip: a streamed call, its result sent back, the answer from it', async () => {
  const tools = [
    { name: 'get_weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
    { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
  ];
  const tag = nonce('tool');
  const ask = `[[tool:get_weather:{"city":"Paris"}]] ${tag}`;
  const turn1 = await anthropicRequest(stack.port, {
    body: { model: 'claude-3.5-sonnet', max_tokens: 512, stream: true, tools, tool_choice: { type: 'auto' }, messages: user(ask) },
  });
  assert.equal(turn1.status, 200, turn1.text);
  const { blocks, delta } = assertEventOrder(turn1.events);
  const call = blocks.find((b) => b.type === 'tool_use');
  assert.ok(call, `a tool_use block: ${turn1.text}`);
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(call.input, { city: 'Paris' });
  assert.equal(delta.delta.stop_reason, 'tool_use');
  const first = turn1.events.find((e) => e.event === 'content_block_start' && e.data.content_block.type === 'tool_use');
  assert.deepEqual(first.data.content_block.input, {});
  const sent = await stack.worker.waitRequest(tag);
  assert.deepEqual(sent.tools.map((t) => t.function.name), ['get_weather'], 'the server tool was skipped');

  const marker = nonce('sunny');
  const turn2 = await anthropicRequest(stack.port, {
    body: {
      model: 'claude-3.5-sonnet',
      max_tokens: 512,
      tools,
      messages: [
        ...user(ask),
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'call it', signature: 'c2ln' }, { type: 'tool_use', id: call.id, name: call.name, input: call.input }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: [{ type: 'text', text: marker }] }] },
      ],
    },
  });
  assert.equal(turn2.status, 200, turn2.text);
  assert.equal(turn2.json.stop_reason, 'end_turn');
  assert.equal(turn2.json.content[0].text, `tool result: ${marker}`);
  const back = await stack.worker.waitEvent((e) => e.event === 'request' && JSON.stringify(e.messages).includes(marker), 'the tool result reaching the model');
  const toolMessage = back.messages.find((m) => m.role === 'tool');
  assert.equal(toolMessage.tool_call_id, call.id);
  assert.ok(!JSON.stringify(back.messages).includes('call it'), 'thinking is not sent to the model');
});

test('non-stream tool_use: the input is a JSON object in the Message', async () => {
  const response = await anthropicRequest(stack.port, {
    body: {
      model: 'claude-3.5-sonnet',
      max_tokens: 512,
      tools: [{ name: 'a', input_schema: { type: 'object' } }, { name: 'b', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any' },
      messages: user('[[tools:[{"name":"a","arguments":{"x":1}},{"name":"b","arguments":{"y":[2]}}]]]'),
    },
  });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.json.stop_reason, 'tool_use');
  const calls = response.json.content.filter((b) => b.type === 'tool_use');
  assert.deepEqual(calls.map((c) => [c.name, c.input]), [['a', { x: 1 }], ['b', { y: [2] }]]);
  assert.notEqual(calls[0].id, calls[1].id);
});

test('unpaired tool calls and results are repaired, not refused', async () => {
  const marker = nonce('repair');
  const response = await anthropicRequest(stack.port, {
    body: {
      model: 'claude-3.5-sonnet',
      max_tokens: 100,
      messages: [
        ...user('go'),
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_lost', name: 'Read', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_orphan', content: 'stray' }, { type: 'text', text: marker }] },
      ],
    },
  });
  assert.equal(response.status, 200, response.text);
  const request = await stack.worker.waitRequest(marker);
  const roles = request.messages.map((m) => m.role);
  assert.deepEqual(roles, ['user', 'assistant', 'tool', 'user']);
  assert.equal(request.messages[2].tool_call_id, 'toolu_lost');
  assert.match(JSON.stringify(request.messages[3]), /toolu_orphan[^"]*not in the conversation/);
});

test('count_tokens: the estimate message_start reports for the same body, never 0', async () => {
  const body = {
    model: 'claude-3.5-sonnet',
    system: 'You are a careful assistant.',
    messages: user('Please count the tokens of this sentence and of the tools.'),
    tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
  };
  const counted = await anthropicRequest(stack.port, { path: '/v1/messages/count_tokens?beta=true', body });
  assert.equal(counted.status, 200, counted.text);
  assert.deepEqual(Object.keys(counted.json), ['input_tokens']);
  assert.ok(Number.isInteger(counted.json.input_tokens) && counted.json.input_tokens > 10, counted.text);
  const streamed = await anthropicRequest(stack.port, { body: { ...body, max_tokens: 10, stream: true } });
  assert.equal(streamed.events[0].data.message.usage.input_tokens, counted.json.input_tokens);

  const longer = await anthropicRequest(stack.port, {
    path: '/messages/count_tokens', body: { ...body, messages: user('Please count the tokens of this sentence. '.repeat(20)) },
  });
  assert.ok(longer.json.input_tokens > counted.json.input_tokens + 100, longer.text);
  const unknown = await anthropicRequest(stack.port, { path: '/v1/messages/count_tokens', body: { ...body, model: 'claude-haiku-9-9' } });
  assert.equal(unknown.status, 200, 'a count needs no window offering the model');
  assert.ok(unknown.json.input_tokens > 10);
  anthropicError(await anthropicRequest(stack.port, { path: '/v1/messages/count_tokens', body: { model: 'x', messages: 'hi' } }), 400, 'invalid_request_error');
});

test('GET /v1/models: Anthropic\'s list with anthropic-version, OpenAI\'s without', async () => {
  const anthropic = await anthropicRequest(stack.port, { method: 'GET', path: '/v1/models?limit=1000' });
  assert.equal(anthropic.status, 200, anthropic.text);
  assert.equal(anthropic.headers['request-id'], anthropic.headers['x-request-id']);
  const ids = anthropic.json.data.map((m) => m.id);
  assert.deepEqual(ids.sort(), ['claude-3.5-sonnet', 'gpt-4o']);
  for (const model of anthropic.json.data) {
    assert.equal(model.type, 'model');
    assert.equal(typeof model.display_name, 'string');
    assert.ok(!Number.isNaN(Date.parse(model.created_at)), model.created_at);
  }
  assert.equal(anthropic.json.has_more, false);
  assert.equal(anthropic.json.first_id, anthropic.json.data[0].id);
  assert.equal(anthropic.json.last_id, anthropic.json.data.at(-1).id);
  const one = await anthropicRequest(stack.port, { method: 'GET', path: '/v1/models/claude-3.5-sonnet' });
  assert.equal(one.json.type, 'model');
  assert.equal(one.json.id, 'claude-3.5-sonnet');
  anthropicError(await anthropicRequest(stack.port, { method: 'GET', path: '/v1/models/claude-haiku-9' }), 404, 'not_found_error');

  const openai = await httpRequest(stack.port, { path: '/v1/models' }); // validated against OpenAI's schema
  assert.equal(openai.json.object, 'list');
  assert.equal(openai.headers['request-id'], undefined, 'request-id is Anthropic\'s');
});

test('errors in Anthropic\'s shape with request-id, before and after the head', async () => {
  const missing = anthropicError(await anthropicRequest(stack.port, { body: { model: 'claude-3.5-sonnet', messages: user('hi') } }), 400, 'invalid_request_error');
  assert.match(missing.message, /^max_tokens: /);
  const document = anthropicError(await anthropicRequest(stack.port, {
    body: { model: 'claude-3.5-sonnet', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } }] }] },
  }), 400, 'invalid_request_error');
  assert.match(document.message, /^messages\.0\.content\.0\.type: 'document' blocks are not supported/);
  anthropicError(await anthropicRequest(stack.port, { body: '{"model": "claude-3.5-sonnet", "max_tokens": ' }), 400, 'invalid_request_error');

  const unknown = anthropicError(await anthropicRequest(stack.port, { body: { model: 'claude-haiku-9-9', max_tokens: 10, messages: user('hi') } }), 404, 'not_found_error');
  assert.match(unknown.message, /claude-haiku-9-9/);
  assert.match(unknown.message, /test\/claude-3\.5-sonnet/, 'the message lists what is available');

  const method = anthropicError(await anthropicRequest(stack.port, { method: 'GET', path: '/v1/messages' }), 405, 'invalid_request_error');
  assert.match(method.message, /POST/);
  anthropicError(await anthropicRequest(stack.port, { path: '/v1/messages/batches', body: {} }), 404, 'not_found_error');

  // VS Code's quota (Blocked): no retry, or Claude Code retries for minutes.
  const quota = await anthropicRequest(stack.port, { body: { model: 'claude-3.5-sonnet', max_tokens: 10, stream: true, messages: user('[[error:rate_limited:premium requests used up]]') } });
  assert.match(anthropicError(quota, 429, 'rate_limit_error').message, /premium requests used up/);
  assert.equal(quota.headers['x-should-retry'], 'false');
  assert.ok(Number(quota.headers['retry-after']) > 0);
  const chatQuota = await postChat(stack.port, { model: 'claude-3.5-sonnet', messages: user('[[error:rate_limited:premium requests used up]]') });
  openAiError(assert, chatQuota, 429);
  assert.equal(chatQuota.headers['x-should-retry'], undefined, 'chat completions unchanged');

  // After the head: an error event, nothing after it.
  const late = await anthropicRequest(stack.port, { body: { model: 'claude-3.5-sonnet', max_tokens: 10, stream: true, messages: user('[[error-after-delta:internal:the model broke]]') } });
  assert.equal(late.status, 200);
  const last = late.events.at(-1);
  assert.equal(last.event, 'error');
  assert.equal(last.data.error.type, 'api_error');
  assert.match(last.data.error.message, /the model broke/);
  assert.deepEqual(late.events.slice(0, 3).map((e) => e.event), ['message_start', 'content_block_start', 'content_block_delta']);
});

test('nginx\'s own refusals on /v1/messages are Anthropic-shaped: a body over the limit', async () => {
  const big = JSON.stringify({ model: 'claude-3.5-sonnet', max_tokens: 10, messages: user('x'.repeat(20 * 1024 * 1024)) });
  const response = await anthropicRequest(stack.port, { body: big });
  const error = anthropicError(response, 413, 'request_too_large');
  assert.match(error.message, /too large/);
  const chat = await postChat(stack.port, JSON.stringify({ model: 'gpt-4o', messages: user('x'.repeat(20 * 1024 * 1024)) }));
  openAiError(assert, chat, 413);
});

/** Bytes nginx must refuse itself: {status, headers, text, json} of its answer. */
function rawExchange(port, bytes) {
  return withTimeout(new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks).toString('utf8');
      const split = all.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = all.slice(0, split).split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
      }));
      const text = all.slice(split + 4);
      let json;
      try { json = JSON.parse(text); } catch { json = undefined; }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, text, json });
    });
    socket.end(bytes);
  }), 'a raw exchange');
}

test('nginx\'s own refusals on /v1/messages are Anthropic-shaped: a broken body, a broken header', async () => {
  const brokenBody = await rawExchange(stack.port, 'POST /v1/messages?beta=true HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
    'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n');
  assert.match(anthropicError(brokenBody, 400, 'invalid_request_error').message, /Malformed request body/);
  const brokenHeader = await rawExchange(stack.port, 'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
    'Bad Header Line\r\nConnection: close\r\n\r\n');
  assert.match(anthropicError(brokenHeader, 400, 'invalid_request_error').message, /Malformed HTTP request/);
  const chatHeader = await rawExchange(stack.port, 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
    'Bad Header Line\r\nConnection: close\r\n\r\n');
  assert.equal(chatHeader.status, 400);
  assert.equal(chatHeader.json.error.code, 'bad_request', 'chat keeps OpenAI\'s shape');
});

test('HEAD / answers 200: a client\'s connectivity probe', async () => {
  const response = await anthropicRequest(stack.port, { method: 'HEAD', path: '/' });
  assert.equal(response.status, 200);
  assert.equal(response.text, '');
});

test('no VS Code window: 529 overloaded_error, which Claude Code stops retrying', async () => {
  const response = await anthropicRequest(empty.port, { body: { model: 'claude-3.5-sonnet', max_tokens: 10, messages: user('hi') } });
  const error = anthropicError(response, 529, 'overloaded_error');
  assert.match(error.message, /No VS Code window/);
  const chat = await postChat(empty.port, { model: 'gpt-4o', messages: user('hi') });
  openAiError(assert, chat, 503);
  const count = await anthropicRequest(empty.port, { path: '/v1/messages/count_tokens', body: { model: 'claude-3.5-sonnet', messages: user('hi') } });
  assert.equal(count.status, 200, 'counting needs no window');
});

test('nginx\'s own 503 (no responder) is 529 overloaded_error on /v1/messages, 503 for chat', async () => {
  await empty.stopResponder('SIGTERM');
  const response = await anthropicRequest(empty.port, { body: { model: 'claude-3.5-sonnet', max_tokens: 10, messages: user('hi') } });
  assert.match(anthropicError(response, 529, 'overloaded_error').message, /responder is not running/);
  const count = await anthropicRequest(empty.port, { path: '/messages/count_tokens', body: { model: 'claude-3.5-sonnet', messages: user('hi') } });
  anthropicError(count, 529, 'overloaded_error');
  const chat = await postChat(empty.port, { model: 'gpt-4o', messages: user('hi') });
  assert.equal(openAiError(assert, chat, 503).code, 'responder_unavailable');
});

test('keys and one rate-limit budget shared with chat completions', async () => {
  const added = await limited.keys(['add', 'claude-code']);
  assert.equal(added.code, 0, added.stderr);
  const key = added.stdout.trim();
  // The responder re-reads the keys file within seconds; asking for the
  // models spends no request of the budget.
  await waitUntil(async () => (await anthropicRequest(limited.port, { method: 'GET', path: '/v1/models', headers: { 'x-api-key': 'sk-litellm-wrong' } })).status === 401,
    'the responder to load the new key');
  const wrong = await anthropicRequest(limited.port, { headers: { 'x-api-key': 'sk-litellm-wrong' }, body: { model: 'gpt-4o', max_tokens: 10, messages: user('hi') } });
  anthropicError(wrong, 401, 'authentication_error');

  // LIMITED_RPM requests per minute for everyone, whichever API they speak.
  const statuses = [];
  for (let i = 0; i < LIMITED_RPM; i++) {
    const marker = nonce(`budget${i}`);
    if (i % 2 === 0) {
      statuses.push((await postChat(limited.port, { model: 'gpt-4o', messages: user(marker) }, { headers: { authorization: `Bearer ${key}` } })).status);
    } else {
      statuses.push((await anthropicRequest(limited.port, { headers: { 'x-api-key': key }, body: { model: 'gpt-4o', max_tokens: 10, messages: user(marker) } })).status);
    }
  }
  assert.deepEqual(statuses, Array(LIMITED_RPM).fill(200));
  const over = await anthropicRequest(limited.port, { headers: { authorization: `Bearer ${key}` }, body: { model: 'gpt-4o', max_tokens: 10, messages: user('one too many') } });
  anthropicError(over, 429, 'rate_limit_error');
  assert.ok(Number(over.headers['retry-after']) > 0, 'the limiter says when');
  assert.equal(over.headers['x-ratelimit-limit-requests'], String(LIMITED_RPM));
  assert.equal(over.headers['x-should-retry'], undefined, 'a limiter wait may be retried');
  const chatOver = await postChat(limited.port, { model: 'gpt-4o', messages: user('chat too') }, { headers: { authorization: `Bearer ${key}` } });
  openAiError(assert, chatOver, 429);
});
