import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { Stream } from '../src/index.js';

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

/** What a receiver saw: the bytes as text (taken during the call), and whether each was transient. */
interface Seen {
  text: string[];
  transient: boolean[];
  views: Buffer[];
}

function record(seen: Seen, bytes: Buffer, length: number, transient: boolean): void {
  seen.text.push(bytes.toString('latin1', 0, length));
  seen.transient.push(transient);
  seen.views.push(bytes);
}

const newSeen = (): Seen => ({ text: [], transient: [], views: [] });

const tcp = suite('Stream.receive over TCP');
let server: Server;
let port: number;
const accepted: Socket[] = [];
const clients: Socket[] = [];
tcp.before(async () => {
  server = createServer((s) => {
    s.on('error', () => {});
    accepted.push(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});
tcp.after(async () => {
  for (const s of [...accepted, ...clients]) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

async function pair(): Promise<{ client: Socket; stream: Stream }> {
  const before = accepted.length;
  const client = connect(port, '127.0.0.1');
  client.on('error', () => {});
  clients.push(client);
  await once(client, 'connect');
  await until(() => accepted.length > before);
  return { client, stream: new Stream(accepted[accepted.length - 1]) };
}

tcp('bytes sent before receive() are returned; later ones arrive transient, from one shared buffer', async () => {
  const a = await pair();
  const b = await pair();
  a.client.write('early');
  await sleep(50);
  const seenA = newSeen();
  const seenB = newSeen();
  assert.is(Buffer.concat(a.stream.receive(record, seenA)).toString(), 'early');
  assert.equal(b.stream.receive(record, seenB), []);
  a.stream.socket.resume();
  b.stream.socket.resume();
  a.client.write('hello from a');
  await until(() => seenA.text.join('') === 'hello from a');
  b.client.write('b says hi');
  await until(() => seenB.text.join('') === 'b says hi');
  assert.ok(seenA.transient.every((t) => t) && seenB.transient.every((t) => t), 'plain TCP bytes are transient');
  // Both views share one buffer: B's read overwrote what A's view showed, which is why receivers copy.
  assert.is(seenA.views[0].buffer, seenB.views[0].buffer);
  assert.is.not(seenA.views[0].toString('latin1', 0, 5), 'hello');
});

tcp('a paused socket holds bytes back; resume delivers them', async () => {
  const { client, stream } = await pair();
  const seen = newSeen();
  stream.receive(record, seen);
  client.write('held');
  await sleep(80);
  assert.equal(seen.text, [], 'nothing while paused');
  stream.socket.resume();
  await until(() => seen.text.join('') === 'held');
});

tcp('after stopReceiving, bytes are the socket\'s data events again, intact copies', async () => {
  const { client, stream } = await pair();
  const other = await pair();
  const seen = newSeen();
  stream.receive(record, seen);
  stream.socket.resume();
  client.write('one');
  await until(() => seen.text.join('') === 'one');
  stream.stopReceiving();
  const data: Buffer[] = [];
  stream.socket.on('data', (d: Buffer) => data.push(d));
  stream.socket.resume();
  client.write('two');
  await until(() => Buffer.concat(data).toString() === 'two');
  // Another stream's read reuses the shared buffer; the data event's Buffer must not change.
  other.stream.receive(() => {}, null);
  other.stream.socket.resume();
  other.client.write('xyz');
  await sleep(50);
  assert.is(Buffer.concat(data).toString(), 'two');
  assert.equal(seen.text, ['one'], 'the receiver got nothing after it stopped');
  // And a stream can receive again.
  stream.socket.removeAllListeners('data');
  stream.receive(record, seen);
  stream.socket.resume();
  client.write('three');
  await until(() => seen.text.join('') === 'onethree');
});

/** A receiver that keeps every piece with `stream.retain` (as a body reader passing views on). */
interface Kept {
  stream: Stream;
  pieces: Buffer[];
  /** The text of each piece as it was during its read. */
  text: string[];
}

function keep(kept: Kept, bytes: Buffer, length: number): void {
  const view = bytes.subarray(0, length);
  kept.text.push(view.toString('latin1'));
  kept.pieces.push(kept.stream.retain(view));
}

tcp('ownReads: after the next read, pieces are views of the stream\'s own buffers, kept intact while other reads go on', async () => {
  const { client, stream } = await pair();
  const other = await pair();
  const kept: Kept = { stream, pieces: [], text: [] };
  stream.receive(keep, kept);
  assert.ok(stream.ownReads(true), 'a plain TCP socket can own its reads');
  stream.socket.resume();
  other.stream.receive(() => {}, null);
  other.stream.socket.resume();
  const send = async (text: string): Promise<void> => {
    const n = kept.text.length;
    client.write(text);
    await until(() => kept.text.length > n);
    // Another socket's read lands in the shared buffer meanwhile.
    other.client.write('x'.repeat(100));
    await sleep(20);
  };
  await send('first'); // read into the shared buffer: a copy
  await send('second'); // own buffer 1
  await send('third'); // own buffer 2
  await send('fourth'); // own buffer 3
  await send('fifth'); // all three still retained: the shared buffer again, copied
  assert.equal(kept.pieces.map((p) => p.toString('latin1')), ['first', 'second', 'third', 'fourth', 'fifth'], 'every kept piece is intact');
  const buffers = kept.pieces.map((p) => p.buffer);
  assert.is(new Set(buffers.slice(1, 4)).size, 3, 'three different own buffers');
  assert.ok(buffers.slice(1, 4).every((b) => b.byteLength === 64 * 1024), 'own buffers are 64 KiB');
  assert.ok(!buffers.slice(1, 4).includes(buffers[0]) && !buffers.slice(1, 4).includes(buffers[4]), 'the first and last pieces are copies');
  // Giving one back lets the socket read into that buffer again (no copy).
  stream.release(kept.pieces[2]);
  stream.release(kept.pieces[4]); // a copy: ignored
  await send('sixth'); // decided after "fifth" was read: the released buffer only serves the read after it
  await send('seventh');
  assert.is(kept.pieces[6].buffer, buffers[2], 'the released buffer is read into again');
  // Given back twice is a bug that would let a buffer be read into under a view: a typed error.
  stream.release(kept.pieces[1]);
  try {
    stream.release(kept.pieces[1]);
    assert.unreachable('a second release must throw');
  } catch (e) {
    assert.is((e as { type?: string }).type, 'InternalError');
  }
  assert.is(kept.pieces[6].toString('latin1'), 'seventh');
  assert.is(kept.pieces[1].toString('latin1'), 'second', 'buffers still retained were not read into');
  assert.is(kept.pieces[3].toString('latin1'), 'fourth');
});

tcp('ownReads(false): reads go back to the shared buffer and retain copies again', async () => {
  const { client, stream } = await pair();
  const kept: Kept = { stream, pieces: [], text: [] };
  stream.receive(keep, kept);
  stream.ownReads(true);
  stream.socket.resume();
  for (const text of ['a1', 'a2']) {
    const n = kept.text.length;
    client.write(text);
    await until(() => kept.text.length > n);
    await sleep(10);
  }
  assert.is(kept.pieces[1].buffer.byteLength, 64 * 1024, 'an own buffer while owned');
  stream.ownReads(false);
  for (const text of ['b1', 'b2', 'b3']) {
    const n = kept.text.length;
    client.write(text);
    await until(() => kept.text.length > n);
    await sleep(10);
  }
  assert.equal(kept.pieces.map((p) => p.toString('latin1')), ['a1', 'a2', 'b1', 'b2', 'b3']);
  // The read right after ownReads(false) still used the buffer chosen before; later ones are copies.
  assert.ok(kept.pieces.slice(3).every((p) => p.buffer.byteLength !== 64 * 1024), 'copies after ownReads(false)');
});

tcp('holdOwnReads: one own buffer stays for the next read, the others go back to the spares another stream takes', async () => {
  const a = await pair();
  const kept: Kept = { stream: a.stream, pieces: [], text: [] };
  a.stream.receive(keep, kept);
  a.stream.ownReads(true);
  a.stream.socket.resume();
  const sendA = async (text: string): Promise<void> => {
    const n = kept.text.length;
    a.client.write(text);
    await until(() => kept.text.length > n);
    await sleep(10);
  };
  for (const text of ['head', 'b1', 'b2', 'b3']) await sendA(text);
  const aBuffers = kept.pieces.slice(1, 4).map((p) => p.buffer);
  assert.is(new Set(aBuffers).size, 3);
  a.stream.holdOwnReads();
  for (const piece of kept.pieces) a.stream.release(piece);
  // All three were out when "b3" was read, so the read after it was bound to the shared buffer; the
  // one after that goes to the single own buffer kept.
  await sendA('m1');
  await sendA('m2');
  assert.ok(aBuffers.includes(kept.pieces[5].buffer), 'the next message is read into one of its own buffers');
  assert.is(kept.pieces[5].toString('latin1'), 'm2');
  a.stream.release(kept.pieces[5]);
  // The two A gave back are what B's own reads get (no new allocation).
  const b = await pair();
  const keptB: Kept = { stream: b.stream, pieces: [], text: [] };
  b.stream.receive(keep, keptB);
  b.stream.ownReads(true);
  b.stream.socket.resume();
  for (const text of ['x0', 'x1', 'x2']) {
    const n = keptB.text.length;
    b.client.write(text);
    await until(() => keptB.text.length > n);
    await sleep(10);
  }
  const bBuffers = keptB.pieces.slice(1, 3).map((p) => p.buffer);
  assert.ok(bBuffers.every((buffer) => aBuffers.includes(buffer)), 'B reads into buffers A gave back');
  // A still holds one for its next read, which B did not get: both keep their bytes.
  await sendA('m3');
  assert.ok(aBuffers.includes(kept.pieces[6].buffer) && !bBuffers.includes(kept.pieces[6].buffer), 'A reads into the one it kept');
  assert.equal(keptB.pieces.map((p) => p.toString('latin1')), ['x0', 'x1', 'x2']);
  assert.is(kept.pieces[6].toString('latin1'), 'm3');
});

tcp('flushed(): nothing to wait for once the kernel took every byte; a peer that does not read is waited for, and cut off at the write timeout', async () => {
  const a = await pair();
  a.stream.write(Buffer.from('small'));
  await sleep(20);
  assert.is(a.stream.flushed(), undefined, 'all out');
  // A peer that reads nothing: the kernel's buffers fill and the rest stays queued in the socket.
  a.client.pause();
  a.stream.socket.write(Buffer.alloc(16 * 1024 * 1024, 1));
  const waiting = a.stream.flushed();
  assert.ok(waiting instanceof Promise);
  let settled = false;
  void waiting.then(() => (settled = true));
  await sleep(150);
  assert.not.ok(settled, 'still queued while the peer reads nothing');
  a.client.resume();
  await until(() => settled, 5000);
  // Same, with a write timeout: the socket is destroyed and the wait ends with a WriteTimedout failure.
  const b = await pair();
  b.stream.writeTimeoutMs = 200;
  b.client.pause();
  // Written on the socket itself: Stream.write's drain wait would time out too, racing the flush wait.
  b.stream.socket.write(Buffer.alloc(16 * 1024 * 1024, 2));
  const started = Date.now();
  await b.stream.flushed();
  assert.ok(Date.now() - started >= 150, 'waited for the timeout');
  assert.ok(b.stream.socket.destroyed, 'the socket was cut off');
  const failure = await b.stream.read().then(() => null, (e: unknown) => e as { type?: string });
  assert.is(failure?.type, 'WriteTimedout');
});

tcp('end of stream arrives as the socket event while receiving', async () => {
  const { client, stream } = await pair();
  const seen = newSeen();
  stream.receive(record, seen);
  let ended = false;
  stream.socket.on('end', () => (ended = true));
  stream.socket.resume();
  client.end('last');
  await until(() => ended);
  assert.is(seen.text.join(''), 'last');
});

const tls = suite('Stream.receive over TLS');
tls('a TLS socket hands over its own Buffers (not transient)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-stream-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const seen = newSeen();
  const tlsServer = createTlsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (socket) => {
    const stream = new Stream(socket);
    stream.receive(record, seen);
    socket.resume();
  });
  tlsServer.listen(0, '127.0.0.1');
  await once(tlsServer, 'listening');
  const client = tlsConnect({ port: (tlsServer.address() as { port: number }).port, host: '127.0.0.1', rejectUnauthorized: false });
  try {
    await once(client, 'secureConnect');
    client.write('secret');
    await until(() => seen.text.join('') === 'secret');
    assert.ok(seen.transient.every((t) => !t));
  } finally {
    client.destroy();
    await new Promise<void>((r) => tlsServer.close(() => r()));
  }
});

tcp.run();
tls.run();
