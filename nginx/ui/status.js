// The status page's one script: polls the responder's JSON (GET /health, the
// status document of fcgi-app/status.c, and GET /usage?hours=24) and draws
// it. No framework and no chart library: the chart is SVG built here. The
// page's CSP forbids inline script and style, so every colour is an SVG
// presentation attribute or a class, never a style attribute.

const POLL_MS = 5000;
// Relative to the page (/ui/): the same documents when a team's reverse
// proxy serves the gateway under a prefix of its own (/litellm/ui/ asks
// /litellm/health).
const HEALTH_URL = '../health';
const USAGE_URL = '../usage?hours=24';
const SVG = 'http://www.w3.org/2000/svg';
// Distinguishable in light and dark themes; a key keeps its colour while the
// page is open (keys are given colours in the order they are first seen).
const PALETTE = ['#2f6fdf', '#e8590c', '#2b8a3e', '#c2255c', '#7048e8', '#0b7285', '#a0760a', '#5c5f66'];
const keyColours = new Map();

const $ = (id) => document.getElementById(id);

/** A new element with text content and attributes. */
function element(name, { text, className, attrs = {} } = {}) {
  const node = document.createElement(name);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  for (const [attr, value] of Object.entries(attrs)) node.setAttribute(attr, value);
  return node;
}

function svgElement(name, attrs = {}) {
  const node = document.createElementNS(SVG, name);
  for (const [attr, value] of Object.entries(attrs)) node.setAttribute(attr, String(value));
  return node;
}

const number = (n) => (Number.isFinite(n) ? n.toLocaleString('en-US') : '–');

function colourOf(key) {
  if (!keyColours.has(key)) keyColours.set(key, PALETTE[keyColours.size % PALETTE.length]);
  return keyColours.get(key);
}

/** GET a JSON document: {status, json} (json null when the body is not JSON), or {status: 0, error}. */
async function getJson(path, signal) {
  try {
    const response = await fetch(path, { cache: 'no-store', signal, headers: { accept: 'application/json' } });
    let json = null;
    try { json = await response.json(); } catch { /* not JSON */ }
    return { status: response.status, json };
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    return { status: 0, json: null, error: String(err.message || err) };
  }
}

const errorMessage = (json) => json?.error?.message ?? json?.message ?? '';

// ---------------------------------------------------------------- /health

function showHealth(result) {
  const summary = $('summary');
  const doc = result.json;
  if (result.status !== 200 || !doc || typeof doc.windows !== 'number') {
    summary.className = 'bad';
    summary.textContent = result.status === 0
      ? `The gateway does not answer (${result.error}).`
      : `The gateway's status is unavailable: HTTP ${result.status}. ${errorMessage(doc)}`;
    return false;
  }
  summary.className = doc.status === 'ok' ? 'ok' : 'degraded';
  summary.textContent = doc.status === 'ok'
    ? `Serving: ${doc.windows} VS Code window${doc.windows === 1 ? '' : 's'}, ${doc.models.length} model${doc.models.length === 1 ? '' : 's'}.`
    : `Not serving: ${doc.message ?? 'no VS Code window is connected.'}`;

  $('windows').textContent = doc.windows === 0
    ? 'No VS Code window is connected.'
    : `${doc.windows} VS Code window${doc.windows === 1 ? ' is' : 's are'} connected, offering:`;
  const models = $('models');
  models.replaceChildren(...doc.models.map((id) => {
    const item = element('li');
    item.append(element('code', { text: id }));
    if (id === doc.default_model) item.append(' ', element('span', { text: '(default)', className: 'muted' }));
    return item;
  }));

  const rows = [
    ['in flight', number(doc.in_flight), 'in-flight'],
    ['threads busy', doc.threads ? `${number(doc.threads.busy)} of ${number(doc.threads.max)} (${number(doc.threads.started)} started)` : '–', 'threads'],
    ['API keys', doc.auth ? `${number(doc.auth.keys)} (${doc.auth.mode})` : '–', 'keys'],
    ['version', doc.version ?? '–', 'version'],
  ];
  $('requests').replaceChildren(...rows.flatMap(([name, value, id]) =>
    [element('dt', { text: name }), element('dd', { text: value, attrs: { id } })]));

  const store = doc.limits_store;
  const storeLine = $('store');
  if (store) {
    const fallback = store.active !== store.configured && !String(store.configured).startsWith(store.active);
    storeLine.className = fallback || store.error ? 'warn' : '';
    storeLine.textContent = `Limiter store: ${store.active}` +
      (store.configured !== store.active ? ` (configured: ${store.configured})` : '') +
      (store.error ? `; ${store.error}` : '');
  } else {
    storeLine.textContent = 'Limiter store: –';
  }
  showLimits(doc.limits ?? []);
  return true;
}

/** "used of limit" with a meter, or "–" for a rate the limit does not set. */
function useCell(used, limit, what) {
  const cell = element('td');
  if (!Number.isFinite(limit)) { cell.textContent = '–'; return cell; }
  const meter = element('meter', { attrs: { min: 0, max: Math.max(limit, 1), value: Math.min(Math.max(used, 0), limit), high: limit * 0.8, 'aria-label': `${what}: ${used} of ${limit}` } });
  cell.append(meter, ` ${number(used)} / ${number(limit)}`);
  return cell;
}

function showLimits(limits) {
  const body = $('limits').tBodies[0];
  if (limits.length === 0) {
    const row = element('tr');
    row.append(element('td', { text: 'No limits are configured.', attrs: { colspan: 4 }, className: 'muted' }));
    body.replaceChildren(row);
    return;
  }
  body.replaceChildren(...limits.map((limit) => {
    const row = element('tr');
    row.append(element('td', { text: limit.scope }));
    const rpm = limit.requests_per_minute;
    const tpm = limit.tokens_per_minute;
    const concurrent = limit.concurrent;
    row.append(
      useCell(rpm ? rpm.limit - rpm.remaining : NaN, rpm?.limit, `${limit.scope}, requests this minute`),
      useCell(tpm ? tpm.limit - tpm.remaining : NaN, tpm?.limit, `${limit.scope}, tokens this minute`),
      useCell(concurrent?.in_flight, concurrent?.limit, `${limit.scope}, requests at once`),
    );
    return row;
  }));
}

// ---------------------------------------------------------------- /usage

function usageRefused(result) {
  const json = result.json;
  if (result.status === 401 || result.status === 403) {
    return `Usage is not shown: the gateway refused /usage (HTTP ${result.status}). ` +
      'It is readable from this machine (loopback) or with the --metrics-token as a bearer token; ' +
      `open this page on the gateway's host or through a reverse proxy that adds the token. ${errorMessage(json)}`;
  }
  if (result.status === 404) {
    return 'Usage is not shown: this gateway has no /usage (an older responder). ' +
      '(litellmctl usage prints it where the gateway has it.)';
  }
  if (result.status === 0) return `Usage is not shown: /usage did not answer (${result.error}).`;
  return `Usage is not shown: /usage answered HTTP ${result.status}. ${errorMessage(json)}`;
}

const HOUR_MS = 3600 * 1000;

/** Requests per hour slot and key: {hours: [Date], keys: [key], counts: Map(key → number[])}. */
function hourlyRequests(usage) {
  const until = Date.parse(usage.until);
  const end = Number.isFinite(until) ? Math.ceil(until / HOUR_MS) * HOUR_MS : Math.ceil(Date.now() / HOUR_MS) * HOUR_MS;
  const slots = 24;
  const start = end - slots * HOUR_MS;
  const hours = Array.from({ length: slots }, (_, i) => new Date(start + i * HOUR_MS));
  const counts = new Map();
  for (const bucket of usage.buckets ?? []) {
    const at = Date.parse(bucket.start);
    const slot = Math.floor((at - start) / HOUR_MS);
    if (!(slot >= 0 && slot < slots)) continue;
    const key = String(bucket.key ?? '-');
    if (!counts.has(key)) counts.set(key, new Array(slots).fill(0));
    counts.get(key)[slot] += Number(bucket.requests) || 0;
  }
  const keys = [...counts.keys()].sort();
  return { hours, keys, counts };
}

const hourLabel = (date) => `${String(date.getHours()).padStart(2, '0')}:00`;
const keyLabel = (key) => (key === '-' ? 'no key' : key);

/** Stacked bars: requests per hour, one colour per key; each bar segment has a <title>. */
function drawChart({ hours, keys, counts }) {
  const width = 720, height = 240;
  const left = 40, right = 8, top = 10, bottom = 28;
  const plotW = width - left - right, plotH = height - top - bottom;
  const totals = hours.map((_, i) => keys.reduce((sum, key) => sum + counts.get(key)[i], 0));
  const max = Math.max(1, ...totals);
  const step = Math.max(1, Math.ceil(max / 4));
  const top_ = step * Math.ceil(max / step);
  const all = totals.reduce((a, b) => a + b, 0);

  const svg = svgElement('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'chart-title chart-desc' });
  const title = svgElement('title', { id: 'chart-title' });
  title.textContent = 'Requests per hour, by key, over the last 24 hours';
  const desc = svgElement('desc', { id: 'chart-desc' });
  desc.textContent = `${all} request${all === 1 ? '' : 's'} in all. ` +
    keys.map((key) => `${keyLabel(key)}: ${counts.get(key).reduce((a, b) => a + b, 0)}`).join('; ') + '.';
  svg.append(title, desc);

  const y = (value) => top + plotH - (value / top_) * plotH;
  for (let tick = 0; tick <= top_; tick += step) {
    svg.append(svgElement('line', { class: tick === 0 ? 'axis' : 'grid', x1: left, x2: width - right, y1: y(tick), y2: y(tick) }));
    const label = svgElement('text', { x: left - 4, y: y(tick) + 4, 'text-anchor': 'end' });
    label.textContent = String(tick);
    svg.append(label);
  }
  const slotW = plotW / hours.length;
  const barW = Math.max(2, slotW * 0.7);
  hours.forEach((hour, i) => {
    let base = 0;
    const x = left + i * slotW + (slotW - barW) / 2;
    for (const key of keys) {
      const value = counts.get(key)[i];
      if (value === 0) continue;
      const rect = svgElement('rect', {
        x: x.toFixed(1), width: barW.toFixed(1), y: y(base + value).toFixed(1), height: (y(base) - y(base + value)).toFixed(1),
        fill: colourOf(key), 'data-key': key, 'data-hour': hour.toISOString(), 'data-requests': value,
      });
      const tip = svgElement('title');
      tip.textContent = `${keyLabel(key)}, ${hourLabel(hour)}: ${value} request${value === 1 ? '' : 's'}`;
      rect.append(tip);
      svg.append(rect);
      base += value;
    }
    if (i % 3 === 0) {
      const label = svgElement('text', { x: (left + i * slotW + slotW / 2).toFixed(1), y: height - 10, 'text-anchor': 'middle' });
      label.textContent = hourLabel(hour);
      svg.append(label);
    }
  });
  $('chart').replaceChildren(svg);

  $('legend').replaceChildren(...(keys.length ? keys : []).map((key) => {
    const item = element('span', { attrs: { 'data-key': key } });
    const swatch = svgElement('svg', { width: 12, height: 12, 'aria-hidden': 'true' });
    swatch.append(svgElement('rect', { width: 12, height: 12, fill: colourOf(key) }));
    item.append(swatch, keyLabel(key));
    return item;
  }));
  if (keys.length === 0) $('legend').textContent = 'No requests in these hours.';
}

function showUsage(result) {
  const message = $('usage-message');
  const figure = $('usage-figure');
  const table = $('usage-table');
  const usage = result.json;
  if (result.status !== 200 || usage?.object !== 'usage') {
    message.className = 'warn';
    message.textContent = result.status === 200 ? 'Usage is not shown: /usage answered something that is not a usage document.' : usageRefused(result);
    figure.hidden = true;
    table.hidden = true;
    $('budgets').replaceChildren();
    return;
  }
  message.className = 'muted';
  message.textContent = `From ${new Date(usage.since).toLocaleString()} to ${new Date(usage.until).toLocaleString()}, store: ${usage.store}.`;
  drawChart(hourlyRequests(usage));
  figure.hidden = false;

  const perKey = new Map();
  for (const bucket of usage.buckets ?? []) {
    const key = String(bucket.key ?? '-');
    const sum = perKey.get(key) ?? { requests: 0, input_tokens: 0, output_tokens: 0, errors: 0, premium_requests: 0 };
    for (const field of Object.keys(sum)) sum[field] += Number(bucket[field]) || 0;
    perKey.set(key, sum);
  }
  const rows = [...perKey.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, sum]) => {
    const row = element('tr', { attrs: { 'data-key': key } });
    row.append(element('td', { text: keyLabel(key) }));
    for (const field of ['requests', 'input_tokens', 'output_tokens', 'errors']) row.append(element('td', { text: number(sum[field]), className: 'number' }));
    row.append(element('td', { text: number(Math.round(sum.premium_requests * 100) / 100), className: 'number' }));
    return row;
  });
  table.tBodies[0].replaceChildren(...rows);
  table.hidden = rows.length === 0;

  $('budgets').replaceChildren(...(usage.budgets ?? []).map((budget) => {
    const parts = [];
    if (budget.requests) parts.push(`${number(budget.requests.used)} of ${number(budget.requests.limit)} requests`);
    if (budget.tokens) parts.push(`${number(budget.tokens.used)} of ${number(budget.tokens.limit)} tokens`);
    const resets = budget.resets_at ? `, resets ${new Date(budget.resets_at).toLocaleString()}` : '';
    return element('li', { text: `Budget of ${budget.key} per ${budget.period}: ${parts.join(', ') || 'none set'}${resets}` });
  }));
}

// ---------------------------------------------------------------- polling

let timer = null;
let inFlight = null;

async function refresh() {
  timer = null;
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  try {
    const [health, usage] = await Promise.all([getJson(HEALTH_URL, controller.signal), getJson(USAGE_URL, controller.signal)]);
    // A document of an unexpected shape is said on the page, and polling
    // goes on: the next answer may be fine (a responder being upgraded).
    for (const [show, result, where] of [[showHealth, health, 'summary'], [showUsage, usage, 'usage-message']]) {
      try {
        show(result);
      } catch (err) {
        $(where).className = 'bad';
        $(where).textContent = `Cannot show this answer: ${err.message}`;
      }
    }
    $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}; refreshed every ${POLL_MS / 1000} s while this tab is visible.`;
  } catch (err) {
    if (err.name !== 'AbortError') throw err;
    return;
  } finally {
    if (inFlight === controller) inFlight = null;
  }
  schedule();
}

function schedule() {
  if (timer === null && !document.hidden) timer = setTimeout(refresh, POLL_MS);
}

// A hidden tab asks nothing; coming back refreshes at once.
document.addEventListener('visibilitychange', () => {
  if (document.hidden) {
    clearTimeout(timer);
    timer = null;
    inFlight?.abort();
  } else if (timer === null && inFlight === null) {
    refresh();
  }
});

refresh();
