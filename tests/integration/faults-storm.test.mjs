// A client disconnect storm (issue 8, "Reliability" 3): 1,000 clients drop
// their streams mid-reply, in batches; afterwards the responder's threads,
// open descriptors and resident memory are back at their baseline (read from
// /proc/PID/status and /proc/PID/fd), and every dropped request reached the
// window as a `cancel`.
//
// The responder runs with threads = 1100 (each open stream holds a thread;
// it starts them as concurrency needs them). The baseline is taken after a
// first storm of 1,200 has started the threads a batch needs and touched
// their stacks and caches; the measured storm must then leave nothing
// behind but the allocator's settling (under 1 MiB per 1,000 streams here,
// shrinking from storm to storm; RSS_SLACK_KIB allows for it; a leak of a
// buffer per request would be tens of MiB). Exact leaks are LeakSanitizer's
// job (make check-asan). A batch holds 2 × BATCH connections in nginx.
//
// Nothing measures time; every wait is a bounded failure guard.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  Stack, openStream, postChat, nonce, waitUntil, makeTempDir, writeFcgiConfig, procStats, assertCompletion,
  GUARD_MS, COMMAND_GUARD_MS,
} from './harness.mjs';

const CLIENTS = 1000;
const BATCH = 200;
const THREADS = 1100;
const FD_SLACK = 2;
const THREAD_SLACK = 16;        // the responder's own threads and the 8 it starts with
const THREAD_SLACK_STORM = 2;
const RSS_SLACK_KIB = 6 * 1024;
const WARM_UP = Math.ceil(THREADS / BATCH) * BATCH;
// Under ASan (quarantined frees) or memcheck, resident memory says nothing
// about leaks: LeakSanitizer and memcheck check those. Threads and fds still count.
const INSTRUMENTED = process.env.LITELLM_SANITIZER_LOGS === '1';

const stack = new Stack();
let configDir;

before(async () => {
  configDir = makeTempDir('storm');
  const config = writeFcgiConfig(path.join(configDir, 'storm.conf'), { threads: THREADS });
  await stack.start({ ctlArgs: ['--fcgi-config', config, '--conn-per-client', String(THREADS * 2)] });
});

after(async () => {
  try {
    await stack.teardown();
  } finally {
    fs.rmSync(configDir, { recursive: true, force: true });
  }
});

/** The ids the worker has been sent `cancel` for (scanned incrementally). */
const cancelled = new Set();
let scannedEvents = 0;
function cancelledIds() {
  const { events } = stack.worker;
  for (; scannedEvents < events.length; scannedEvents++) {
    if (events[scannedEvents].event === 'cancel') cancelled.add(events[scannedEvents].id);
  }
  return cancelled;
}

/** One storm: `clients` streams, BATCH at a time, each dropped after its first chunk. */
async function storm(clients) {
  for (let done = 0; done < clients; done += BATCH) {
    const streams = await Promise.all(Array.from({ length: BATCH }, async () => {
      const stream = await openStream(stack.port, {
        model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: `[[gate]] ${nonce('storm')}` }],
      });
      assert.equal(stream.status, 200);
      await stream.readUntil((text) => text.includes('before-gate'), 'the first chunk', COMMAND_GUARD_MS);
      return stream;
    }));
    for (const stream of streams) stream.destroy();
    const ids = streams.map((s) => s.headers['x-request-id']);
    await waitUntil(() => ids.every((id) => cancelledIds().has(id)), `a cancel for each of ${BATCH} dropped streams`, COMMAND_GUARD_MS);
    // A thread sends cancel, then finishes its request (log line, clean-up):
    // the next batch starts once all have, so the thread count depends on
    // the batch size alone, not on how fast (valgrind) the last ones end.
    await stack.responderIdle();
  }
  await waitUntil(async () => (await stack.health()).json?.in_flight === 0, '/health in_flight back to 0');
}

/** Waits until the responder's descriptors settle (requests finish just after their cancel). */
async function settledStats(pid, fdBound) {
  let stats;
  await waitUntil(() => {
    stats = procStats(pid);
    return fdBound === undefined || stats.fds <= fdBound;
  }, `the responder's descriptors to settle (bound ${fdBound})`, GUARD_MS);
  return stats;
}

const mib = (kib) => (kib / 1024).toFixed(1);

test(`${CLIENTS} clients drop their streams mid-reply: threads, fds and RSS return to baseline`, async (t) => {
  const pid = await stack.responderPid();
  const idle = procStats(pid);
  await storm(WARM_UP); // every thread touched once
  const baseline = await settledStats(pid, idle.fds + FD_SLACK);
  await storm(CLIENTS);
  const afterStorm = await settledStats(pid, baseline.fds + FD_SLACK);
  t.diagnostic(`responder pid ${pid}: idle threads=${idle.threads} fds=${idle.fds} rss=${mib(idle.rssKiB)} MiB; ` +
    `baseline (after a warm-up storm of ${WARM_UP}) threads=${baseline.threads} fds=${baseline.fds} rss=${mib(baseline.rssKiB)} MiB; ` +
    `after ${CLIENTS} dropped streams threads=${afterStorm.threads} fds=${afterStorm.fds} rss=${mib(afterStorm.rssKiB)} MiB`);

  // Threads start as concurrency needs them and then stay: the warm-up's
  // batches started about BATCH; the storm, with the same batches, may need
  // one or two more (a /health poll), never one per dropped stream.
  assert.ok(baseline.threads <= BATCH + THREAD_SLACK, `threads grew with concurrency, not with --threads: ${baseline.threads}`);
  assert.ok(afterStorm.threads <= baseline.threads + THREAD_SLACK_STORM,
    `thread count back to baseline: ${afterStorm.threads} vs ${baseline.threads}`);
  // /health says the same: how many started, of how many allowed, and only
  // its own request busy.
  const { threads } = (await stack.health()).json;
  assert.equal(threads.max, THREADS);
  assert.equal(threads.busy, 1, JSON.stringify(threads));
  assert.ok(threads.started >= BATCH && threads.started <= afterStorm.threads, JSON.stringify(threads));
  assert.ok(afterStorm.fds <= baseline.fds + FD_SLACK, `open fds back to baseline: ${afterStorm.fds} vs ${baseline.fds}`);
  if (!INSTRUMENTED) {
    assert.ok(afterStorm.rssKiB <= baseline.rssKiB + RSS_SLACK_KIB,
      `RSS back to baseline (+${RSS_SLACK_KIB} KiB): ${afterStorm.rssKiB} KiB vs ${baseline.rssKiB} KiB`);
  }
  // Every dropped request was cancelled at the window, and the gateway still serves.
  assert.equal(cancelledIds().size, WARM_UP + CLIENTS, 'a cancel for every dropped stream');
  const marker = nonce('after-storm');
  const response = await postChat(stack.port, { model: 'gpt-4o', messages: [{ role: 'user', content: marker }] });
  assert.equal(assertCompletion(assert, response.json).message.content, marker);
});
