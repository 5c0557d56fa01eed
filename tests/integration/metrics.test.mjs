// GET /metrics (issue 16, item 1) through real nginx: the counters, labels and
// histogram counts match the requests this file sends (chat, messages,
// responses; 200, 401, 404 and a 429 through a key's limit); `promtool check
// metrics` is clean on the text; a real Prometheus server scrapes the gateway
// through nginx (with the metrics token) and its query API returns the
// request and token counts; the token opens /metrics (wrong token: 401); two
// responder processes on one state directory report the same totals, and
// totals survive a responder restart (whose token litellmctl passes from
// LITELLM_METRICS_TOKEN).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  useStacks, writeFcgiConfig, httpRequest, chatBody, waitUntil, freePort, isAlive,
  run, makeTempDir, nonce, COMMAND_GUARD_MS,
} from './harness.mjs';

const PROMETHEUS = process.env.PROMETHEUS ?? '/usr/bin/prometheus';
const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';
const TOKEN = `metrics-${nonce('tok')}`;

let ctlArgs;
const [a, b] = useStacks({ before, after }, 2, ({ dir }) => {
  const stateFile = path.join(dir, 'limits.state');
  const config = writeFcgiConfig(path.join(dir, 'litellm-fcgi.conf'), { 'metrics-token': TOKEN });
  ctlArgs = ['--fcgi-config', config];
  const workerArgs = ['--models', 'gpt-4o,claude-3.5-sonnet'];
  // B has no config file: its token comes from litellmctl's LITELLM_METRICS_TOKEN (last test).
  return [{ ctlArgs, stateFile, workerArgs }, { stateFile, workerArgs }];
}, { tag: 'metrics' });

/** Prometheus text → [{name, labels, value}] (the lines this gateway writes). */
function parseExposition(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `a sample line: ${JSON.stringify(line)}`);
    const labels = {};
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    let m;
    while ((m = labelRe.exec(match[2] ?? '')) !== null) {
      labels[m[1]] = m[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples of `name` whose labels include `where`. */
function total(samples, name, where = {}) {
  return samples.filter((s) => s.name === name &&
    Object.entries(where).every(([k, v]) => (s.labels[k] ?? '') === v))
    .reduce((sum, s) => sum + s.value, 0);
}

async function scrape(stack, headers = {}) {
  const response = await httpRequest(stack.port, { path: '/metrics', headers });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  return { text: response.text, samples: parseExposition(response.text) };
}

const expected = { requests: 0, input: 0, output: 0 };
let alice;
let bob;

function json(body) { return JSON.stringify(body); }

async function send(stack, { path: urlPath, headers = {}, body }) {
  const response = await httpRequest(stack.port, {
    method: 'POST', path: urlPath, headers: { 'content-type': 'application/json', ...headers }, body: json(body),
  });
  expected.requests++;
  return response;
}

async function addKeys() {
  const added = await a.keys(['add', 'alice']);
  assert.equal(added.code, 0, added.stderr);
  alice = added.stdout.trim();
  const limited = await a.keys(['add', 'bob', '--rpm', '1']);
  assert.equal(limited.code, 0, limited.stderr);
  bob = limited.stdout.trim();
  // The responder reads the keys file within a second, and may read it
  // between the two adds: wait until keys are required and both keys work
  // (asking /v1/models, which is no model call: not counted).
  const models = async (headers = {}) => (await httpRequest(a.port, { path: '/v1/models', headers })).status;
  await waitUntil(async () => await models() === 401 &&
      await models({ authorization: `Bearer ${alice}` }) === 200 && await models({ authorization: `Bearer ${bob}` }) === 200,
    'stack A to require its keys and know both');
}

const seen = {}; // label set → what this file sent with it

test('chat, messages and responses, succeeding and failing, are counted with their labels', async () => {
  await addKeys();
  const chat = await send(a, { path: '/v1/chat/completions', headers: { authorization: `Bearer ${alice}` },
    body: chatBody('metrics chat') });
  assert.equal(chat.status, 200, chat.text);
  seen.chat = { input: chat.json.usage.prompt_tokens, output: chat.json.usage.completion_tokens };
  const messages = await send(a, { path: '/v1/messages', headers: { 'x-api-key': alice, 'anthropic-version': '2023-06-01' },
    body: { model: 'claude-3.5-sonnet', max_tokens: 64, messages: [{ role: 'user', content: 'metrics messages' }] } });
  assert.equal(messages.status, 200, messages.text);
  seen.messages = { input: messages.json.usage.input_tokens, output: messages.json.usage.output_tokens };
  const responses = await send(a, { path: '/v1/responses', headers: { authorization: `Bearer ${alice}` },
    body: { model: 'gpt-4o', input: 'metrics responses', stream: true } });
  assert.equal(responses.status, 200, responses.text);
  const completed = responses.text.split('\n').filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6))).find((e) => e.type === 'response.completed');
  seen.responses = { input: completed.response.usage.input_tokens, output: completed.response.usage.output_tokens };
  for (const one of Object.values(seen)) { expected.input += one.input; expected.output += one.output; }

  assert.equal((await send(a, { path: '/v1/chat/completions', headers: { authorization: 'Bearer sk-litellm-wrong' },
    body: chatBody('wrong key') })).status, 401);
  assert.equal((await send(a, { path: '/v1/chat/completions', headers: { authorization: `Bearer ${alice}` },
    body: chatBody('unknown', { model: 'no-such-model' }) })).status, 404);
  assert.equal((await send(a, { path: '/v1/chat/completions', headers: { authorization: `Bearer ${bob}` },
    body: chatBody('bob once') })).status, 200);
  const refused = await send(a, { path: '/v1/chat/completions', headers: { authorization: `Bearer ${bob}` },
    body: chatBody('bob twice') });
  assert.equal(refused.status, 429, refused.text);
  await a.responderIdle();

  const { text, samples } = await scrape(a);
  const requests = 'litellm_proxy_total_requests_metric_total';
  const ok = (api, requested) => total(samples, requests, { api, requested_model: requested, api_key_alias: 'alice', status_code: '200' });
  assert.equal(ok('chat', 'gpt-4o'), 1, text);
  assert.equal(ok('messages', 'claude-3.5-sonnet'), 1);
  assert.equal(ok('responses', 'gpt-4o'), 1);
  assert.equal(total(samples, requests, { api: 'chat', status_code: '401', api_key_alias: '' }), 1, 'the 401: no key name');
  assert.equal(total(samples, requests, { status_code: '404', requested_model: 'no-such-model', model: '' }), 1);
  assert.equal(total(samples, requests, { status_code: '429', api_key_alias: 'bob' }), 1);
  assert.equal(total(samples, requests), expected.requests, 'every request this file sent, and no other');
  const failed = 'litellm_proxy_failed_requests_metric_total';
  assert.equal(total(samples, failed), 3);
  assert.equal(total(samples, failed, { exception_status: '429', exception_class: 'RateLimitError' }), 1);
  assert.equal(total(samples, failed, { exception_status: '401', exception_class: 'AuthenticationError' }), 1);

  // Tokens: what the responses said, per API and in all (bob's 200 too).
  for (const [api, one] of Object.entries(seen)) {
    assert.equal(total(samples, 'litellm_input_tokens_metric_total', { api, api_key_alias: 'alice' }), one.input, api);
    assert.equal(total(samples, 'litellm_output_tokens_metric_total', { api, api_key_alias: 'alice' }), one.output, api);
    assert.equal(total(samples, 'litellm_total_tokens_metric_total', { api, api_key_alias: 'alice' }), one.input + one.output, api);
  }
  // Histograms: one observation per request, TTFT for those with a first token.
  assert.equal(total(samples, 'litellm_request_total_latency_metric_count'), expected.requests);
  assert.equal(total(samples, 'litellm_request_total_latency_metric_bucket', { le: '+Inf' }), expected.requests);
  assert.equal(total(samples, 'litellm_overhead_latency_metric_count'), expected.requests);
  assert.equal(total(samples, 'litellm_llm_api_time_to_first_token_metric_count'), 4, 'the four answered calls');
  assert.equal(total(samples, 'litellm_llm_api_time_to_first_token_metric_count', { api: 'messages' }), 1);
  const latencySum = total(samples, 'litellm_request_total_latency_metric_sum');
  const overheadSum = total(samples, 'litellm_overhead_latency_metric_sum');
  assert.ok(latencySum > 0 && overheadSum > 0 && overheadSum <= latencySum, `overhead ${overheadSum} <= total ${latencySum}`);

  // The gateway's own.
  assert.equal(total(samples, 'vscode_litellm_rate_limited_total', { scope: 'key', kind: 'requests' }), 1);
  assert.equal(total(samples, 'vscode_litellm_rate_limited_total'), 1);
  assert.equal(total(samples, 'litellm_remaining_api_key_requests_for_model', { api_key_alias: 'bob' }), 0);
  assert.equal(total(samples, 'vscode_litellm_windows_connected'), 1);
  assert.equal(total(samples, 'vscode_litellm_models_offered'), 2);
  assert.equal(total(samples, 'vscode_litellm_requests_in_flight'), 0);
  assert.equal(total(samples, 'vscode_litellm_limits_store_info', { configured: 'shm', active: 'shm' }), 1);
  assert.equal(total(samples, 'vscode_litellm_limits_store_fallback_active'), 0);
  assert.ok(total(samples, 'vscode_litellm_pipe_frames_total', { direction: 'in' }) >= 5);
  assert.ok(total(samples, 'vscode_litellm_pipe_frames_total', { direction: 'out' }) >= 5);
  assert.ok(total(samples, 'vscode_litellm_responder_threads', { state: 'max' }) >= 1);
  assert.equal(total(samples, 'vscode_litellm_build_info'), 1);
  // hashed_api_key is no secret: neither secret appears anywhere.
  assert.ok(!text.includes(alice) && !text.includes(bob) && !text.includes(alice.slice(11, 30)), 'no secret in /metrics');
  const hashes = new Set(samples.filter((s) => s.labels.api_key_alias === 'alice').map((s) => s.labels.hashed_api_key));
  assert.equal(hashes.size, 1);
  assert.match([...hashes][0], /^[0-9a-f]{16}$/);
});

test('promtool check metrics is clean on the output', async () => {
  assert.ok(fs.existsSync(PROMTOOL), `${PROMTOOL} (Debian package prometheus; contrib/bootstrap.sh test installs it)`);
  const { text } = await scrape(a);
  const result = await run(PROMTOOL, ['check', 'metrics'], { input: text });
  assert.equal(result.code, 0, `promtool: ${result.stdout}${result.stderr}`);
  assert.equal(`${result.stdout}${result.stderr}`.trim(), '', 'no lint findings');
});

test('the metrics token through nginx: right token 200, wrong token 401', async () => {
  await scrape(a, { authorization: `Bearer ${TOKEN}` });
  const wrong = await httpRequest(a.port, { path: '/metrics', headers: { authorization: 'Bearer not-the-token' } });
  assert.equal(wrong.status, 401, wrong.text);
  assert.equal(wrong.json.error.code, 'invalid_metrics_token');
  // An API key opens nothing here.
  const key = await httpRequest(a.port, { path: '/metrics', headers: { authorization: `Bearer ${alice}` } });
  assert.equal(key.status, 401);
});

test('a real Prometheus scrapes the gateway through nginx and its query API returns the counts', async (t) => {
  assert.ok(fs.existsSync(PROMETHEUS), `${PROMETHEUS} (Debian package prometheus; contrib/bootstrap.sh test installs it)`);
  const dir = makeTempDir('prom');
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), [
    'global:',
    '  scrape_interval: 1s',
    'scrape_configs:',
    '  - job_name: vscode-litellm',
    '    metrics_path: /metrics',
    '    authorization:',
    `      credentials: ${TOKEN}`,
    '    static_configs:',
    `      - targets: ['127.0.0.1:${a.port}']`,
    '',
  ].join('\n'));
  const log = fs.openSync(path.join(dir, 'prometheus.log'), 'w');
  const server = spawn(PROMETHEUS, [
    `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', log, log] });
  t.after(async () => {
    if (isAlive(server.pid)) server.kill('SIGTERM');
    await waitUntil(() => server.exitCode !== null || server.signalCode !== null, 'prometheus to exit', COMMAND_GUARD_MS);
    fs.closeSync(log);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // Prometheus's own API, not the gateway's: plain fetch (the spec guard
  // would take its 503 "Service Unavailable" while starting for a violation).
  const query = async (expr) => {
    let body;
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (response.status !== 200) return null;
      body = await response.json();
    } catch { return null; } // not listening yet
    if (body?.status !== 'success') return null;
    const [first] = body.data.result;
    return first ? Number(first.value[1]) : null;
  };
  const want = {
    'sum(litellm_proxy_total_requests_metric_total)': expected.requests,
    'sum(litellm_input_tokens_metric_total{api_key_alias="alice"})': seen.chat.input + seen.messages.input + seen.responses.input,
    'sum(litellm_output_tokens_metric_total{api_key_alias="alice"})': seen.chat.output + seen.messages.output + seen.responses.output,
    'sum(litellm_proxy_failed_requests_metric_total)': 3,
  };
  for (const [expr, value] of Object.entries(want)) {
    await waitUntil(async () => (await query(expr)) === value,
      `Prometheus to answer ${expr} = ${value} (log: ${path.join(dir, 'prometheus.log')})`, COMMAND_GUARD_MS, 250);
  }
  assert.equal(await query('up{job="vscode-litellm"}'), 1);
});

test('two responders on one state directory report the same totals, and totals survive a restart', async () => {
  const requests = 'litellm_proxy_total_requests_metric_total';
  // B is open on loopback (no keys of its own).
  for (const text of ['via b 1', 'via b 2']) {
    const response = await send(b, { path: '/v1/chat/completions', body: chatBody(text) });
    assert.equal(response.status, 200, response.text);
  }
  await b.responderIdle();
  const fromA = await scrape(a);
  const fromB = await scrape(b);
  assert.equal(total(fromA.samples, requests), expected.requests);
  assert.equal(total(fromB.samples, requests), expected.requests, 'B sums A\'s slot too');
  assert.equal(total(fromA.samples, requests, { api_key_alias: '', status_code: '200' }), 2);
  assert.equal(total(fromA.samples, 'vscode_litellm_responder_processes'), 2);

  // B's responder stops: A still counts its requests; a new B goes on from them.
  await b.stopResponder();
  const without = await scrape(a);
  assert.equal(total(without.samples, requests), expected.requests, 'a stopped responder\'s counts stay');
  assert.equal(total(without.samples, 'vscode_litellm_responder_processes'), 1);
  // litellmctl hands LITELLM_METRICS_TOKEN to the new responder as --metrics-token.
  const tokenB = `metrics-b-${nonce('tok')}`;
  const started = await b.ctl(['start'], { env: { LITELLM_METRICS_TOKEN: tokenB } });
  assert.equal(started.code, 0, started.stderr);
  const cmdline = fs.readFileSync(`/proc/${await b.responderPid()}/cmdline`, 'utf8').split('\0');
  assert.equal(cmdline[cmdline.indexOf('--metrics-token') + 1], tokenB, `responder command line: ${cmdline.join(' ')}`);
  await waitUntil(async () => (await b.health()).json?.windows >= 1, 'B\'s worker to reconnect', COMMAND_GUARD_MS);
  const again = await send(b, { path: '/v1/chat/completions', body: chatBody('after restart') });
  assert.equal(again.status, 200, again.text);
  await b.responderIdle();
  for (const stack of [a, b]) {
    const { samples } = await scrape(stack);
    assert.equal(total(samples, requests), expected.requests, 'totals kept growing across the restart');
    assert.equal(total(samples, requests, { api_key_alias: '', status_code: '200' }), 3);
    assert.equal(total(samples, 'vscode_litellm_responder_processes'), 2);
  }
  await scrape(b, { authorization: `Bearer ${tokenB}` });
  assert.equal((await httpRequest(b.port, { path: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).status, 401,
    'B\'s token is its own');
});
