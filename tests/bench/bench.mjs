// bench.mjs: what `make bench` runs (through run.sh).  Starts, in temp
// directories under /tmp, side by side on 127.0.0.1:
//   - a tiny nginx answering `return 200` with a JSON body the size of the
//     gateway's reply (the baseline: what nginx alone costs),
//   - nginx -> fcgi_null, a libfcgi app that answers at once, with the shipped
//     templates and with FastCGI connections kept alive (the FastCGI hop alone),
//   - the gateway: litellmctl -> nginx -> litellm-fcgi -> pipe -> instant_worker,
//     and variants of it (libfcgi's poll timeouts, FastCGI keep-alive, a candidate),
//   - the peer: node peer-shim.mjs (node:http, in-process instant model),
//   - the gateway with the real worker: the same, but the windows on the pipe
//     are node-worker.mjs, the extension's own pipe client and model calls
//     (its harness bundle) with a model that answers at once,
// measures them in rounds (non-stream with wrk at concurrency 1, 16, 64;
// 1,000-chunk streams with sse_client), then the scale test (idle open
// streams: RSS and threads), and prints one table from the quietest round.
// tests/bench/README.md explains each figure.
//
// Environment (set by `make bench`): LITELLMCTL, LITELLM_FCGI,
// LITELLM_TEMPLATES, BENCH_BIN_DIR (instant_worker, sse_client, fcgi_null).
// Knobs: BENCH_ROUNDS (3), BENCH_DURATION (wrk seconds per run, 2),
// BENCH_CONNECTIONS (worker connections, 2), BENCH_CHUNKS (1000),
// BENCH_PACE_US (1000), BENCH_SCALE ("1,100,1000"), BENCH_LIBFCGI (0: skip
// the gateway variants), BENCH_CANDIDATE (another litellm-fcgi binary, or a
// script that sets its environment and execs one, measured beside the built
// one: non-stream, streaming and scale) and BENCH_CANDIDATE_TEMPLATES (its
// nginx templates), BENCH_JSON (write every figure there), WRK, LITELLM_NGINX,
// BENCH_NODE_WORKER (0: skip the real-worker row), LITELLM_EXTENSION_HARNESS
// (the extension's harness bundle; run.sh builds it), BENCH_NODE_WORKER_PROF
// (a directory: the Node workers run with --cpu-prof and write their profiles
// there when stopped; tests/bench/cpuprofile-top.mjs summarises them),
// BENCH_NODE_WORKER_BASELINE (another harness bundle, e.g. built from an
// older commit: a second real-worker row beside the first, same round).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { childrenOf, freePort, waitUntil } from '../lib/procs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const env = process.env;

const config = {
  litellmctl: env.LITELLMCTL || path.join(repoRoot, 'build', 'litellmctl'),
  fcgi: env.LITELLM_FCGI || path.join(repoRoot, 'build', 'fcgi-app', 'litellm-fcgi'),
  templates: env.LITELLM_TEMPLATES || path.join(repoRoot, 'nginx'),
  binDir: env.BENCH_BIN_DIR || path.join(repoRoot, 'build', 'tests', 'bench'),
  wrk: env.WRK || 'wrk',
  nginx: env.LITELLM_NGINX || 'nginx',
  rounds: Math.max(1, Number(env.BENCH_ROUNDS || 3)),
  duration: Math.max(1, Number(env.BENCH_DURATION || 2)),
  connections: Math.max(1, Number(env.BENCH_CONNECTIONS || 2)),
  chunks: Math.max(1, Number(env.BENCH_CHUNKS || 1000)),
  paceUs: Math.max(0, Number(env.BENCH_PACE_US ?? 1000)),
  scale: (env.BENCH_SCALE || '1,100,1000').split(',').map(Number).filter((n) => n > 0),
  libfcgi: env.BENCH_LIBFCGI !== '0',
  candidate: env.BENCH_CANDIDATE || '',
  candidateTemplates: env.BENCH_CANDIDATE_TEMPLATES || '',
  json: env.BENCH_JSON || '',
  nodeWorker: env.BENCH_NODE_WORKER !== '0',
  nodeWorkerProf: env.BENCH_NODE_WORKER_PROF || '',
  nodeWorkerBaseline: env.BENCH_NODE_WORKER_BASELINE || '',
  concurrency: [1, 16, 64],
};
const wrkScript = path.join(here, 'wrk-report.lua');
const peerShim = path.join(here, 'peer-shim.mjs');
const instantWorker = path.join(config.binDir, 'instant_worker');
const sseClient = path.join(config.binDir, 'sse_client');
const fcgiNull = path.join(config.binDir, 'fcgi_null');
const nodeWorker = path.join(here, 'node-worker.mjs');
const CLK_TCK = 100;
const MAX_STREAMS = Math.max(...config.scale, 1);

for (const [what, file] of [['LITELLMCTL', config.litellmctl], ['LITELLM_FCGI', config.fcgi],
  ['instant_worker', instantWorker], ['sse_client', sseClient], ['fcgi_null', fcgiNull], ['wrk-report.lua', wrkScript]]) {
  if (!fs.existsSync(file)) {
    console.error(`bench: ${what} not found at ${file}; run it through \`make bench\` (which builds it)`);
    process.exit(1);
  }
}

// ---------------------------------------------------------------- processes

const cleanups = [];
const log = (...args) => console.error('bench:', ...args);

function run(command, args, { env: extraEnv = {}, timeout = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, timeout);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Starts a long-lived child; resolves once a stdout line matches `ready`. */
function startChild(command, args, ready, { env: extraEnv = {}, stdin = 'ignore', what = command } = {}) {
  const child = spawn(command, args, { env: { ...env, ...extraEnv }, stdio: [stdin, 'pipe', 'pipe'] });
  let output = '';
  const lines = [];
  const waiters = new Set();
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    output = (output + chunk).slice(-8000);
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      lines.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
    for (const w of [...waiters]) w();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk) => { output = (output + chunk).slice(-8000); });
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => { for (const w of [...waiters]) w(); resolve({ code, signal }); }));
  child.output = () => output;
  child.waitLine = (pattern, ms = 60_000) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`${what}: timed out waiting for ${pattern}; output: ${output}`)); }, ms);
    const check = () => {
      const index = lines.findIndex((l) => pattern.test(l));
      if (index >= 0) {
        const [line] = lines.splice(index, 1);
        clearTimeout(timer);
        waiters.delete(check);
        resolve(line);
      } else if (child.exitCode !== null || child.signalCode !== null) {
        clearTimeout(timer);
        waiters.delete(check);
        reject(new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before ${pattern}; output: ${output}`));
      }
    };
    waiters.add(check);
    check();
  });
  child.stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await child.exited;
      clearTimeout(timer);
    }
  };
  cleanups.push(() => child.stop());
  const started = ready ? child.waitLine(ready) : Promise.resolve();
  return started.then(() => child);
}

function httpGet(port, urlPath, { method = 'GET', body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, agent: false,
      headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------- /proc

function procStatFields(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');   // fields from `state` (3rd) on
}

/** CPU seconds used by pid (all its threads); with children: also its reaped children. */
function cpuSeconds(pid, withChildren = false) {
  try {
    const f = procStatFields(pid);
    let ticks = Number(f[11]) + Number(f[12]);            // utime, stime
    if (withChildren) ticks += Number(f[13]) + Number(f[14]); // cutime, cstime
    return ticks / CLK_TCK;
  } catch {
    return 0;
  }
}

/** nginx's worker processes (they appear a moment after the master). */
async function nginxWorkersOf(masterPid) {
  return waitUntil(() => { const workers = childrenOf(masterPid); return workers.length > 0 && workers; },
    `nginx ${masterPid}'s workers`);
}

function statusOf(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number((text.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm')) || [])[1] || 0);
  return { rssKiB: kib('VmRSS'), threads: kib('Threads') };
}

/** Busy and total CPU seconds of the whole machine (all CPUs). */
function machineCpu() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / CLK_TCK, total: (busy + idle + iowait) / CLK_TCK };
}

// ---------------------------------------------------------------- the three targets

const tmpRoot = fs.mkdtempSync('/tmp/llb-');
fs.chmodSync(tmpRoot, 0o755);   // nginx workers run as www-data when we are root
cleanups.push(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

class Gateway {
  /** worker: true (instant_worker), 'node' (node-worker.mjs, one process a window) or false. */
  constructor(name, { fcgiConfig = {}, templates = config.templates, env: extraEnv = {}, connPerClient = 4096, fcgi = config.fcgi, worker = true, harness = '' } = {}) {
    this.name = name;
    this.withWorker = worker;
    this.harness = harness;
    this.workers = [];
    this.prefix = path.join(tmpRoot, name);
    this.fcgiConfig = fcgiConfig;
    this.templates = templates;
    this.env = { LITELLM_FCGI: fcgi, LITELLM_TEMPLATES: templates, ...extraEnv };
    this.connPerClient = connPerClient;
  }

  ctl(args) {
    return run(config.litellmctl, ['--prefix', this.prefix, '--listen', `127.0.0.1:${this.port}`, ...args], { env: this.env });
  }

  async start() {
    fs.mkdirSync(this.prefix, { recursive: true });
    this.port = await freePort();
    const args = ['--conn-per-client', String(this.connPerClient)];
    if (Object.keys(this.fcgiConfig).length > 0) {
      const file = path.join(tmpRoot, `${this.name}.conf`);
      fs.writeFileSync(file, Object.entries(this.fcgiConfig).map(([k, v]) => `${k} = ${v}\n`).join(''));
      args.push('--fcgi-config', file);
    }
    cleanups.push(() => this.stop());
    const started = await this.ctl([...args, 'start']);
    if (started.code !== 0) throw new Error(`litellmctl start (${this.name}) failed: ${started.stderr}`);
    const status = JSON.parse((await this.ctl(['status', '--json'])).stdout);
    this.responderPid = status.responder_pid;
    this.nginxPid = status.nginx_pid;
    this.pipe = status.pipe;
    if (this.withWorker === 'node') {
      const prof = config.nodeWorkerProf ? ['--cpu-prof', `--cpu-prof-dir=${config.nodeWorkerProf}`] : [];
      for (let i = 0; i < config.connections; i++) {
        this.workers.push(await startChild(process.execPath, [...prof, nodeWorker, '--pipe', this.pipe], /^ready/,
          { what: 'node-worker', env: this.harness ? { LITELLM_EXTENSION_HARNESS: this.harness } : {} }));
      }
    } else if (this.withWorker) {
      this.workers.push(await startChild(instantWorker, ['--pipe', this.pipe, '--connections', String(config.connections)],
        /^ready/, { what: 'instant_worker' }));
    }
    if (this.withWorker) {
      await waitUntil(async () => JSON.parse((await httpGet(this.port, '/health')).body).windows >= config.connections,
        `/health to count ${config.connections} windows`);
    }
    this.nginxWorkers = await nginxWorkersOf(this.nginxPid);
    return this;
  }

  cpu() {
    return {
      nginx: cpuSeconds(this.nginxPid) + this.nginxWorkers.reduce((s, p) => s + cpuSeconds(p), 0),
      responder: cpuSeconds(this.responderPid),
      ...(this.workers.length > 0 ? { worker: this.workers.reduce((s, w) => s + cpuSeconds(w.pid), 0) } : {}),
    };
  }

  pids() { return [this.nginxPid, ...this.nginxWorkers, this.responderPid, ...this.workers.map((w) => w.pid)]; }

  memory() {
    const responder = statusOf(this.responderPid);
    const nginx = [this.nginxPid, ...this.nginxWorkers].map(statusOf);
    return { responder, nginxRssKiB: nginx.reduce((s, m) => s + m.rssKiB, 0) };
  }

  async stop() {
    if (this.stopped || !this.port) return;
    this.stopped = true;
    await this.ctl(['shutdown']);
    for (const w of this.workers) await w.stop();
  }
}

class BaselineNginx {
  async start(bodyBytes) {
    this.dir = path.join(tmpRoot, 'baseline');
    fs.mkdirSync(path.join(this.dir, 'logs'), { recursive: true });
    fs.mkdirSync(path.join(this.dir, 'tmp'), { recursive: true });
    this.port = await freePort();
    // A chat.completion-shaped JSON body of exactly bodyBytes bytes.
    const shell = '{"id":"chatcmpl-baseline","object":"chat.completion","model":"bench/gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"stop"}]}\n';
    this.body = shell.replace('"content":""', `"content":"${'x'.repeat(Math.max(0, bodyBytes - shell.length))}"`);
    const d = this.dir;
    fs.writeFileSync(path.join(d, 'nginx.conf'), `
worker_processes 1;
pid ${d}/nginx.pid;
error_log ${d}/logs/error.log warn;
events { worker_connections 1024; }
http {
    log_format litellm '$remote_addr [$time_local] "$request" $status '
                       '$body_bytes_sent rid=$request_id rt=$request_time '
                       'urt=$upstream_response_time ua="$http_user_agent"';
    access_log ${d}/logs/access.log litellm;
    client_body_temp_path ${d}/tmp/client_body;
    fastcgi_temp_path ${d}/tmp/fastcgi;
    proxy_temp_path ${d}/tmp/proxy;
    uwsgi_temp_path ${d}/tmp/uwsgi;
    scgi_temp_path ${d}/tmp/scgi;
    server_tokens off;
    keepalive_timeout 65s;
    server {
        listen 127.0.0.1:${this.port};
        location / {
            types { }
            default_type application/json;
            add_header x-request-id $request_id;
            return 200 '${this.body}';
        }
    }
}
`);
    const started = await run(config.nginx, ['-p', `${d}/`, '-c', `${d}/nginx.conf`, '-e', `${d}/logs/error.log`]);
    if (started.code !== 0) throw new Error(`baseline nginx failed: ${started.stderr}`);
    cleanups.push(() => this.stop());
    await waitUntil(() => fs.existsSync(`${d}/nginx.pid`), 'the baseline nginx to write its pid file');
    this.masterPid = Number(fs.readFileSync(`${d}/nginx.pid`, 'utf8'));
    this.workers = await nginxWorkersOf(this.masterPid);
    return this;
  }

  cpu() { return { nginx: [this.masterPid, ...this.workers].reduce((s, p) => s + cpuSeconds(p), 0) }; }
  pids() { return [this.masterPid, ...this.workers]; }

  async stop() {
    if (this.stopped || !this.masterPid) return;
    this.stopped = true;
    await run(config.nginx, ['-p', `${this.dir}/`, '-c', `${this.dir}/nginx.conf`, '-e', `${this.dir}/logs/error.log`, '-s', 'stop']);
  }
}

class Peer {
  async start() {
    this.port = await freePort();
    this.child = await startChild(process.execPath, [peerShim, '--port', String(this.port)], /^listening/, { what: 'peer-shim' });
    return this;
  }

  cpu() { return { node: cpuSeconds(this.child.pid) }; }
  pids() { return [this.child.pid]; }
  memory() { return statusOf(this.child.pid); }
  stop() { return this.child.stop(); }
}

// ---------------------------------------------------------------- measurements

function cpuDelta(before, after) {
  const out = {};
  for (const key of Object.keys(after)) out[key] = after[key] - (before[key] ?? 0);
  return out;
}

async function wrk(target, concurrency, seconds = config.duration) {
  const url = `http://127.0.0.1:${target.port}/v1/chat/completions`;
  const cpu0 = target.cpu();
  const client0 = cpuSeconds(process.pid, true) - cpuSeconds(process.pid);
  const result = await run(config.wrk, ['-t1', `-c${concurrency}`, `-d${seconds}s`, '--timeout', '10s', '-s', wrkScript, url]);
  const client = cpuSeconds(process.pid, true) - cpuSeconds(process.pid) - client0;
  const cpu = cpuDelta(cpu0, target.cpu());
  const line = result.stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk printed no result (exit ${result.code}): ${result.stdout}${result.stderr}`);
  const w = JSON.parse(line.slice(9));
  const errors = w.errors_connect + w.errors_read + w.errors_write + w.errors_status + w.errors_timeout;
  const perRequestUs = {};
  for (const [k, v] of Object.entries(cpu)) perRequestUs[k] = (v * 1e6) / Math.max(1, w.requests);
  perRequestUs.client = (client * 1e6) / Math.max(1, w.requests);
  return {
    concurrency, requests: w.requests, rps: w.requests / (w.duration_us / 1e6),
    p50: w.p50_us, p90: w.p90_us, p99: w.p99_us, max: w.max_us, errors, cpuUsPerRequest: perRequestUs,
  };
}

async function streams(target, { paceUs, count, concurrency }) {
  const cpu0 = target.cpu();
  const result = await run(sseClient, ['stream', '--port', String(target.port), '--chunks', String(config.chunks),
    '--pace-us', String(paceUs), '--streams', String(count), '--concurrency', String(concurrency)]);
  const cpu = cpuDelta(cpu0, target.cpu());
  const line = result.stdout.trim().split('\n').pop();
  let s;
  try { s = JSON.parse(line); } catch { throw new Error(`sse_client printed no result: ${result.stdout}${result.stderr}`); }
  const perChunkUs = {};
  for (const [k, v] of Object.entries(cpu)) perChunkUs[k] = (v * 1e6) / Math.max(1, s.chunks);
  return { paceUs, count, concurrency, ...s, cpuUsPerChunk: perChunkUs };
}

/** Opens n idle streams, samples memory, closes them. */
async function hold(target, n, sample) {
  const client = await startChild(sseClient, ['hold', '--port', String(target.port), '--streams', String(n)],
    null, { stdin: 'pipe', what: 'sse_client hold' });
  const line = await client.waitLine(/^\{/, 120_000);
  const opened = JSON.parse(line);
  // Idle means silent past one heartbeat (--keepalive-interval, 2 s by
  // default): the first one is when a quiet stream's thread gives back the
  // stack its reply went deep in (fcgi-app/stack_trim.h).  The peer waits as
  // long.
  await sleep(2500);
  const memory = sample();
  client.stdin.end();
  await client.exited;
  await sleep(300);
  return { n, ...opened, ...memory };
}

// ---------------------------------------------------------------- the run

async function measureRound(index, baseline, gateway, peer, variants, nulls, nodeGateways) {
  const everyPid = () => [...baseline.pids(), ...gateway.pids(), ...peer.pids(), ...variants.flatMap((g) => g.pids()),
    ...nulls.flatMap((g) => g.pids()), ...nodeGateways.flatMap((g) => g.pids())];
  const machine0 = machineCpu();
  const ours0 = everyPid().reduce((s, p) => s + cpuSeconds(p), 0) + cpuSeconds(process.pid, true);
  const round = { index, nonStream: {}, streaming: {}, variants: {} };
  for (const c of config.concurrency) {
    round.nonStream[c] = { nginx: await wrk(baseline, c) };
    for (const n of nulls) round.nonStream[c][n.key] = await wrk(n, c);
    round.nonStream[c].gateway = await wrk(gateway, c);
    for (const g of nodeGateways) round.nonStream[c][g.key] = await wrk(g, c);
    round.nonStream[c].peer = await wrk(peer, c);
    for (const g of variants) (round.variants[g.label] ??= { nonStream: {} }).nonStream[c] = await wrk(g, c);
    log(`round ${index + 1}: c=${c} nginx ${f0(round.nonStream[c].nginx.rps)}/s gateway ${f0(round.nonStream[c].gateway.rps)}/s peer ${f0(round.nonStream[c].peer.rps)}/s`);
  }
  const paced = { paceUs: config.paceUs, count: 3, concurrency: 1 };
  const burst = { paceUs: 0, count: 32, concurrency: 16 };
  round.streaming = {
    gatewayPaced: await streams(gateway, paced),
    peerPaced: await streams(peer, paced),
    gatewayBurst: await streams(gateway, burst),
    peerBurst: await streams(peer, burst),
  };
  for (const g of nodeGateways) {
    round.streaming[`${g.key}Paced`] = await streams(g, paced);
    round.streaming[`${g.key}Burst`] = await streams(g, burst);
  }
  for (const g of variants.filter((v) => v.streaming)) {
    round.variants[g.label].streaming = { paced: await streams(g, paced), burst: await streams(g, burst) };
  }
  log(`round ${index + 1}: chunk p99 gateway ${f1(round.streaming.gatewayPaced.p99_us)} us, peer ${f1(round.streaming.peerPaced.p99_us)} us`);
  const machine1 = machineCpu();
  const ours1 = everyPid().reduce((s, p) => s + cpuSeconds(p), 0) + cpuSeconds(process.pid, true);
  const wall = (machine1.total - machine0.total) / os.cpus().length;
  round.foreignCpu = Math.max(0, (machine1.busy - machine0.busy) - (ours1 - ours0)) / wall;  // CPUs used by others
  round.loadavg = os.loadavg();  // includes the bench itself; recorded beside each round's figures
  round.wallSeconds = wall;
  return round;
}

/** Whether the shipped templates keep FastCGI connections alive (an upstream
 * with `keepalive`, litellmctl sizing it from the responder's thread count). */
function shippedKeepAlive() {
  return fs.readFileSync(path.join(config.templates, 'litellm-location.conf.in'), 'utf8').includes('fastcgi_pass @FCGI_PASS@;');
}

/** The templates with FastCGI keep-alive on or off: the shipped directory
 * when it already is that way, else a copy changed to it (null if the
 * templates changed shape and the copy cannot be made). */
function fcgiTemplates(keepAlive) {
  if (keepAlive === shippedKeepAlive()) return config.templates;
  const dir = path.join(tmpRoot, keepAlive ? 'templates-keepalive' : 'templates-no-keepalive');
  fs.mkdirSync(dir);
  fs.cpSync(config.templates, dir, { recursive: true });   // the templates and ui/
  const server = path.join(dir, 'litellm-server.conf.in');
  const location = path.join(dir, 'litellm-location.conf.in');
  let serverText = fs.readFileSync(server, 'utf8');
  let locationText = fs.readFileSync(location, 'utf8');
  if (keepAlive) {
    if (!/^server \{/m.test(serverText) || !locationText.includes('fastcgi_pass unix:@FCGI_SOCKET@;') ||
        !/fastcgi_keep_conn off;/.test(locationText)) return null;
    serverText = serverText.replace(/^server \{/m, 'upstream litellm_bench_fcgi {\n    server unix:@FCGI_SOCKET@;\n    keepalive 32;\n}\n\nserver {');
    locationText = locationText.replace('fastcgi_pass unix:@FCGI_SOCKET@;', 'fastcgi_pass litellm_bench_fcgi;')
      .replace(/fastcgi_keep_conn off;/, 'fastcgi_keep_conn on;');
  } else {
    if (!locationText.includes('fastcgi_keep_conn @FCGI_KEEP_CONN@;')) return null;
    locationText = locationText.replace('fastcgi_pass @FCGI_PASS@;', 'fastcgi_pass unix:@FCGI_SOCKET@;')
      .replace('fastcgi_keep_conn @FCGI_KEEP_CONN@;', 'fastcgi_keep_conn off;');
  }
  fs.writeFileSync(server, serverText);
  fs.writeFileSync(location, locationText);
  return dir;
}

/** The candidate's templates (if given) with worker_connections raised as for the scale test. */
function candidateScaleTemplates(fallback, needed) {
  if (!config.candidateTemplates) return fallback;
  const dir = path.join(tmpRoot, 'templates-candidate-scale');
  fs.mkdirSync(dir);
  for (const file of fs.readdirSync(config.candidateTemplates)) {
    if (fs.statSync(path.join(config.candidateTemplates, file)).isDirectory()) {   // ui/
      fs.cpSync(path.join(config.candidateTemplates, file), path.join(dir, file), { recursive: true });
      continue;
    }
    let text = fs.readFileSync(path.join(config.candidateTemplates, file), 'utf8');
    if (file === 'nginx.conf.in') text = text.replace(/worker_connections\s+\d+;/, `worker_connections ${Math.max(1024, needed)};`);
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

async function scaleTest() {
  // nginx's worker_connections must cover two connections per stream (the
  // client's and the FastCGI one): a copy of the templates with it raised.
  const templates = path.join(tmpRoot, 'templates-scale');
  fs.mkdirSync(templates);
  const needed = 2 * MAX_STREAMS + 256;
  for (const file of fs.readdirSync(config.templates)) {
    if (fs.statSync(path.join(config.templates, file)).isDirectory()) {   // ui/
      fs.cpSync(path.join(config.templates, file), path.join(templates, file), { recursive: true });
      continue;
    }
    let text = fs.readFileSync(path.join(config.templates, file), 'utf8');
    if (file === 'nginx.conf.in') text = text.replace(/worker_connections\s+\d+;/, `worker_connections ${Math.max(1024, needed)};`);
    fs.writeFileSync(path.join(templates, file), text);
  }
  const stockConnections = Number((fs.readFileSync(path.join(config.templates, 'nginx.conf.in'), 'utf8').match(/worker_connections\s+(\d+);/) || [])[1]);
  const threads = MAX_STREAMS + 100;
  const result = { threads, workerConnections: Math.max(1024, needed), stockConnections, gateway: [], peer: [] };

  const gateway = await new Gateway('scale', { fcgiConfig: { threads }, templates }).start();
  const peer = await new Peer().start();
  const candidate = config.candidate
    ? await new Gateway('scale-cand', { fcgiConfig: { threads }, templates: candidateScaleTemplates(templates, needed), fcgi: config.candidate }).start() : null;
  if (candidate) result.candidate = [];
  await sleep(300);
  result.gateway.push({ n: 0, ready: 0, failed: 0, ...gateway.memory() });
  result.peer.push({ n: 0, ready: 0, failed: 0, ...peer.memory() });
  if (candidate) result.candidate.push({ n: 0, ready: 0, failed: 0, ...candidate.memory() });
  for (const n of config.scale) {
    result.gateway.push(await hold(gateway, n, () => gateway.memory()));
    result.peer.push(await hold(peer, n, () => peer.memory()));
    if (candidate) result.candidate.push(await hold(candidate, n, () => candidate.memory()));
    log(`scale: ${n} streams: responder ${result.gateway.at(-1).responder.rssKiB} KiB, peer ${result.peer.at(-1).rssKiB} KiB`);
  }
  await gateway.stop();
  await peer.stop();
  if (candidate) await candidate.stop();

  // The shipped template, same responder settings: how many of MAX_STREAMS open.
  if (stockConnections && stockConnections < needed) {
    const stock = await new Gateway('scale-stock', { fcgiConfig: { threads } }).start();
    result.stock = await hold(stock, MAX_STREAMS, () => ({}));
    await stock.stop();
  }
  return result;
}

// ---------------------------------------------------------------- report

const f0 = (x) => (x === undefined || Number.isNaN(x) ? '-' : Math.round(x).toLocaleString('en-US'));
const f1 = (x) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(1));
const f2 = (x) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(2));
const mib = (kib) => (kib / 1024).toFixed(1);
const pad = (s, n) => String(s).padStart(n);
const padr = (s, n) => String(s).padEnd(n);

function report(rounds, best, scale, meta) {
  const out = [];
  const r = rounds[best];
  out.push('');
  out.push(`make bench: VSCode LiteLLM gateway vs nginx alone vs a Node.js peer, ${os.cpus().length} CPUs, ${os.cpus()[0]?.model?.trim() ?? ''}`);
  out.push(`Quietest of ${rounds.length} rounds: round ${best + 1} (other processes used ${f2(r.foreignCpu)} CPUs during it; ` +
    `all rounds: ${rounds.map((x) => f2(x.foreignCpu)).join(', ')}). Ratios are the result; absolute figures depend on the machine.`);
  out.push(`Load average (1/5/15 min, the bench included) at the end of each round: ${rounds.map((x) => x.loadavg.map(f2).join('/')).join(', ')}; before the bench: ${meta.loadBefore.map(f2).join('/')}`);
  out.push('');
  out.push(`Non-stream POST /v1/chat/completions: wrk -t1 -cN ${config.duration}s keep-alive; reply ${meta.replyBytes} B JSON (nginx returns the same size)`);
  out.push('  FastCGI null = nginx (the templates, FastCGI connections closed after each request) -> fcgi_null, a libfcgi app answering at once: the floor of the FastCGI hop;');
  out.push(`  "ka" = the same with FastCGI connections kept alive (upstream keepalive, fastcgi_keep_conn on); the gateway row uses the shipped templates (${meta.shippedKeepAlive ? 'keep-alive' : 'no keep-alive'}).`);
  out.push(`  ${padr('conc', 5)}${padr('target', 18)}${pad('p50 us', 8)}${pad('p99 us', 8)}${pad('req/s', 9)}${pad('p50 x nginx', 13)}${pad('req/s / nginx', 15)}${pad('req/s / peer', 14)}${pad('err', 5)}   CPU us/request`);
  for (const c of config.concurrency) {
    const row = r.nonStream[c];
    const lines = [
      ['nginx return 200', row.nginx],
      ...(row.fcgiNull ? [['FastCGI null', row.fcgiNull]] : []),
      ...(row.fcgiNullKeepalive ? [['FastCGI null, ka', row.fcgiNullKeepalive]] : []),
      ['gateway', row.gateway],
      ...(row.gatewayNodeWorker ? [['gw, Node worker', row.gatewayNodeWorker]] : []),
      ...(row.gatewayNodeWorkerBaseline ? [['gw, Node baseline', row.gatewayNodeWorkerBaseline]] : []),
      ['peer (node:http)', row.peer],
    ];
    for (const [name, m] of lines) {
      const cpu = Object.entries(m.cpuUsPerRequest).map(([k, v]) => `${k} ${f1(v)}`).join(', ');
      out.push(`  ${padr(name === 'nginx return 200' ? c : '', 5)}${padr(name, 18)}${pad(f0(m.p50), 8)}${pad(f0(m.p99), 8)}${pad(f0(m.rps), 9)}` +
        `${pad(name === 'nginx return 200' ? '1' : f2(m.p50 / row.nginx.p50), 13)}${pad(name === 'nginx return 200' ? '1' : f2(m.rps / row.nginx.rps), 15)}` +
        `${pad(name === 'peer (node:http)' ? '1' : f2(m.rps / row.peer.rps), 14)}${pad(m.errors, 5)}   ${cpu}`);
    }
  }
  if (r.nonStream[config.concurrency[0]].gatewayNodeWorker) {
    out.push('');
    out.push('  The real worker: "gw, Node worker" is the gateway with the extension\'s own pipe client and model calls (node-worker.mjs, ' +
      `${config.connections} Node processes, one a window) on the pipe instead of instant_worker (C); worker = those processes' CPU:`);
    for (const c of config.concurrency) {
      const row = r.nonStream[c];
      const node = row.gatewayNodeWorker.cpuUsPerRequest.worker;
      const instant = row.gateway.cpuUsPerRequest.worker;
      out.push(`  c=${padr(c, 3)} worker CPU us/request: Node ${f1(node)}, instant_worker ${f1(instant)} (${f1(node / instant)}x); ` +
        `req/s ${f0(row.gatewayNodeWorker.rps)} vs ${f0(row.gateway.rps)} (${f2(row.gatewayNodeWorker.rps / row.gateway.rps)}x), ` +
        `vs the peer ${f2(row.gatewayNodeWorker.rps / row.peer.rps)}x; p50 ${f0(row.gatewayNodeWorker.p50)} vs ${f0(row.gateway.p50)} us`);
    }
    if (r.nonStream[config.concurrency[0]].gatewayNodeWorkerBaseline) {
      out.push(`  "gw, Node baseline" runs the harness bundle ${config.nodeWorkerBaseline}:`);
      for (const c of config.concurrency) {
        const row = r.nonStream[c];
        const node = row.gatewayNodeWorker.cpuUsPerRequest.worker;
        const base = row.gatewayNodeWorkerBaseline.cpuUsPerRequest.worker;
        out.push(`  c=${padr(c, 3)} worker CPU us/request: this tree ${f1(node)}, baseline ${f1(base)} (${f2(node / base)}x); ` +
          `req/s ${f0(row.gatewayNodeWorker.rps)} vs ${f0(row.gatewayNodeWorkerBaseline.rps)} (${f2(row.gatewayNodeWorker.rps / row.gatewayNodeWorkerBaseline.rps)}x)`);
      }
    }
  }
  if (Object.keys(r.variants).length > 0) {
    out.push('');
    out.push('  Gateway variants (same round, same wrk; x default = against the gateway row above):');
    for (const [label, v] of Object.entries(r.variants)) {
      for (const c of config.concurrency) {
        const m = v.nonStream[c];
        const base = r.nonStream[c].gateway;
        out.push(`  ${padr(c, 5)}${padr(label, 42)}${pad(f0(m.p50), 8)}${pad(f0(m.p99), 8)}${pad(f0(m.rps), 9)}  p50 x default ${f2(m.p50 / base.p50)}, ` +
          `req/s x default ${f2(m.rps / base.rps)}, err ${m.errors}, CPU us/req ${Object.entries(m.cpuUsPerRequest).map(([k, x]) => `${k} ${f1(x)}`).join(', ')}`);
      }
    }
  }
  out.push('');
  out.push(`Streaming: ${config.chunks}-chunk streams (sse_client); latency = client read time - stamp the worker/model put in the chunk before writing it`);
  out.push(`  ${padr('target', 18)}${padr('mode', 34)}${pad('p50 us', 8)}${pad('p90 us', 8)}${pad('p99 us', 8)}${pad('max us', 9)}${pad('chunks/s', 10)}   CPU us/chunk`);
  const s = r.streaming;
  const streamRows = [
    ['gateway', `paced ${config.paceUs} us, 3 streams one by one`, s.gatewayPaced],
    ['peer (node:http)', `paced ${config.paceUs} us, 3 streams one by one`, s.peerPaced],
    ['gateway', 'back to back, 32 streams, 16 at once', s.gatewayBurst],
    ['peer (node:http)', 'back to back, 32 streams, 16 at once', s.peerBurst],
    ...(s.gatewayNodeWorkerPaced ? [['gw, Node worker', `paced ${config.paceUs} us, 3 streams one by one`, s.gatewayNodeWorkerPaced],
      ['gw, Node worker', 'back to back, 32 streams, 16 at once', s.gatewayNodeWorkerBurst]] : []),
    ...(s.gatewayNodeWorkerBaselinePaced ? [['gw, Node baseline', `paced ${config.paceUs} us, 3 streams one by one`, s.gatewayNodeWorkerBaselinePaced],
      ['gw, Node baseline', 'back to back, 32 streams, 16 at once', s.gatewayNodeWorkerBaselineBurst]] : []),
  ];
  for (const [name, mode, m] of streamRows) {
    const cpu = Object.entries(m.cpuUsPerChunk).map(([k, v]) => `${k} ${f1(v)}`).join(', ');
    out.push(`  ${padr(name, 18)}${padr(mode, 34)}${pad(f1(m.p50_us), 8)}${pad(f1(m.p90_us), 8)}${pad(f1(m.p99_us), 8)}${pad(f1(m.max_us), 9)}${pad(f0(m.chunks_per_s), 10)}   ${cpu}${m.failed ? `  FAILED ${m.failed}` : ''}`);
  }
  for (const [label, v] of Object.entries(r.variants)) {
    if (!v.streaming) continue;
    for (const [mode, m] of [[`paced ${config.paceUs} us, 3 streams one by one`, v.streaming.paced], ['back to back, 32 streams, 16 at once', v.streaming.burst]]) {
      const cpu = Object.entries(m.cpuUsPerChunk).map(([k, x]) => `${k} ${f1(x)}`).join(', ');
      out.push(`  ${padr(label.slice(0, 17), 18)}${padr(mode, 34)}${pad(f1(m.p50_us), 8)}${pad(f1(m.p90_us), 8)}${pad(f1(m.p99_us), 8)}${pad(f1(m.max_us), 9)}${pad(f0(m.chunks_per_s), 10)}   ${cpu}${m.failed ? `  FAILED ${m.failed}` : ''}`);
    }
  }
  out.push(`  gateway / peer: paced p50 ${f2(s.gatewayPaced.p50_us / s.peerPaced.p50_us)}x, paced p99 ${f2(s.gatewayPaced.p99_us / s.peerPaced.p99_us)}x, burst chunks/s ${f2(s.gatewayBurst.chunks_per_s / s.peerBurst.chunks_per_s)}x`);

  out.push('');
  out.push(`Scale: idle open streams (one delta, then the model waits; sampled 2.5 s later, past the first heartbeat); VmRSS and Threads from /proc/PID/status; responder --threads ${scale.threads}, nginx worker_connections ${scale.workerConnections}`);
  out.push(`  ${pad('streams', 8)}${pad('opened gw/peer', 16)}${pad('responder MiB', 15)}${pad('threads', 9)}${pad('nginx MiB', 11)}${pad('gw total MiB', 14)}${pad('peer MiB', 10)}${pad('peer thr', 10)}${pad('peer - responder', 18)}${pad('peer - gw total', 17)}`);
  for (let i = 0; i < scale.gateway.length; i++) {
    const g = scale.gateway[i];
    const p = scale.peer[i];
    const total = g.responder.rssKiB + g.nginxRssKiB;
    out.push(`  ${pad(g.n, 8)}${pad(`${g.ready}/${p.ready}`, 16)}${pad(mib(g.responder.rssKiB), 15)}${pad(g.responder.threads, 9)}${pad(mib(g.nginxRssKiB), 11)}${pad(mib(total), 14)}${pad(mib(p.rssKiB), 10)}${pad(p.threads, 10)}${pad(mib(p.rssKiB - g.responder.rssKiB), 18)}${pad(mib(p.rssKiB - total), 17)}`);
  }
  const first = scale.gateway.find((g) => g.n === Math.min(...config.scale));
  const last = scale.gateway.at(-1);
  const pFirst = scale.peer.find((p) => p.n === Math.min(...config.scale));
  const pLast = scale.peer.at(-1);
  const span = last.n - first.n;
  if (span > 0) {
    out.push(`  per idle stream (${first.n} -> ${last.n}): responder ${f1((last.responder.rssKiB - first.responder.rssKiB) / span)} KiB, ` +
      `nginx ${f1((last.nginxRssKiB - first.nginxRssKiB) / span)} KiB, peer ${f1((pLast.rssKiB - pFirst.rssKiB) / span)} KiB` +
      ` (the responder starts threads as streams need them, up to ${scale.threads}: ${mib(scale.gateway[0].responder.rssKiB)} MiB at 0 streams)`);
  }
  if (scale.candidate) {
    out.push(`  candidate responder: ${scale.candidate.map((g) => `${g.n} streams ${mib(g.responder.rssKiB)} MiB`).join(', ')}`);
  }
  if (scale.stock) {
    out.push(`  with the shipped nginx.conf.in (worker_connections ${scale.stockConnections}): ${scale.stock.ready} of ${scale.stock.n} streams opened, ${scale.stock.failed} failed (${scale.stock.http_5xx} got 5xx)`);
  }

  // Targets (issue 17): every ratio from this one round, each printed met or MISSED.
  out.push('');
  out.push('Targets (issue 17; ratios from the round above)');
  const mark = (ok) => (ok ? 'met   ' : 'MISSED');
  const c1 = r.nonStream[1];
  const c16 = r.nonStream[16];
  const kaNull = (row) => row.fcgiNullKeepalive;
  if (c16 && c1 && kaNull(c16) && kaNull(c1)) {
    const vsPeer = c16.gateway.rps / c16.peer.rps;
    const vsNull = c16.gateway.rps / kaNull(c16).rps;
    out.push(`  ${mark(vsPeer >= 1.5)} gateway req/s at c=16 >= 1.5x the peer: ${f2(vsPeer)}x (${f0(c16.gateway.rps)} vs ${f0(c16.peer.rps)})`);
    out.push(`  ${mark(vsNull >= 0.6)} gateway req/s at c=16 >= 0.6x FastCGI null, ka: ${f2(vsNull)}x (${f0(c16.gateway.rps)} vs ${f0(kaNull(c16).rps)})`);
    const p50 = c1.gateway.p50 / kaNull(c1).p50;
    out.push(`  ${mark(p50 <= 1.5)} gateway p50 at c=1 <= 1.5x FastCGI null, ka: ${f2(p50)}x (${f0(c1.gateway.p50)} vs ${f0(kaNull(c1).p50)} us)`);
    const cpu = c16.gateway.cpuUsPerRequest.responder / kaNull(c16).cpuUsPerRequest.responder;
    out.push(`  ${mark(cpu <= 2)} responder CPU per request at c=16 <= 2x the FastCGI null (ka) app's: ${f2(cpu)}x ` +
      `(${f1(c16.gateway.cpuUsPerRequest.responder)} vs ${f1(kaNull(c16).cpuUsPerRequest.responder)} us)`);
  } else {
    out.push('  MISSED the FastCGI null, ka row is missing (templates changed shape?): the c=1/c=16 targets cannot be computed');
  }
  const pacedP50 = s.gatewayPaced.p50_us / s.peerPaced.p50_us;
  out.push(`  ${mark(pacedP50 <= 1)} paced chunk p50 <= the peer's: ${f2(pacedP50)}x (${f1(s.gatewayPaced.p50_us)} vs ${f1(s.peerPaced.p50_us)} us)`);
  out.push(`  ${mark(s.gatewayPaced.p99_us < 1000)} paced chunk p99 < 1 ms: ${f1(s.gatewayPaced.p99_us)} us (back to back: ${f1(s.gatewayBurst.p99_us)} us)`);
  if (span > 0) {
    const perStream = (last.responder.rssKiB - first.responder.rssKiB) / span;
    out.push(`  ${mark(perStream <= 12)} responder <= 12 KiB per idle stream (${first.n} -> ${last.n}): ${f1(perStream)} KiB`);
  }
  const lastPeer = scale.peer.at(-1);
  const lastTotal = last.responder.rssKiB + last.nginxRssKiB;
  out.push(`  ${mark(lastTotal < lastPeer.rssKiB)} responder + nginx below the peer at ${last.n} idle streams: ` +
    `${mib(lastTotal)} vs ${mib(lastPeer.rssKiB)} MiB`);
  out.push('');
  out.push('Every round (req/s gateway/nginx at c=1,16,64 | gateway/peer at c=1,16,64 | chunk p99 us gateway/peer | other CPUs | load average' +
    `${r.nonStream[config.concurrency[0]].gatewayNodeWorker ? ' | worker CPU us/request Node/instant_worker at c=1,16,64' : ''}):`);
  for (const x of rounds) {
    const a = config.concurrency.map((c) => f2(x.nonStream[c].gateway.rps / x.nonStream[c].nginx.rps)).join(' ');
    const b = config.concurrency.map((c) => f2(x.nonStream[c].gateway.rps / x.nonStream[c].peer.rps)).join(' ');
    
    const w = x.nonStream[config.concurrency[0]].gatewayNodeWorker
      ? ` | ${config.concurrency.map((c) => `${f1(x.nonStream[c].gatewayNodeWorker.cpuUsPerRequest.worker)}/${f1(x.nonStream[c].gateway.cpuUsPerRequest.worker)}`).join(' ')}` : '';
    out.push(`  round ${x.index + 1}: ${a} | ${b} | ${f0(x.streaming.gatewayPaced.p99_us)}/${f0(x.streaming.peerPaced.p99_us)} | ${f2(x.foreignCpu)} | load ${x.loadavg.map(f2).join('/')}${w}`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------- main

async function main() {
  const loadBefore = os.loadavg();
  log(`temp dir ${tmpRoot}; ${config.rounds} rounds of ${config.duration} s wrk runs; ${config.connections} worker connections`);
  const gateway = await new Gateway('gw').start();
  // The reply's size, for the baseline's body.
  const sample = await httpGet(gateway.port, '/v1/chat/completions', { method: 'POST', body: '{"model":"gpt-4o","messages":[{"role":"user","content":"bench"}]}' });
  if (sample.status !== 200) throw new Error(`the gateway answered ${sample.status}: ${sample.body}`);
  const replyBytes = sample.body.length;
  const baseline = await new BaselineNginx().start(replyBytes);
  const check = await httpGet(baseline.port, '/');
  if (check.body.length !== replyBytes) throw new Error(`baseline body is ${check.body.length} B, want ${replyBytes}`);
  const peer = await new Peer().start();

  // The floor of the FastCGI hop: nginx -> a libfcgi responder that does
  // nothing, with the shipped templates and with FastCGI connections kept alive.
  const nulls = [];
  const nullEnv = { FCGI_NULL_BODY_BYTES: String(replyBytes) };
  const closing = fcgiTemplates(false);
  const keptAlive = fcgiTemplates(true);
  if (closing) {
    const g = await new Gateway('null', { fcgi: fcgiNull, worker: false, env: nullEnv, templates: closing }).start();
    g.key = 'fcgiNull';
    nulls.push(g);
  }
  if (keptAlive) {
    const g = await new Gateway('null-ka', { fcgi: fcgiNull, worker: false, env: nullEnv, templates: keptAlive }).start();
    g.key = 'fcgiNullKeepalive';
    nulls.push(g);
  }

  const variants = [];
  if (config.libfcgi) {
    for (const [label, value] of [['libfcgi close wait 2000 ms (its default)', { LIBFCGI_OS_CLOSE_POLL_TIMEOUT: '2000' }],
      ['LIBFCGI_IS_AF_UNIX_KEEPER_POLL_TIMEOUT=1', { LIBFCGI_IS_AF_UNIX_KEEPER_POLL_TIMEOUT: '1' }]]) {
      const g = await new Gateway(`gw-v${variants.length}`, { env: value }).start();
      g.label = label;
      variants.push(g);
    }
  }
  // The other FastCGI connection policy than the shipped one.
  const otherTemplates = shippedKeepAlive() ? closing : keptAlive;
  if (config.libfcgi && otherTemplates) {
    const g = await new Gateway('gw-ka', { templates: otherTemplates }).start();
    g.label = shippedKeepAlive() ? 'no FastCGI keep-alive (templates)' : 'FastCGI keep-alive (templates)';
    variants.push(g);
  }
  if (config.candidate) {
    const g = await new Gateway('gw-cand', { fcgi: config.candidate, templates: config.candidateTemplates || config.templates }).start();
    g.label = 'candidate';
    g.streaming = true;
    variants.push(g);
  }

  // The gateway again, with the extension's own code as the windows.
  const nodeGateways = [];
  if (config.nodeWorker) {
    const g = await new Gateway('gw-node', { worker: 'node' }).start();
    g.key = 'gatewayNodeWorker';
    nodeGateways.push(g);
  }
  if (config.nodeWorker && config.nodeWorkerBaseline) {
    const g = await new Gateway('gw-node-base', { worker: 'node', harness: config.nodeWorkerBaseline }).start();
    g.key = 'gatewayNodeWorkerBaseline';
    nodeGateways.push(g);
  }
  const everyTarget = [baseline, gateway, peer, ...variants, ...nulls, ...nodeGateways];

  // Warm-up: JIT, caches, first connections.
  for (const t of everyTarget) await wrk(t, 16, 1);
  for (const t of [gateway, peer, ...nodeGateways]) await streams(t, { paceUs: 0, count: 4, concurrency: 4 });

  const rounds = [];
  for (let i = 0; i < config.rounds; i++) rounds.push(await measureRound(i, baseline, gateway, peer, variants, nulls, nodeGateways));
  let best = 0;
  rounds.forEach((x, i) => { if (x.foreignCpu < rounds[best].foreignCpu) best = i; });
  for (const t of everyTarget) await t.stop();

  log('scale test');
  const scale = await scaleTest();
  const text = report(rounds, best, scale, { replyBytes, loadBefore, shippedKeepAlive: shippedKeepAlive() });
  console.log(text);
  if (config.json) {
    fs.writeFileSync(config.json, JSON.stringify({ config, replyBytes, best, rounds, scale }, null, 2));
    log(`every figure: ${config.json}`);
  }
}

let exitCode = 0;
const cleanup = async () => {
  for (const c of cleanups.reverse()) {
    try { await c(); } catch { /* best effort */ }
  }
  cleanups.length = 0;
};
process.on('SIGINT', async () => { await cleanup(); process.exit(130); });
process.on('SIGTERM', async () => { await cleanup(); process.exit(143); });
try {
  await main();
} catch (err) {
  console.error(`bench: ${err.stack || err}`);
  exitCode = 1;
}
await cleanup();
process.exit(exitCode);
