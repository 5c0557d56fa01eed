/**
 * listenProbe: does anything accept TCP connections on the address the
 * server listens on? A connect and a close, nothing sent: the cheap way for a
 * window to notice that nginx stopped serving (Stop in another window, nginx
 * gone) without running litellmctl. The responder's own state comes over the
 * pipe (serverStatus.ts).
 *
 * No `vscode` import.
 */
import * as net from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

/** `host:port`, `[v6]:port`; a wildcard host is probed on loopback. undefined if malformed. */
export function probeAddress(listen: string): ListenAddress | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen);
  if (!match) {
    return undefined;
  }
  const port = Number(match[3]);
  if (port < 1 || port > 65535) {
    return undefined;
  }
  let host = match[1] ?? match[2] ?? '';
  if (host === '0.0.0.0' || host === '*') {
    host = '127.0.0.1';
  } else if (host === '::') {
    host = '::1';
  }
  return { host, port };
}

/** Resolves true once a connection to `listen` is accepted, false on refusal, error or timeout. */
export function probeListen(listen: string, timeoutMs = 1_000): Promise<boolean> {
  const address = probeAddress(listen);
  if (!address) {
    return Promise.resolve(false);
  }
  return new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: address.host, port: address.port });
    const finish = (accepted: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(accepted);
    };
    const timer = setTimeout(() => {
      finish(false);
    }, timeoutMs);
    socket.once('connect', () => {
      finish(true);
    });
    socket.once('error', () => {
      finish(false);
    });
  });
}
