import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionPool, Peer, connect, type Stream } from '../src/index.js';
import { tcpServer } from './helpers/net.js';

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

// The server's end of a client stream, found by port: accepts may lag behind the client's connect.
async function serverSideOf(stream: Stream) {
  const port = stream.socket.localPort;
  await until(() => srv.sockets.some((s) => s.remotePort === port));
  return srv.sockets.find((s) => s.remotePort === port)!;
}

const pool = suite('ConnectionPool');
let srv: Awaited<ReturnType<typeof tcpServer>>;
let peer: Peer;
pool.before(async () => {
  srv = await tcpServer();
  peer = new Peer(`127.0.0.1:${srv.port}`);
});
pool.after(() => srv.close());

pool('get returns the most recently released connection of that key, and only that key', async () => {
  const p = new ConnectionPool();
  const a = await connect(peer);
  const b = await connect(peer);
  p.put('k', a);
  p.put('k', b);
  assert.is(p.size, 2);
  assert.is(p.get('other'), undefined);
  assert.is(p.get('k'), b);
  assert.is(p.get('k'), a);
  assert.is(p.get('k'), undefined);
  assert.is(p.size, 0);
  a.destroy();
  b.destroy();
});

pool('idle timeout expires and closes the connection', async () => {
  const p = new ConnectionPool();
  const a = await connect(peer);
  p.put('k', a, 50);
  await until(() => a.socket.destroyed);
  assert.is(p.size, 0);
  assert.is(p.get('k'), undefined);
});

pool('an infinite idle timeout keeps the connection; a NaN one closes it instead of leaking it', async () => {
  const p = new ConnectionPool();
  const a = await connect(peer);
  p.put('k', a, Infinity);
  assert.is(p.size, 1);
  assert.is(p.get('k'), a);
  const b = await connect(peer);
  p.put('k', b, Number.NaN);
  assert.is(p.size, 0);
  assert.ok(b.socket.destroyed, 'not kept, not leaked');
  a.destroy();
});

pool('the global size limit evicts the least recently released connection', async () => {
  const p = new ConnectionPool({ sizeLimit: 2 });
  const [a, b, c] = await Promise.all([connect(peer), connect(peer), connect(peer)]);
  p.put('x', a);
  p.put('y', b);
  p.put('x', c);
  assert.is(p.size, 2);
  assert.ok(a.socket.destroyed, 'the oldest went');
  assert.is(p.get('y'), b);
  assert.is(p.get('x'), c);
  b.destroy();
  c.destroy();
});

pool('evicted and refused connections are closed at the origin: its open sockets match what the pool holds', async () => {
  const origin = await tcpServer();
  const originPeer = new Peer(`127.0.0.1:${origin.port}`);
  const open = () => origin.sockets.filter((s) => !s.closed && !s.destroyed).length;
  try {
    const p = new ConnectionPool({ sizeLimit: 2 });
    const streams = await Promise.all(Array.from({ length: 5 }, () => connect(originPeer)));
    await until(() => open() === 5);
    // Released one after another as exchanges end: each put beyond the limit evicts the oldest idle one.
    for (let i = 0; i < streams.length; i++) p.put(i % 2 === 0 ? 'a' : 'b', streams[i]);
    assert.is(p.size, 2);
    await until(() => open() === 2);
    assert.is(p.get('a'), streams[4], 'the most recent stays');
    assert.is(p.get('b'), streams[3]);
    // A pool that keeps nothing refuses by closing, never by dropping the reference.
    const none = new ConnectionPool({ sizeLimit: 0 });
    none.put('a', streams[4]);
    none.put('b', streams[3]);
    await until(() => open() === 0);
  } finally {
    await origin.close();
  }
});

pool('a connection the peer closes while idle is dropped', async () => {
  const p = new ConnectionPool();
  const a = await connect(peer);
  p.put('k', a);
  (await serverSideOf(a)).end();
  await until(() => p.size === 0);
  assert.ok(a.socket.destroyed);
  assert.is(p.get('k'), undefined);
});

pool('an idle connection that receives bytes is dropped', async () => {
  const p = new ConnectionPool();
  const a = await connect(peer);
  p.put('k', a);
  (await serverSideOf(a)).write('unexpected');
  await until(() => p.size === 0);
  assert.ok(a.socket.destroyed);
});

pool('a closed stream or one with unread bytes is not pooled; size 0 pools nothing', async () => {
  const p = new ConnectionPool();
  const a = await connect(peer);
  a.destroy();
  p.put('k', a);
  assert.is(p.size, 0);
  const b: Stream = await connect(peer);
  b.unread(Buffer.from('left over'));
  p.put('k', b);
  assert.is(p.size, 0);
  assert.ok(b.socket.destroyed);
  const none = new ConnectionPool({ sizeLimit: 0 });
  const c = await connect(peer);
  none.put('k', c);
  assert.is(none.size, 0);
  assert.throws(() => new ConnectionPool({ sizeLimit: -1 }), /non-negative/);
});

pool('a connection taken from the pool still works and is no longer watched', async () => {
  const echo = await tcpServer((s) => s.pipe(s));
  const p = new ConnectionPool();
  const a = await connect(new Peer(`127.0.0.1:${echo.port}`));
  p.put('k', a);
  const got = p.get('k')!;
  got.write('hello');
  assert.is((await got.read())!.toString(), 'hello');
  assert.not.ok(got.socket.destroyed, 'its reply did not count as idle data');
  got.destroy();
  await echo.close();
});

pool('a detached stream (read by a push reader) is watched too, and keeps flowing to its reader after get', async () => {
  const echo = await tcpServer((s) => s.pipe(s));
  try {
    const p = new ConnectionPool();
    const a = await connect(new Peer(`127.0.0.1:${echo.port}`));
    a.detachReader();
    const seen: string[] = [];
    a.socket.on('data', (d: Buffer) => seen.push(d.toString()));
    a.socket.resume();
    p.put('k', a);
    const got = p.get('k')!;
    assert.is(got, a);
    got.write('hello');
    await until(() => seen.join('') === 'hello');
    assert.not.ok(got.socket.destroyed, 'its reply did not count as idle data');
    p.put('k', got);
    got.socket.write('echoed back while idle');
    await until(() => p.size === 0);
    assert.ok(got.socket.destroyed, 'bytes while idle still drop it');
  } finally {
    await echo.close();
  }
});

pool('a receiving stream is watched through its receiver, and keeps flowing to it after get', async () => {
  const echo = await tcpServer((s) => s.pipe(s));
  try {
    const p = new ConnectionPool();
    const a = await connect(new Peer(`127.0.0.1:${echo.port}`));
    const seen: string[] = [];
    a.receive((list: string[], bytes: Buffer, length: number) => list.push(bytes.toString('latin1', 0, length)), seen);
    a.socket.resume();
    p.put('k', a);
    const got = p.get('k')!;
    assert.not.ok(got.socket.isPaused(), 'still flowing to its receiver');
    got.write('hello');
    await until(() => seen.join('') === 'hello');
    assert.not.ok(got.socket.destroyed, 'its reply did not count as idle data');
    p.put('k', got);
    got.socket.write('echoed back while idle');
    await until(() => p.size === 0);
    assert.ok(got.socket.destroyed, 'bytes while idle still drop it');
  } finally {
    await echo.close();
  }
});

pool('a detached stream nobody reads is paused again after get, so no byte is lost', async () => {
  const echo = await tcpServer((s) => s.pipe(s));
  try {
    const p = new ConnectionPool();
    const a = await connect(new Peer(`127.0.0.1:${echo.port}`));
    a.detachReader();
    p.put('k', a);
    const got = p.get('k')!;
    assert.ok(got.socket.isPaused(), 'paused: no data event can fire with no listener');
    got.write('kept');
    await sleep(50);
    const read = new Promise<Buffer>((resolve) => got.socket.once('data', resolve));
    got.socket.resume();
    const chunk = await Promise.race([read, sleep(2000).then(() => Buffer.from('(nothing)'))]);
    assert.is(chunk.toString(), 'kept');
    got.destroy();
  } finally {
    await echo.close();
  }
});

pool('clear closes everything', async () => {
  const p = new ConnectionPool();
  const a = await connect(peer);
  p.put('k', a);
  p.clear();
  assert.is(p.size, 0);
  assert.ok(a.socket.destroyed);
});

pool.run();
