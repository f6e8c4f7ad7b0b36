// Compatibility fuzz against a real nginx, on the corners: a point hash two servers share (who keeps
// it depends on bucket order), keys long enough for the native CRC path, IPv6 servers written in
// expanded form, and a large ring of many weighted backends.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { serverHashBase } from '../src/address.js';
import { crc32Final, crc32UpdateUint32LE } from '../src/crc32.js';
import { Continuum, crc32, POINTS_PER_WEIGHT } from '../src/index.js';
import { compare, findNginx, randomUris, startBackend, startNginx, stopBackend, wireBytes, type Backend, type Nginx } from './nginx-harness.js';

const nginxBin = findNginx();
if (!nginxBin) console.log('SKIPPED: nginx compatibility fuzz (no nginx binary on PATH or in /usr/sbin; install nginx or set NGINX_BIN)');

/** The hashes of a server's first `count` points, computed the nginx way. */
function pointHashes(server: string, count: number): number[] {
  const base = serverHashBase(server);
  const out: number[] = [];
  let previous = 0;
  for (let i = 0; i < count; i++) out.push((previous = crc32Final(crc32UpdateUint32LE(base, previous))));
  return out;
}

/** Two loopback servers on `port` with one point hash in common (a birthday search over 127.0.x.y). */
function findSharedPoint(port: number, skip: number): { first: string; second: string; hash: number } | undefined {
  const owner = new Map<number, string>();
  let found = 0;
  for (let x = 1; x < 255; x++) {
    for (let y = 1; y < 255; y++) {
      const server = `127.0.${x}.${y}:${port}`;
      for (const hash of pointHashes(server, POINTS_PER_WEIGHT)) {
        const other = owner.get(hash);
        if (other !== undefined && other !== server && found++ === skip) return { first: other, second: server, hash };
        owner.set(hash, server);
      }
    }
  }
  return undefined;
}

/** URIs whose CRC-32 lands in the arc of the ring that ends at `hash`, so they map to that point. */
function urisOnto(hash: number, allPoints: number[], count: number): string[] {
  const sorted = [...new Set(allPoints)].sort((a, b) => a - b);
  const at = sorted.indexOf(hash);
  const previous = at > 0 ? sorted[at - 1] : sorted[sorted.length - 1];
  const inArc = (h: number) => (at > 0 ? h > previous && h <= hash : h > previous || h <= hash);
  const uris: string[] = [];
  for (let i = 0; uris.length < count && i < 50_000_000; i++) {
    const uri = `/shared/${i.toString(36)}`;
    if (inArc(crc32(uri))) uris.push(uri);
  }
  return uris;
}

interface Running {
  backends: Backend[];
  nginx?: Nginx;
}

async function stopAll(running: Running) {
  await running.nginx?.stop();
  await Promise.all(running.backends.map(stopBackend));
  running.nginx = undefined;
  running.backends = [];
}

const shared = suite<Running>('nginx fuzz: a point hash shared by two servers', { backends: [] });

shared.after(stopAll);

shared('the server listed first keeps the point, in nginx and here, in either order', async (running) => {
  if (!nginxBin) return console.log('SKIPPED: nginx fuzz: shared point (no nginx)');
  // Find a colliding pair on a port that is free on both addresses.
  let pair: { first: string; second: string; hash: number } | undefined;
  for (let attempt = 0; attempt < 5 && running.backends.length < 2; attempt++) {
    const probe = await startBackend({ host: '127.0.0.1' }, 1);
    const port = Number(probe.server.split(':')[1]);
    await stopBackend(probe);
    pair = findSharedPoint(port, attempt);
    assert.ok(pair, `no shared point among 64516 servers on port ${port}`);
    try {
      for (const server of [pair.first, pair.second]) running.backends.push(await startBackend({ host: server.split(':')[0], port }, 1));
    } catch {
      await stopAll(running);
    }
  }
  assert.ok(pair && running.backends.length === 2, 'could not listen on a colliding pair of loopback addresses');
  const [first, second] = running.backends;
  assert.is(first.server, pair.first);
  const onShared = urisOnto(pair.hash, [...pointHashes(first.server, 160), ...pointHashes(second.server, 160)], 40);
  assert.is(onShared.length, 40);
  const background = randomUris(500, 99);

  for (const order of [[first, second], [second, first]]) {
    running.nginx = await startNginx(nginxBin, order.map((b) => `${b.server} weight=1`));
    const ring = new Continuum(order.map((b) => ({ addr: b.server, weight: 1 })));
    assert.is(ring.pointCount, 2 * POINTS_PER_WEIGHT - 1, 'the shared hash is kept once');
    for (const uri of onShared) {
      assert.is(ring.node(uri), order[0].server, uri);
      assert.is(await running.nginx.get(uri), order[0].server, `nginx on ${uri}`);
    }
    assert.equal(await compare(running.nginx, ring, background), []);
    await running.nginx.stop();
    running.nginx = undefined;
  }
});

const long = suite<Running>('nginx fuzz: long URIs (the native CRC-32 path)', { backends: [] });

long.after(stopAll);

long('1000 URIs up to 2 KB map as nginx maps them', async (running) => {
  if (!nginxBin) return console.log('SKIPPED: nginx fuzz: long URIs (no nginx)');
  for (const weight of [2, 1, 4]) running.backends.push(await startBackend({ host: '127.0.0.1' }, weight));
  running.nginx = await startNginx(nginxBin, running.backends.map((b) => `${b.server} weight=${b.weight}`));
  const ring = new Continuum(running.backends.map((b) => ({ addr: b.server, weight: b.weight })));
  const uris = randomUris(1000, 4242, 400);
  assert.ok(uris.filter((u) => wireBytes(u).length >= 160).length > 500, 'most URIs are long');
  const mismatches = await compare(running.nginx, ring, uris);
  assert.equal(mismatches.slice(0, 5), [], `${mismatches.length} of ${uris.length} differ`);
});

const expanded = suite<Running>('nginx fuzz: IPv6 servers written in expanded form', { backends: [] });

expanded.after(stopAll);

expanded('nginx hashes the server text as written, so strings must match it', async (running) => {
  if (!nginxBin) return console.log('SKIPPED: nginx fuzz: expanded IPv6 (no nginx)');
  try {
    for (const weight of [1, 2, 3]) running.backends.push(await startBackend({ host: '0:0:0:0:0:0:0:1' }, weight));
  } catch (error) {
    return console.log(`SKIPPED: nginx fuzz: expanded IPv6 (cannot listen on ::1: ${(error as Error).message})`);
  }
  assert.match(running.backends[0].server, /^\[0:0:0:0:0:0:0:1\]:\d+$/);
  running.nginx = await startNginx(nginxBin, running.backends.map((b) => `${b.server} weight=${b.weight}`));
  const asWritten = new Continuum(running.backends.map((b) => ({ addr: b.server, weight: b.weight })));
  const uris = randomUris(1500, 61);
  const mismatches = await compare(running.nginx, asWritten, uris);
  assert.equal(mismatches.slice(0, 5), [], `${mismatches.length} of ${uris.length} differ`);
  // Socket address objects hash the compressed form "[::1]:port", which this nginx config did not use.
  const asObjects = new Continuum(
    running.backends.map((b) => ({ addr: { address: '::1', port: Number(b.server.split(']:')[1]) }, weight: b.weight })),
  );
  const differ = uris.filter((uri) => asObjects.bucketIdx(wireBytes(uri)) !== asWritten.bucketIdx(wireBytes(uri))).length;
  assert.ok(differ > 100, `compressed and expanded forms differ on only ${differ} URIs`);
});

const large = suite<Running>('nginx fuzz: 24 backends with weights up to 40', { backends: [] });

large.after(stopAll);

large('3000 random URIs map as nginx maps them', async (running) => {
  if (!nginxBin) return console.log('SKIPPED: nginx fuzz: large ring (no nginx)');
  for (let i = 0; i < 24; i++) running.backends.push(await startBackend({ host: `127.0.1.${i + 1}` }, 1 + ((i * 7) % 40)));
  running.nginx = await startNginx(nginxBin, running.backends.map((b) => `${b.server} weight=${b.weight}`));
  const ring = new Continuum(running.backends.map((b) => ({ addr: b.server, weight: b.weight })));
  const total = running.backends.reduce((sum, b) => sum + b.weight, 0);
  assert.ok(ring.pointCount > total * POINTS_PER_WEIGHT - 10);
  const uris = randomUris(3000, 1234);
  const mismatches = await compare(running.nginx, ring, uris);
  assert.equal(mismatches.slice(0, 5), [], `${mismatches.length} of ${uris.length} differ`);
});

shared.run();
long.run();
expanded.run();
large.run();
