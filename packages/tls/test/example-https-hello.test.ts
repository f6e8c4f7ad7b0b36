import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir, run } from './helpers/pki.js';

const main = resolve(import.meta.dirname, '../../../examples/https-hello/main.ts');

const example = suite<{ child: ChildProcess; port: number; dir: { path: string; remove: () => void } }>('examples/https-hello');
example.before(async (ctx) => {
  ctx.dir = tempDir();
  ctx.child = spawn(process.execPath, ['--import', 'tsx', main], {
    cwd: resolve(import.meta.dirname, '../../../examples'),
    env: { ...process.env, PORT: '0', CERT_DIR: join(ctx.dir.path, 'certs'), SSLKEYLOGFILE: join(ctx.dir.path, 'keys.log') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  ctx.child.stdout!.on('data', (d) => (out += d));
  ctx.child.stderr!.on('data', (d) => (out += d));
  for (let i = 0; i < 300 && !/localhost:(\d+)/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
  const m = /localhost:(\d+)/.exec(out);
  if (!m) throw new Error(`example did not start:\n${out}`);
  ctx.port = Number(m[1]);
});
example.after(async (ctx) => {
  ctx.child.kill('SIGTERM');
  await new Promise((r) => ctx.child.once('close', r));
  ctx.dir.remove();
});

example('writes ca.pem into CERT_DIR', ({ dir }) => {
  assert.ok(existsSync(join(dir.path, 'certs', 'ca.pem')));
});

example('curl --http2 with --cacert and --resolve gets h2', async ({ port, dir }) => {
  const r = await run('curl', ['-sS', '--http2', '--cacert', join(dir.path, 'certs', 'ca.pem'), '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/`]);
  assert.is(r.stdout, 'hello over HTTP/2.0 (ALPN h2, TLSv1.3)\n', r.stderr);
});

example('curl --http1.1 gets HTTP/1.1 by ALPN; the IP SAN verifies 127.0.0.1', async ({ port, dir }) => {
  const r = await run('curl', ['-sS', '--http1.1', '--cacert', join(dir.path, 'certs', 'ca.pem'), `https://127.0.0.1:${port}/`]);
  assert.is(r.stdout, 'hello over HTTP/1.1 (ALPN http/1.1, TLSv1.3)\n', r.stderr);
});

example('curl without the CA refuses the certificate', async ({ port }) => {
  const r = await run('curl', ['-sS', `https://127.0.0.1:${port}/`]);
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /certificate/i);
});

example('SSLKEYLOGFILE receives the secrets of those connections', async ({ dir }) => {
  await new Promise((r) => setTimeout(r, 100));
  const lines = readFileSync(join(dir.path, 'keys.log'), 'utf8').trimEnd().split('\n');
  assert.ok(lines.filter((l) => l.startsWith('CLIENT_TRAFFIC_SECRET_0 ')).length >= 2, lines.join('\n'));
});

example.run();
