// The real curl binary against the real stack (nginx → litellm-fcgi → pipe → test worker).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  useStack, curl, parseCurlResponse, assertCompletion, assertStreamBody, repoReadme, nonce, run, checkCurlOutput,
} from './harness.mjs';

const stack = useStack({ before, after });

const url = (urlPath) => `http://127.0.0.1:${stack.port}${urlPath}`;

test('curl: non-stream chat completion returns one chat.completion JSON', async () => {
  const marker = nonce('curl');
  const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `Say hello back ${marker}` }] });
  const result = await curl(['-sS', '-i', url('/v1/chat/completions'), '-H', 'Content-Type: application/json', '-d', body]);
  assert.equal(result.code, 0, result.stderr);
  const response = parseCurlResponse(result.stdout);
  assert.equal(response.status, 200, response.body);
  assert.match(response.headers['content-type'], /^application\/json/);
  assert.ok(response.headers['x-request-id'], 'x-request-id header');
  const choice = assertCompletion(assert, JSON.parse(response.body));
  assert.equal(choice.message.content, `Say hello back ${marker}`);
  assert.equal(choice.finish_reason, 'stop');
  const request = await stack.worker.waitRequest(marker);
  assert.equal(request.model, 'test/gpt-4o', 'the family resolves to the worker model id');
  assert.equal(request.id, response.headers['x-request-id'], 'the pipe request id is the x-request-id (one id in every log)');
});

test('curl -N: streaming has SSE headers, role chunk, content chunks, finish_reason and [DONE]', async () => {
  const marker = nonce('curlsse');
  const body = JSON.stringify({
    model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: `[[chunks:4]] ${marker}` }],
  });
  const result = await curl(['-sS', '-N', '-i', url('/v1/chat/completions'), '-H', 'Content-Type: application/json', '-d', body]);
  assert.equal(result.code, 0, result.stderr);
  const response = parseCurlResponse(result.stdout);
  assert.equal(response.status, 200, response.body);
  assert.match(response.headers['content-type'], /^text\/event-stream/);
  assert.match(response.headers['cache-control'] ?? '', /no-cache/);
  assert.ok(response.headers['x-request-id'], 'x-request-id header');
  assert.equal(response.headers['content-length'], undefined, 'a stream has no content-length');
  const { chunks, content, finishReason } = assertStreamBody(assert, response.body);
  assert.equal(content, 'c1 c2 c3 c4 ');
  assert.equal(finishReason, 'stop');
  const contentChunks = chunks.filter((c) => c.choices[0]?.delta?.content);
  assert.equal(contentChunks.length, 4, 'one content chunk per worker delta');
});

test('curl: the request id header is a fresh value on every response', async () => {
  const ids = new Set();
  for (let i = 0; i < 3; i++) {
    const result = await curl(['-sS', '-i', url('/health')]);
    assert.equal(result.code, 0, result.stderr);
    const response = parseCurlResponse(result.stdout);
    assert.equal(response.status, 200);
    assert.ok(response.headers['x-request-id']);
    ids.add(response.headers['x-request-id']);
  }
  assert.equal(ids.size, 3);
});

// ---------------------------------------------------------------- README examples

const examplesFile = fileURLToPath(new URL('./readme-examples.txt', import.meta.url));
const examples = fs.readFileSync(examplesFile, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

test('readme-examples.txt holds the two curl examples', () => {
  assert.equal(examples.length, 2);
  for (const line of examples) assert.match(line, /^curl .*localhost:4000\/v1\/chat\/completions/);
});

test('README.md contains each README example verbatim', () => {
  assert.ok(fs.existsSync(repoReadme), `${repoReadme} exists`);
  const readme = fs.readFileSync(repoReadme, 'utf8');
  for (const line of examples) {
    assert.ok(readme.includes(line), `README.md lacks the line:\n${line}`);
  }
});

test('README.md carries the compatibility table that compat-matrix.test.mjs checks', () => {
  const readme = fs.readFileSync(repoReadme, 'utf8');
  const table = fs.readFileSync(new URL('../spec/COMPATIBILITY.md', import.meta.url), 'utf8');
  const rows = table.split('\n').filter((line) => line.startsWith('| `'));
  assert.ok(rows.length > 20, 'the table has a row per parameter');
  for (const row of rows) assert.ok(readme.includes(row), `README.md lacks the row:\n${row}`);
});

async function runExample(line) {
  const command = line.replaceAll('localhost:4000', `localhost:${stack.port}`);
  assert.notEqual(command, line, 'the example names port 4000');
  const result = await run('bash', ['-c', `${command} --silent --show-error`]);
  // What curl printed is validated against OpenAI's OpenAPI document like every response.
  if (result.code === 0) checkCurlOutput(command.match(/http:\/\/\S+/)[0], 'POST', result.stdout);
  return result;
}

test('README example 1 (non-stream) works as written', async () => {
  const result = await runExample(examples[0]);
  assert.equal(result.code, 0, result.stderr);
  const choice = assertCompletion(assert, JSON.parse(result.stdout));
  assert.equal(choice.message.content, 'Hello!');
  assert.equal(choice.finish_reason, 'stop');
});

test('README example 2 (stream) works as written', async () => {
  const result = await runExample(examples[1]);
  assert.equal(result.code, 0, result.stderr);
  const { content, finishReason } = assertStreamBody(assert, result.stdout);
  assert.equal(content, 'Hello!');
  assert.equal(finishReason, 'stop');
});
