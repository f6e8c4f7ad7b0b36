// The proof: a real nginx with `hash $request_uri consistent` over loopback backends of differing
// weights, thousands of random URIs, and our Continuum must name nginx's choice for every one.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Continuum } from '../src/index.js';
import { compare, findNginx, randomUris, startBackend, startNginx, stopBackend, wireBytes, type Backend, type Nginx } from './nginx-harness.js';

const nginxBin = findNginx();
if (!nginxBin) console.log('SKIPPED: nginx compatibility suites (no nginx binary on PATH or in /usr/sbin; install nginx or set NGINX_BIN)');

interface Context {
  backends: Backend[];
  nginx?: Nginx;
  socketDir: string;
}

const ipv4 = suite<Context>('nginx: hash $request_uri consistent over IPv4 and unix-socket backends', {
  backends: [],
  socketDir: '',
});

ipv4.before(async (context) => {
  if (!nginxBin) return;
  context.socketDir = mkdtempSync(join(tmpdir(), 'sluice-ketama-sock-'));
  const weights = [1, 2, 3, 5, 1];
  for (const weight of weights) context.backends.push(await startBackend({ host: '127.0.0.1' }, weight));
  context.backends.push(await startBackend({ path: join(context.socketDir, 'backend.sock') }, 2));
  context.nginx = await startNginx(
    nginxBin,
    context.backends.map((b) => `${b.server} weight=${b.weight}`),
  );
});

ipv4.after(async (context) => {
  await context.nginx?.stop();
  await Promise.all(context.backends.map(stopBackend));
  if (context.socketDir) rmSync(context.socketDir, { recursive: true, force: true });
});

ipv4('node(uri) names nginx\'s backend for 4000 random URIs', async (context) => {
  if (!context.nginx) return console.log('SKIPPED: nginx: IPv4 comparison (no nginx)');
  const ring = new Continuum(context.backends.map((b) => ({ addr: b.server, weight: b.weight })));
  const uris = randomUris(4000, 20261121);
  const mismatches = await compare(context.nginx, ring, uris);
  assert.equal(mismatches.slice(0, 10), [], `${mismatches.length} of ${uris.length} URIs differ`);
  // Every backend took part, so the comparison covered all of them.
  const used = new Set(uris.map((uri) => ring.node(wireBytes(uri))));
  assert.is(used.size, context.backends.length);
});

ipv4('socket address objects map like their nginx text', async (context) => {
  if (!context.nginx) return console.log('SKIPPED: nginx: address objects (no nginx)');
  const tcp = context.backends.filter((b) => !b.server.startsWith('unix:'));
  const unix = context.backends.filter((b) => b.server.startsWith('unix:'));
  // Objects for the TCP backends, strings for the unix socket; answers come back as server text.
  const ring = new Continuum<string | { address: string; port: number }>([
    ...tcp.map((b) => ({ addr: { address: '127.0.0.1', port: Number(b.server.split(':')[1]) }, weight: b.weight })),
    ...unix.map((b) => ({ addr: b.server, weight: b.weight })),
  ]);
  // Bucket order differs from nginx's, which is fine while no two buckets share a point hash.
  const asText = new Continuum([...tcp, ...unix].map((b) => ({ addr: b.server, weight: b.weight })));
  const uris = randomUris(500, 7);
  for (const uri of uris) assert.is(ring.bucketIdx(wireBytes(uri)), asText.bucketIdx(wireBytes(uri)));
  const mismatches = await compare(context.nginx, asText, uris);
  assert.equal(mismatches, []);
});

const ipv6 = suite<Context>('nginx: hash $request_uri consistent over IPv6 backends', { backends: [], socketDir: '' });

ipv6.before(async (context) => {
  if (!nginxBin) return;
  for (const [host, weight] of [['::1', 1], ['::1', 3], ['127.0.0.1', 2], ['::1', 2]] as const) {
    try {
      context.backends.push(await startBackend({ host }, weight));
    } catch (error) {
      console.log(`SKIPPED: nginx IPv6 comparison (cannot listen on ${host}: ${(error as Error).message})`);
      return;
    }
  }
  context.nginx = await startNginx(nginxBin, context.backends.map((b) => `${b.server} weight=${b.weight}`));
});

ipv6.after(async (context) => {
  await context.nginx?.stop();
  await Promise.all(context.backends.map(stopBackend));
});

ipv6('nginx hashes "[::1]" with its brackets, and so do we', async (context) => {
  if (!context.nginx) return console.log('SKIPPED: nginx: IPv6 comparison (no nginx or no ::1)');
  const ring = new Continuum(context.backends.map((b) => ({ addr: b.server, weight: b.weight })));
  const uris = randomUris(2000, 6);
  const mismatches = await compare(context.nginx, ring, uris);
  assert.equal(mismatches.slice(0, 10), [], `${mismatches.length} of ${uris.length} URIs differ`);
  // Hashing the bare "::1" (as pingora-ketama does) would disagree with nginx on many URIs.
  const bare = new Continuum(context.backends.map((b) => ({ addr: b.server.replace(/^\[(.*)\]/, '$1'), weight: b.weight })));
  const differ = uris.filter((uri) => bare.bucketIdx(wireBytes(uri)) !== ring.bucketIdx(wireBytes(uri))).length;
  assert.ok(differ > 100, `bare IPv6 hosts changed only ${differ} answers`);
});

ipv4.run();
ipv6.run();
