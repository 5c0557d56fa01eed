// token-calibrate.mjs: fits the cost table of fcgi-app/token_estimate.c to
// OpenAI's o200k_base tokenizer (js-tiktoken) on a training corpus, and
// rewrites the GENERATED COSTS block of that file. Not a test: run by hand
// after changing the scan (fcgi-app/TOKENS.md, "Calibration").
//
//   node tests/integration/token-calibrate.mjs [--margin 1.03] [--write FILE.c] \
//        build/tests/unit/token_estimate_cli TRAINING-FILE...
//
// The CLI's --pieces mode cuts each file the way the C scan does; each piece
// is encoded alone (a BPE token never crosses a pretokenizer piece, so the
// pieces' counts add up to the file's count) and:
//   - pieces of ASCII only: the mean count per (row, length) is the table;
//     thin cells (< 8 pieces) are interpolated, and a row never gets cheaper
//     as it gets longer; past 32 a slope;
//   - pieces with an English contraction: the mean extra over their row;
//   - pieces with non-ASCII characters: least squares for a cost per
//     character category plus, per row, a base for pieces without ASCII.
// Every cost is then multiplied by the margin (over-estimating a little).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { getEncoding } from 'js-tiktoken';

const args = process.argv.slice(2);
let margin = 1.03, write = null;
while (args[0]?.startsWith('--')) {
  const opt = args.shift();
  if (opt === '--margin') margin = Number(args.shift());
  else if (opt === '--write') write = args.shift();
  else throw new Error(`unknown option ${opt}`);
}
const [cli, ...files] = args;
if (!cli || files.length === 0) {
  console.error('usage: token-calibrate.mjs [--margin M] [--write token_estimate.c] CLI FILE...');
  process.exit(2);
}

// The table's shape, as in token_estimate.c.
const WORD_ROWS = 4 * 3, ROW_DIGITS = WORD_ROWS, ROW_INVALID = ROW_DIGITS + 1 + 6 + 2 + 2;
const ROWS = ROW_INVALID + 1, COLS = 33, CATS = 10, MIN = 8;

const enc = getEncoding('o200k_base');
const sum = Array.from({ length: ROWS }, () => new Float64Array(COLS));
const cnt = Array.from({ length: ROWS }, () => new Float64Array(COLS));
const long = Array.from({ length: ROWS }, () => []);
const suffixed = [], nonAscii = [];
let real = 0, ofPieces = 0;

for (const file of files) {
  const buf = fs.readFileSync(file);
  real += enc.encode(buf.toString('utf8')).length;
  const out = execFileSync(cli, ['--pieces', file], { maxBuffer: 1 << 28 }).toString().trim();
  for (const line of out.split('\n')) {
    const f = line.split(' ').map(Number);
    const [offset, len, row, ascii, suffix, nonascii] = f;
    if (row === ROW_INVALID) continue;
    const t = enc.encode(buf.subarray(offset, offset + len).toString('utf8')).length;
    ofPieces += t;
    if (nonascii > 0) nonAscii.push({ row, ascii, suffix, cats: f.slice(7, 7 + CATS), t });
    else if (suffix) suffixed.push({ row, ascii, t });
    else if (ascii < COLS) { sum[row][ascii] += t; cnt[row][ascii]++; }
    else long[row].push([ascii, t]);
  }
}
console.error(`tokens: ${real} in the files, ${ofPieces} as the sum of the pieces`);

const table = [];
for (let r = 0; r < ROWS; r++) {
  const row = new Float64Array(COLS).fill(NaN);
  if (r === ROW_INVALID) row.fill(1);
  else for (let c = 1; c < COLS; c++) if (cnt[r][c] >= MIN) row[c] = sum[r][c] / cnt[r][c];
  const known = [];
  for (let c = 1; c < COLS; c++) if (!Number.isNaN(row[c])) known.push(c);
  for (let c = 1; c < COLS; c++) {
    if (!Number.isNaN(row[c])) continue;
    const lo = known.filter((k) => k < c).pop(), hi = known.find((k) => k > c);
    if (lo === undefined && hi === undefined) row[c] = 1 + (c - 1) * 0.3;
    else if (lo === undefined) row[c] = row[hi];
    else if (hi === undefined) row[c] = row[lo] + (c - lo) * 0.3;
    else row[c] = row[lo] + ((row[hi] - row[lo]) * (c - lo)) / (hi - lo);
  }
  for (let c = 2; c < COLS; c++) row[c] = Math.max(row[c], row[c - 1]);
  row[0] = 0;
  table.push(row);
}
const slope = table.map((row, r) => {
  if (r === ROW_INVALID) return 1;
  if (long[r].length < MIN) return 0.3;
  let num = 0, den = 0;
  for (const [n, t] of long[r]) { num += (t - row[COLS - 1]) * (n - COLS + 1); den += (n - COLS + 1) ** 2; }
  return Math.max(0.05, num / den);
});
const cost = (r, a) => (a < COLS ? table[r][a] : table[r][COLS - 1] + slope[r] * (a - COLS + 1));
const suffixCost = suffixed.length
  ? suffixed.reduce((acc, p) => acc + p.t - cost(p.row, p.ascii), 0) / suffixed.length : 1;

// Least squares: residual = sum_k cost_k * count_k + base_row * [no ASCII].
const n = CATS + ROWS;
const A = Array.from({ length: n }, () => new Float64Array(n + 1));
for (const p of nonAscii) {
  const x = new Float64Array(n);
  p.cats.forEach((k, i) => { x[i] = k; });
  if (p.ascii === 0) x[CATS + p.row] = 1;
  const y = p.t - (p.ascii > 0 ? cost(p.row, p.ascii) : 0) - (p.suffix ? suffixCost : 0);
  for (let i = 0; i < n; i++) {
    if (!x[i]) continue;
    A[i][n] += x[i] * y;
    for (let j = 0; j < n; j++) A[i][j] += x[i] * x[j];
  }
}
for (let i = 0; i < n; i++) A[i][i] += 1e-3;   // unused unknowns stay 0
for (let i = 0; i < n; i++) {
  let best = i;
  for (let k = i + 1; k < n; k++) if (Math.abs(A[k][i]) > Math.abs(A[best][i])) best = k;
  [A[i], A[best]] = [A[best], A[i]];
  for (let k = i + 1; k < n; k++) {
    const f = A[k][i] / A[i][i];
    for (let j = i; j <= n; j++) A[k][j] -= f * A[i][j];
  }
}
const x = new Float64Array(n);
for (let i = n - 1; i >= 0; i--) {
  let s = A[i][n];
  for (let j = i + 1; j < n; j++) s -= A[i][j] * x[j];
  x[i] = s / A[i][i];
}
const categoryCost = Array.from(x.subarray(0, CATS), (v) => Math.max(0, v));
for (let r = 0; r < ROWS; r++) if (r !== ROW_INVALID) table[r][0] = Math.max(0, x[CATS + r]);
console.error('category costs', categoryCost.map((v) => v.toFixed(3)).join(' '));
console.error('contraction', suffixCost.toFixed(3));

const q = (v) => Math.min(65535, Math.round(v * margin * 256));
const lines = ['/* BEGIN GENERATED COSTS (o200k_base; see TOKENS.md "Calibration") */',
  'static const uint16_t row_cost[ROWS][COLUMNS] = {'];
for (const row of table) {
  const v = Array.from(row, q);
  lines.push(`    { ${v.slice(0, 11).join(', ')},`, `      ${v.slice(11, 22).join(', ')},`,
    `      ${v.slice(22).join(', ')} },`);
}
lines.push('};', 'static const uint16_t row_slope[ROWS] = {');
lines.push(`    ${slope.slice(0, 12).map(q).join(', ')},`, `    ${slope.slice(12).map(q).join(', ')}`, '};');
lines.push('static const uint16_t category_cost[TOKEN_PIECE_CATEGORIES] = {',
  `    ${categoryCost.map(q).join(', ')}`, '};');
lines.push(`static const uint16_t suffix_cost = ${q(suffixCost)};`, '/* END GENERATED COSTS */');
const block = lines.join('\n');
if (write) {
  const src = fs.readFileSync(write, 'utf8');
  const a = src.indexOf('/* BEGIN GENERATED COSTS'), b = src.indexOf('/* END GENERATED COSTS */');
  if (a < 0 || b < 0) throw new Error(`${write}: no GENERATED COSTS block`);
  fs.writeFileSync(write, src.slice(0, a) + block + src.slice(b + '/* END GENERATED COSTS */'.length));
} else {
  console.log(block);
}
