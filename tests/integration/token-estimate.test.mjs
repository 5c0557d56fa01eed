// The C token estimator (fcgi-app/token_estimate.c) against the real o200k_base
// tokenizer (js-tiktoken, pinned in tests/package.json) on the fixed sample of
// real text in tests/data/token-sample/. The estimator runs through its CLI,
// tests/unit/token_estimate_cli (TOKEN_ESTIMATE_CLI, set by `make check`).
// fcgi-app/TOKENS.md gives the method and the figures this prints.
//
// Bounds (error = estimate / real - 1):
//   total over the sample  -5% .. +10%  the estimator leans high on purpose (+4.9%
//                                      when calibrated); 10% over costs a tenth of a
//                                      budget, more than 5% under could let a prompt
//                                      past the context check that VS Code refuses
//   each file              -15% .. +25% one file's vocabulary moves it (-5..+14%
//                                      when calibrated); a broken scan is off by 30%+

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TOTAL_BOUNDS = [-0.05, 0.10];
const FILE_BOUNDS = [-0.15, 0.25];

const here = path.dirname(fileURLToPath(import.meta.url));
const srcdir = process.env.top_srcdir ? path.resolve(process.env.top_srcdir) : path.resolve(here, '..', '..');
const sampleDir = path.join(srcdir, 'tests', 'data', 'token-sample');

function cliPath() {
  const fromEnv = process.env.TOKEN_ESTIMATE_CLI;
  const candidates = fromEnv ? [fromEnv] : [path.join(srcdir, 'build', 'tests', 'unit', 'token_estimate_cli')];
  for (const candidate of candidates) if (fs.existsSync(candidate)) return candidate;
  throw new Error(`token_estimate_cli not found (${candidates.join(', ')}): build it with \`make check\` ` +
    '(or set TOKEN_ESTIMATE_CLI)');
}

async function o200k() {
  let tiktoken;
  try {
    tiktoken = await import('js-tiktoken');
  } catch (err) {
    throw new Error('js-tiktoken is missing: run `npm ci` in tests/ (tests/package-lock.json pins it)', { cause: err });
  }
  return tiktoken.getEncoding('o200k_base');
}

const cli = cliPath();
const enc = await o200k();
const files = fs.readdirSync(sampleDir).filter((f) => f !== 'README.md').sort();

/** The estimate of each file for a family or model id: Map(file name -> tokens). */
function estimates(family) {
  const out = execFileSync(cli, ['--family', family, ...files.map((f) => path.join(sampleDir, f))]);
  const map = new Map();
  for (const line of out.toString().trim().split('\n')) {
    const [tokens, file] = line.split('\t');
    map.set(path.basename(file), Number(tokens));
  }
  return map;
}

const real = new Map(files.map((f) => [f, enc.encode(fs.readFileSync(path.join(sampleDir, f), 'utf8')).length]));
const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

test('the sample is there and small', () => {
  assert.ok(files.length >= 15, `only ${files.length} files in ${sampleDir}`);
  const bytes = files.reduce((sum, f) => sum + fs.statSync(path.join(sampleDir, f)).size, 0);
  assert.ok(bytes > 200_000 && bytes < 300_000, `${bytes} bytes`);
});

test('gpt-4o: the estimate tracks o200k_base per file, per category and in total', (t) => {
  const est = estimates('gpt-4o');
  const categories = new Map();
  let realTotal = 0, estTotal = 0;
  const failures = [];
  t.diagnostic('  error   o200k  estimate  file');
  for (const f of files) {
    const r = real.get(f), e = est.get(f), err = e / r - 1;
    realTotal += r;
    estTotal += e;
    const category = f.split('-')[0];
    const c = categories.get(category) ?? [0, 0];
    categories.set(category, [c[0] + r, c[1] + e]);
    t.diagnostic(`${pct(err).padStart(7)} ${String(r).padStart(7)} ${String(e).padStart(9)}  ${f}`);
    if (err < FILE_BOUNDS[0] || err > FILE_BOUNDS[1]) failures.push(`${f}: ${pct(err)}`);
  }
  for (const [category, [r, e]] of categories) {
    t.diagnostic(`${pct(e / r - 1).padStart(7)} ${String(r).padStart(7)} ${String(e).padStart(9)}  [${category}]`);
  }
  const totalErr = estTotal / realTotal - 1;
  t.diagnostic(`${pct(totalErr).padStart(7)} ${String(realTotal).padStart(7)} ${String(estTotal).padStart(9)}  TOTAL`);
  assert.deepEqual(failures, [], `files outside ${pct(FILE_BOUNDS[0])}..${pct(FILE_BOUNDS[1])}`);
  assert.ok(totalErr >= TOTAL_BOUNDS[0] && totalErr <= TOTAL_BOUNDS[1],
    `total error ${pct(totalErr)} outside ${pct(TOTAL_BOUNDS[0])}..${pct(TOTAL_BOUNDS[1])}`);
});

test('every o200k_base family estimates the same; model ids resolve to their family', () => {
  const gpt4o = estimates('gpt-4o');
  for (const family of ['gpt-4o-mini', 'gpt-4.1', 'o1', 'o1-mini', 'o3-mini', 'copilot/gpt-4o-2024-08-06']) {
    assert.deepEqual(estimates(family), gpt4o, family);
  }
});

test('claude and unknown models: the o200k estimate x 1.30; gemini x 1.10', () => {
  const gpt4o = estimates('gpt-4o');
  for (const [family, factor] of [['claude-3.5-sonnet', 1.3], ['copilot/claude-sonnet-4', 1.3],
    ['some-unknown-model', 1.3], ['gemini-2.0-flash', 1.1]]) {
    const est = estimates(family);
    for (const f of files) {
      const expected = gpt4o.get(f) * factor;
      assert.ok(Math.abs(est.get(f) - expected) <= expected * 0.002 + 1, `${family} ${f}: ${est.get(f)} vs ${expected}`);
    }
  }
});

test('messages: OpenAI\'s count (3 a message + 3 for the reply), from the real tokenizer, within bounds', (t) => {
  const text = (f, n) => fs.readFileSync(path.join(sampleDir, f), 'utf8').slice(0, n);
  const conversations = [
    [{ role: 'user', content: 'Hello!' }],
    [{ role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: text('markdown-README.md', 4000) },
      { role: 'assistant', content: text('code-c-router.c', 3000) },
      { role: 'user', name: 'reviewer', content: text('man-ja-apt-cache.8', 2000) }],
    [{ role: 'user', content: [{ type: 'text', text: text('prose-license-GPL-3.txt', 5000) },
      { type: 'text', text: text('code-ts-mapping.ts', 5000) }] }],
  ];
  for (const messages of conversations) {
    // openai-cookbook "How to count tokens with tiktoken": 3 per message,
    // every value's tokens, 1 per name, 3 to prime the reply.
    let expected = 3;
    for (const m of messages) {
      expected += 3 + enc.encode(m.role).length;
      if (m.name) expected += 1 + enc.encode(m.name).length;
      const content = typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('');
      expected += enc.encode(content).length;
    }
    const got = Number(execFileSync(cli, ['--messages', '--family', 'gpt-4o'], { input: JSON.stringify(messages) }));
    t.diagnostic(`${messages.length} message(s): real ${expected}, estimate ${got} (${pct(got / expected - 1)})`);
    assert.ok(got >= expected && got <= expected * 1.25 + 3, `${got} vs ${expected}`);
  }
});
