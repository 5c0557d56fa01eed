// pipe.mjs: the responder's pipe seen from a test.
//
// rawPipeClient is a RAW peer for hostile-peer tests (garbage, oversized or
// misrouted frames, a peer that never says hello): it is NOT the client that
// ships. Everything that should behave like a VS Code window uses the
// extension's real PipeClient (tests/worker/test-worker.mjs,
// extension/out/harness.mjs).
//
// splitLines is the one line splitter of the test tree for JSON-line streams
// that are NOT the pipe protocol's codec (a child's stdout, a raw peer's
// view): it works on bytes, so a multi-byte character split across chunks is
// kept whole, and applies no frame size limit.

import net from 'node:net';
import { GUARD_MS, withTimeout } from './procs.mjs';

/**
 * Feeds `stream` ('data' events of Buffers or strings) to onLine(line), one
 * call per '\n'-terminated line (without the '\n'), decoded as UTF-8.
 */
export function splitLines(stream, onLine) {
  let pending = Buffer.alloc(0);
  stream.on('data', (chunk) => {
    pending = Buffer.concat([pending, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    let newline;
    while ((newline = pending.indexOf(0x0a)) >= 0) {
      const line = pending.subarray(0, newline).toString('utf8');
      pending = pending.subarray(newline + 1);
      onLine(line);
    }
  });
}

/**
 * A raw client of the responder's pipe that collects every frame it is sent.
 * A line that is not JSON throws (failing the test), or with `keepUnparsed`
 * is kept as {unparsed: line}. send() resolves false once the socket is gone;
 * until(pred) waits for pred(client).
 */
export function rawPipeClient(pipePath, { keepUnparsed = false } = {}) {
  const socket = net.connect(pipePath);
  const client = { socket, frames: [], closed: false, waiters: new Set() };
  const wake = () => { for (const w of [...client.waiters]) w(); };
  splitLines(socket, (line) => {
    if (keepUnparsed) {
      try { client.frames.push(JSON.parse(line)); } catch { client.frames.push({ unparsed: line }); }
    } else {
      client.frames.push(JSON.parse(line));
    }
    wake();
  });
  socket.on('close', () => { client.closed = true; wake(); });
  socket.on('error', () => {}); // EPIPE / ECONNRESET once the responder has cut us off
  client.send = (data) => new Promise((resolve) => {
    if (socket.destroyed) { resolve(false); return; }
    socket.write(data, (err) => resolve(!err));
  });
  client.until = (pred, what, ms = GUARD_MS) => withTimeout(new Promise((resolve) => {
    const check = () => { if (pred(client)) { client.waiters.delete(check); resolve(client); } };
    client.waiters.add(check);
    check();
  }), what, ms);
  return client;
}
