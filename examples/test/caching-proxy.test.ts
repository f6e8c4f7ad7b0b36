// examples/caching-proxy as a user runs it: its own process, the embedded origin, curl.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run, waitFor } from './helpers/child.js';

const main = fileURLToPath(new URL('../caching-proxy/main.ts', import.meta.url));

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-sS', '--max-time', '10', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

const test = suite<{ child?: ChildProcess; base: string; output: () => string }>('examples/caching-proxy');

test.before(async (ctx) => {
  const proxy = run(process.execPath, ['--import', 'tsx', main, '--listen', '127.0.0.1:0']);
  ctx.child = proxy.child;
  ctx.output = proxy.output;
  ctx.base = (await waitFor(proxy.output, /caching proxy on (http:\/\/\S+)/, 15_000))[1];
  await waitFor(proxy.output, /cache-stats/, 15_000);
});

test.after(async (ctx) => {
  const child = ctx.child;
  if (child === undefined || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
});

test('embedded origin: the second request is a hit with Age; PURGE removes it; stats count it all', async (ctx) => {
  assert.match(ctx.output(), /embedded origin: 127\.0\.0\.1:\d+/);
  assert.match(ctx.output(), /curl -i -X PURGE/);
  const first = await curl(['-i', ctx.base + '/']);
  const second = await curl(['-i', ctx.base + '/']);
  const stamp = (r: string) => /origin response #\d+/.exec(r)?.[0];
  assert.is(stamp(first), 'origin response #1');
  assert.is(stamp(second), 'origin response #1');
  assert.match(second, /\r\nAge: \d+\r\n/);
  assert.match(first, /\r\nCache-Status: sluice; fwd=uri-miss; fwd-status=200; stored\r\n/);
  assert.match(second, /\r\nCache-Status: sluice; hit; ttl=\d+\r\n/);
  assert.match(await curl(['-i', '-X', 'PURGE', ctx.base + '/']), /^HTTP\/1\.1 200/);
  assert.match(await curl(['-i', '-X', 'PURGE', ctx.base + '/']), /^HTTP\/1\.1 404/);
  assert.is(stamp(await curl([ctx.base + '/'])), 'origin response #2');
  const never1 = await curl([ctx.base + '/private']);
  const never2 = await curl([ctx.base + '/private']);
  assert.is.not(stamp(never1), stamp(never2), 'no-store is honoured');
  const stats = JSON.parse(await curl([ctx.base + '/.sluice/cache-stats'])) as Record<string, number>;
  assert.is(stats.hits, 1);
  assert.is(stats.purged, 1);
  assert.is(stats.entries, 1);
});

test.run();
