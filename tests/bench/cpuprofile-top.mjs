#!/usr/bin/env node
// cpuprofile-top.mjs: the top self-time entries of V8 CPU profiles (the
// .cpuprofile files `node --cpu-prof` writes; `make bench` with
// BENCH_NODE_WORKER_PROF=DIR profiles its Node workers there).
//
//   node cpuprofile-top.mjs [--top N] FILE.cpuprofile...
//
// Prints, over all the files: the share of sampled time by origin (the
// extension's bundle = ours, Node's own JavaScript, native/GC/idle) and the
// N functions with the most self time (20 by default), idle excluded from
// the percentages so they add up to the time the process was busy.
import fs from 'node:fs';
import path from 'node:path';

let top = 20;
const files = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top' && i + 1 < args.length) top = Number(args[++i]);
  else files.push(args[i]);
}
if (files.length === 0 || !(top > 0)) {
  process.stderr.write('usage: node cpuprofile-top.mjs [--top N] FILE.cpuprofile...\n');
  process.exit(2);
}

/** Where a frame's code comes from. */
function originOf(url, functionName) {
  if (url.endsWith('harness.mjs')) return 'extension (ours)';
  if (url.endsWith('node-worker.mjs')) return 'bench model double';
  if (url.startsWith('node:')) return 'Node (JS)';
  if (url === '') return functionName === '(idle)' ? 'idle' : `native: ${functionName}`;
  return path.basename(url);
}

const self = new Map();     // "function file:line" -> microseconds
const origins = new Map();  // origin -> microseconds
let busy = 0;
for (const file of files) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  // timeDeltas[i] is the time since the previous sample: sample i stands for it.
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const { callFrame } = byId.get(id);
    const origin = originOf(callFrame.url, callFrame.functionName);
    origins.set(origin, (origins.get(origin) ?? 0) + us);
    if (origin === 'idle') return;
    busy += us;
    const name = `${callFrame.functionName || '(anonymous)'} ${path.basename(callFrame.url) || '-'}:${callFrame.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + us);
  });
}

const pct = (us) => `${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)} %`;
console.log(`${files.length} profile(s), busy ${(busy / 1e6).toFixed(2)} s (idle ${((origins.get('idle') ?? 0) / 1e6).toFixed(2)} s)`);
console.log('By origin (share of busy time):');
for (const [origin, us] of [...origins].filter(([o]) => o !== 'idle').sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${pct(us)}  ${origin}`);
}
console.log(`Top ${top} functions by self time:`);
for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${pct(us)}  ${name}`);
}
