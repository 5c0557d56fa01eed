// fcgi.mjs: a FastCGI client just big enough to talk to the responder's own
// socket the way nginx does (one GET, records written by hand), in steps a
// test can separate: open a connection and begin a request, then, whenever
// the test says so, send its parameters and read the answer. That is how a
// test stands in for a connection nginx already holds when the responder
// starts draining.

import net from 'node:net';
import { withTimeout } from './procs.mjs';

const VERSION = 1;
const BEGIN_REQUEST = 1;
const END_REQUEST = 3;
const PARAMS = 4;
const STDIN = 5;
const STDOUT = 6;
const RESPONDER = 1;

function record(type, id, content = Buffer.alloc(0)) {
  const header = Buffer.alloc(8);
  header.writeUInt8(VERSION, 0);
  header.writeUInt8(type, 1);
  header.writeUInt16BE(id, 2);
  header.writeUInt16BE(content.length, 4);
  return Buffer.concat([header, content]);
}

function length(n) {
  if (n < 128) return Buffer.from([n]);
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(n | 0x80000000);
  return bytes;
}

function encodeParams(params) {
  return Buffer.concat(Object.entries(params).flatMap(([name, value]) => {
    const n = Buffer.from(name);
    const v = Buffer.from(String(value));
    return [length(n.length), length(v.length), n, v];
  }));
}

/** The params nginx's location passes for a GET of `uri` from loopback. */
export function getParams(uri) {
  const [path, query = ''] = uri.split('?');
  return {
    REQUEST_METHOD: 'GET', DOCUMENT_URI: path, SCRIPT_NAME: path, REQUEST_URI: uri, QUERY_STRING: query,
    SERVER_ADDR: '127.0.0.1', SERVER_PORT: '4000', REMOTE_ADDR: '127.0.0.1', HTTP_HOST: 'localhost',
    REQUEST_ID: 'fcgitest', CONTENT_LENGTH: '',
  };
}

/**
 * Connects to `socketPath` and sends BEGIN_REQUEST at once (libfcgi drops a
 * Unix-socket connection that stays silent after accept). Returns
 * {get(uri): Promise<{status, headers, body, json}>, close()}.
 */
export async function beginFcgiRequest(socketPath) {
  const socket = net.createConnection(socketPath);
  await withTimeout(new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); }),
    `a connection to ${socketPath}`);
  const chunks = [];
  let ended = false;
  const done = new Promise((resolve, reject) => {
    socket.on('data', (data) => chunks.push(data));
    socket.on('error', reject);
    socket.on('close', () => { ended = true; resolve(); });
  });
  const begin = Buffer.alloc(8);
  begin.writeUInt16BE(RESPONDER, 0);
  socket.write(record(BEGIN_REQUEST, 1, begin));
  return {
    async get(uri) {
      socket.write(Buffer.concat([record(PARAMS, 1, encodeParams(getParams(uri))), record(PARAMS, 1), record(STDIN, 1)]));
      await withTimeout(done, `the answer to GET ${uri} over FastCGI`);
      return parseReply(Buffer.concat(chunks));
    },
    close() { if (!ended) socket.destroy(); },
  };
}

/** The CGI response in the records' STDOUT: {status, headers, body, json}. */
export function parseReply(bytes) {
  let out = Buffer.alloc(0);
  let ended = false;
  for (let at = 0; at + 8 <= bytes.length;) {
    const type = bytes[at + 1];
    const contentLength = bytes.readUInt16BE(at + 4);
    const padding = bytes[at + 6];
    const content = bytes.subarray(at + 8, at + 8 + contentLength);
    if (type === STDOUT) out = Buffer.concat([out, content]);
    if (type === END_REQUEST) ended = true;
    at += 8 + contentLength + padding;
  }
  if (!ended) throw new Error(`no FCGI_END_REQUEST in the reply (${bytes.length} bytes)`);
  const text = out.toString('utf8');
  const split = text.search(/\r?\n\r?\n/);
  if (split < 0) throw new Error(`a CGI reply without a header end: ${JSON.stringify(text)}`);
  const headers = {};
  for (const line of text.slice(0, split).split(/\r?\n/)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = text.slice(split).replace(/^\r?\n\r?\n/, '');
  let json = null;
  try { json = JSON.parse(body); } catch { /* not JSON */ }
  return { status: Number((headers.status ?? '200').slice(0, 3)), headers, body, json };
}
