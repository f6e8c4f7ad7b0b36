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
