// peer-shim.mjs: the peer of `make bench`.  A small node:http OpenAI shim
// that does what the popular VS Code LM proxy extensions do inside the
// extension host: read the body, JSON.parse it, map the OpenAI messages to
// LanguageModelChatMessage-like objects, call the model, and answer with one
// chat.completion object or with one SSE `data:` write per text part.
//
// The model is in-process and instant, the same kind as
// tests/bench/instant_worker.c: an async generator yielding
//   (plain text)                 one part "Hello! This is an instant reply ..."
//   [[bench:stream:N:PACE_US]]   N parts "<CLOCK_MONOTONIC ns> " PACE_US apart
//                                (process.hrtime.bigint() is CLOCK_MONOTONIC on Linux)
//   [[bench:hold]]               one part "held", then nothing until the client leaves
//
//   node peer-shim.mjs --port PORT     prints "listening PORT" when ready
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

const INSTANT_REPLY = 'Hello! This is an instant reply from the benchmark worker.';

// ---- what vscode.LanguageModelChatMessage and a model look like to the proxies

const Role = { User: 1, Assistant: 2 };

class TextPart {
  constructor(value) { this.value = value; }
}

class ChatMessage {
  constructor(role, content, name) {
    this.role = role;
    this.content = typeof content === 'string' ? [new TextPart(content)] : content;
    this.name = name;
  }
}

function contentText(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (part && part.type === 'text' ? part.text : '')).join('');
  return '';
}

/** OpenAI messages → chat messages, as the proxies map them (system folded into a user turn). */
function mapMessages(messages) {
  return messages.map((message) => new ChatMessage(
    message.role === 'assistant' ? Role.Assistant : Role.User,
    contentText(message.content),
    message.name,
  ));
}

const instantModel = {
  id: 'bench/gpt-4o',
  family: 'gpt-4o',
  async sendRequest(messages, options, token) {
    const last = messages.at(-1);
    const text = last ? last.content.map((part) => part.value).join('') : '';
    return { text: parts(text, token) };
  },
};

async function* parts(text, token) {
  const stream = /\[\[bench:stream:(\d+):(\d+)\]\]/.exec(text);
  if (stream) {
    const chunks = Number(stream[1]);
    const paceMs = Number(stream[2]) / 1000;
    for (let i = 0; i < chunks && !token.cancelled; i++) {
      if (paceMs > 0 && i > 0) await sleep(paceMs);
      yield `${process.hrtime.bigint()} `;
    }
    return;
  }
  if (text.includes('[[bench:hold]]')) {
    yield 'held';
    await token.cancelledPromise;
    return;
  }
  yield INSTANT_REPLY;
}

// ---- the HTTP side

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function chunkObject(id, created, model, delta, finishReason = null) {
  return {
    id, object: 'chat.completion.chunk', created, model, system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

async function chatCompletions(req, res) {
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    sendJson(res, 400, { error: { message: 'Invalid JSON', type: 'invalid_request_error', param: null, code: 'invalid_json' } });
    return;
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    sendJson(res, 400, { error: { message: 'messages is required', type: 'invalid_request_error', param: 'messages', code: null } });
    return;
  }
  const token = { cancelled: false };
  token.cancelledPromise = new Promise((resolve) => { token.cancel = () => { token.cancelled = true; resolve(); }; });
  res.on('close', () => token.cancel());

  const id = `chatcmpl-${randomUUID().replace(/-/g, '')}`;
  const created = Math.floor(Date.now() / 1000);
  const model = instantModel.id;
  const response = await instantModel.sendRequest(mapMessages(body.messages), {}, token);

  if (body.stream === true) {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'x-request-id': id });
    res.write(`data: ${JSON.stringify(chunkObject(id, created, model, { role: 'assistant', content: '' }))}\n\n`);
    for await (const text of response.text) {
      if (token.cancelled) break;
      res.write(`data: ${JSON.stringify(chunkObject(id, created, model, { content: text }))}\n\n`);
    }
    if (token.cancelled) return;
    res.write(`data: ${JSON.stringify(chunkObject(id, created, model, {}, 'stop'))}\n\n`);
    res.write('data: [DONE]\n\n');
    res.end();
    return;
  }
  let content = '';
  for await (const text of response.text) content += text;
  sendJson(res, 200, {
    id, object: 'chat.completion', created, model, system_fingerprint: null,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 8, completion_tokens: 12, total_tokens: 20, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
  });
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && (req.url === '/v1/chat/completions' || req.url === '/chat/completions')) {
    chatCompletions(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(err), type: 'server_error', param: null, code: null } });
      else res.destroy();
    });
    return;
  }
  sendJson(res, 404, { error: { message: 'Not found', type: 'invalid_request_error', param: null, code: 'unknown_url' } });
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0;

const portIndex = process.argv.indexOf('--port');
const port = portIndex > 0 ? Number(process.argv[portIndex + 1]) : 0;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
