import * as net from 'node:net';
import { lookup } from 'node:dns/promises';
import { chmodSync, existsSync, statSync, unlinkSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { SluiceError } from './error.js';

/**
 * A socket that is bound but not listening: what a supervisor holds so that only its workers
 * accept. It is the mechanism of Node's own cluster for shared handles (`net._createServerHandle`,
 * internal but used by `node:cluster` since Node 0.12): each worker calls `listen` on a handle passed
 * over IPC, the kernel spreads connections among them, and the supervisor, which never listens,
 * never accepts.
 */
export type ListenerHandle = object;

type CreateServerHandle = (address: string | null, port: number, addressType: number, fd?: number, flags?: number) => ListenerHandle | number;

const createServerHandle = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;

function bindError(result: number, what: string): SluiceError {
  const name = getSystemErrorName(result);
  return new SluiceError(name === 'EADDRINUSE' || name === 'EACCES' || name === 'EADDRNOTAVAIL' ? 'BindError' : 'SocketError', {
    context: `binding ${what} (${name})`,
  });
}

/** Binds TCP `host:port` without listening. @throws SluiceError `BindError`. */
export async function bindTcpHandle(host: string, port: number): Promise<ListenerHandle> {
  const address = net.isIP(host) ? host : (await lookup(host)).address;
  const h = createServerHandle(address, port, net.isIP(address));
  if (typeof h === 'number') throw bindError(h, `tcp ${host}:${port}`);
  return h;
}

/** Binds a Unix socket at `path` (replacing a stale socket file) without listening. */
export function bindUnixHandle(path: string, mode?: number): ListenerHandle {
  if (existsSync(path) && statSync(path).isSocket()) unlinkSync(path);
  const h = createServerHandle(path, -1, -1);
  if (typeof h === 'number') throw bindError(h, `uds ${path}`);
  if (mode !== undefined) chmodSync(path, mode);
  return h;
}

/** The address a bound TCP handle got (its port resolved for `:0`), or undefined for a Unix socket. */
export function handleAddress(handle: ListenerHandle): { address: string; family: string; port: number } | undefined {
  const out: { address?: string; family?: string; port?: number } = {};
  const getsockname = (handle as { getsockname?: (o: object) => number }).getsockname;
  if (!getsockname || getsockname.call(handle, out) !== 0 || out.address === undefined) return undefined;
  return { address: out.address, family: out.family ?? 'IPv4', port: out.port ?? 0 };
}

/** Closes a handle the supervisor holds. */
export function closeHandle(handle: ListenerHandle): void {
  (handle as { close?: () => void }).close?.();
}
