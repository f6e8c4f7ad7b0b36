import type { Socket } from 'node:net';

/**
 * Joins two connections after a protocol switch (WebSocket's 101, a CONNECT 2xx) into one
 * bidirectional byte stream: bytes already read past each head go first, `pipe` keeps backpressure
 * both ways, a half-close is passed on, and either side failing ends both. Resolves when both sockets
 * are closed.
 */
export function tunnel(downstream: Socket, downstreamHead: Buffer, upstream: Socket, upstreamHead: Buffer): Promise<void> {
  return new Promise((resolve) => {
    let open = 2;
    const closed = () => {
      if (--open === 0) resolve();
    };
    const fail = () => {
      downstream.destroy();
      upstream.destroy();
    };
    // `closed` is true once a socket's 'close' event went out; it will not come again.
    if (downstream.closed) closed();
    else downstream.once('close', closed);
    if (upstream.closed) closed();
    else upstream.once('close', closed);
    downstream.on('error', fail);
    upstream.on('error', fail);
    if (downstream.destroyed || upstream.destroyed) return fail();
    if (upstreamHead.length > 0) downstream.write(upstreamHead);
    if (downstreamHead.length > 0) upstream.write(downstreamHead);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    downstream.resume();
    upstream.resume();
  });
}
