// fake-server.mjs: a fake gateway on a free loopback port, for the tests
// that prove the harness's checks fail on what a broken server would send.

import http from 'node:http';
import { freePort } from './procs.mjs';

/**
 * A server that answers every request with `respond(req, res)` once its
 * body has been read: {port, close()}; close() also ends kept connections.
 */
export async function fakeServer(respond) {
  const port = await freePort();
  const server = http.createServer((req, res) => { req.resume(); req.on('end', () => respond(req, res)); });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }) };
}
