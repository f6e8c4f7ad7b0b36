// @sluice/tls against bare node:tls on the same certificate, in one process (client and server share
// the event loop, the same for both sides). Acceptor: handshakes/s (full and resumed) and bulk
// throughput through a server built from TlsSettings vs a bare tls.createServer. Connector: handshakes/s
// through TlsConnector.upgrade vs tls.connect with the peer's options (what core does without us).
// Medians of tinybench samples; rme is tinybench's relative margin of error.
// Run: node --expose-gc --import tsx tls-handshake.bench.ts
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, createServer, type Server, type TLSSocket, type TlsOptions } from 'node:tls';
import { Bench, type Task } from 'tinybench';
import { TlsConnector, TlsSettings, createCertificateAuthority } from '@sluice/tls';

const ca = createCertificateAuthority();
const leaf = ca.issue({ dnsNames: ['bench.test'] });
const BULK = Buffer.alloc(1 << 20, 7);

async function listen(options: TlsOptions, settings?: TlsSettings): Promise<{ server: Server; port: number }> {
  const server = createServer(options);
  settings?.attach(server);
  server.on('secureConnection', (socket: TLSSocket) => {
    socket.on('error', () => {});
    // Bulk protocol: count what arrives, answer one byte per megabyte; else close right away.
    let received = 0;
    socket.on('data', (d: Buffer) => {
      received += d.length;
      while (received >= BULK.length) {
        received -= BULK.length;
        socket.write('k');
      }
    });
    socket.on('end', () => socket.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

const settings = new TlsSettings({ cert: leaf.chain, key: leaf.key });
const ours = await listen(settings.serverOptions(), settings);
const bare = await listen({ cert: leaf.chain, key: leaf.key });
const clientContext = createSecureContext({ ca: ca.cert });

async function handshake(port: number, session?: Buffer): Promise<Buffer | undefined> {
  const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'bench.test', secureContext: clientContext, session });
  let issued: Buffer | undefined;
  socket.on('session', (s: Buffer) => (issued = s));
  await once(socket, 'secureConnect');
  if (session && !socket.isSessionReused()) throw new Error('session not resumed');
  socket.end();
  socket.resume();
  await once(socket, 'close');
  return issued;
}

const oursSession = (await handshake(ours.port))!;
const bareSession = (await handshake(bare.port))!;

async function bulkClient(port: number): Promise<TLSSocket> {
  const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'bench.test', secureContext: clientContext });
  await once(socket, 'secureConnect');
  return socket;
}
const oursBulk = await bulkClient(ours.port);
const bareBulk = await bulkClient(bare.port);
async function megabyte(socket: TLSSocket): Promise<void> {
  socket.write(BULK);
  await once(socket, 'data');
}

// Connector side: both against the bare server.
const connector = new TlsConnector();
const peer = { sni: 'bench.test', address: { host: '127.0.0.1', port: bare.port }, options: { ca: ca.cert } };
async function tcp(): Promise<Socket> {
  const s = netConnect(bare.port, '127.0.0.1');
  await once(s, 'connect');
  return s;
}
async function closeTls(tls: TLSSocket): Promise<void> {
  tls.end();
  tls.resume();
  await once(tls, 'close');
}
let plainSession: Buffer | undefined;
async function plainUpgrade(resume: boolean): Promise<void> {
  const tls = tlsConnect({ socket: await tcp(), servername: 'bench.test', ca: ca.cert, session: resume ? plainSession : undefined });
  tls.on('session', (s: Buffer) => (plainSession = s));
  await once(tls, 'secureConnect');
  await closeTls(tls);
}
const noResume = new TlsConnector({ sessionCacheSize: 0 });

type Case = { label: string; unit: string; ours: [string, () => Promise<void>]; peer: [string, () => Promise<void>] };
const cases: Case[] = [
  { label: 'acceptor: full handshake', unit: 'handshakes/s', ours: ['acceptor ours: full', () => handshake(ours.port).then(() => undefined)], peer: ['acceptor bare: full', () => handshake(bare.port).then(() => undefined)] },
  { label: 'acceptor: resumed handshake', unit: 'handshakes/s', ours: ['acceptor ours: resumed', () => handshake(ours.port, oursSession).then(() => undefined)], peer: ['acceptor bare: resumed', () => handshake(bare.port, bareSession).then(() => undefined)] },
  { label: 'acceptor: bulk, 1 MiB writes', unit: 'MiB/s', ours: ['acceptor ours: bulk', () => megabyte(oursBulk)], peer: ['acceptor bare: bulk', () => megabyte(bareBulk)] },
  { label: 'connector: full handshake', unit: 'handshakes/s', ours: ['connector ours: full', async () => closeTls(await noResume.upgrade(await tcp(), peer))], peer: ['connector plain: full', () => plainUpgrade(false)] },
  { label: 'connector: resumed handshake', unit: 'handshakes/s', ours: ['connector ours: resumed', async () => closeTls(await connector.upgrade(await tcp(), peer))], peer: ['connector plain: resumed', () => plainUpgrade(true)] },
];

// Two rounds, ours first then the peer first, so neither side always runs on a warmer process.
const rates = new Map<string, { p50: number[]; rme: number[] }>();
for (const oursFirst of [true, false]) {
  const bench = new Bench({ name: 'tls', time: 1000, warmup: true });
  for (const c of cases) for (const [name, fn] of oursFirst ? [c.ours, c.peer] : [c.peer, c.ours]) bench.add(name, fn);
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result as Task['result'];
    if (!r || !('throughput' in r)) throw new Error(`${task.name}: ${r?.state}`);
    const entry = rates.get(task.name) ?? { p50: [], rme: [] };
    entry.p50.push(r.throughput.p50);
    entry.rme.push(r.throughput.rme);
    rates.set(task.name, entry);
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const row = (c: Case) => {
  const a = rates.get(c.ours[0])!;
  const b = rates.get(c.peer[0])!;
  return {
    case: c.label,
    unit: c.unit,
    ours: Math.round(mean(a.p50)).toLocaleString('en-US'),
    'node:tls': Math.round(mean(b.p50)).toLocaleString('en-US'),
    'ours/node:tls': (mean(a.p50) / mean(b.p50)).toFixed(2) + 'x',
    'rme ours / node:tls': `±${Math.max(...a.rme).toFixed(1)}% / ±${Math.max(...b.rme).toFixed(1)}%`,
  };
};
console.log(`Node ${process.version}, OpenSSL ${process.versions.openssl}; TLS 1.3, RSA 2048 certificate, X25519; mean of two rounds' medians, worst rme`);
console.table(cases.map(row));

oursBulk.destroy();
bareBulk.destroy();
ours.server.close();
bare.server.close();
