// The http2-echo example, run as shipped: curl and nghttp against it.
import type { Server } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEchoServer } from '../../../examples/http2-echo/main.js';
import { run } from './helpers/peers.js';

const example = suite('examples/http2-echo');
let server: Server;
let port = 0;
example.before(async () => {
  server = await startEchoServer(0);
  port = (server.address() as { port: number }).port;
});
example.after(() => new Promise<void>((resolve) => server.close(() => resolve())));

example('answers curl --http2-prior-knowledge with JSON of what it parsed', async () => {
  const got = await run('curl', ['-sS', '--http2-prior-knowledge', '-H', 'X-Test: 1', '-d', 'some body', `http://127.0.0.1:${port}/hello?q=1`]);
  assert.is(got.code, 0, got.stderr);
  const json = JSON.parse(got.stdout);
  assert.is(json.method, 'POST');
  assert.is(json.path, '/hello?q=1');
  assert.is(json.authority, `127.0.0.1:${port}`);
  assert.is(json.scheme, 'http');
  assert.is(json.version, '2');
  assert.is(json.bodyLength, 9);
  assert.ok(json.headers.some(([name, value]: [string, string]) => name === 'x-test' && value === '1'));
});

example('answers nghttp, several streams at once', async () => {
  const got = await run('nghttp', [`http://127.0.0.1:${port}/a`, `http://127.0.0.1:${port}/b`]);
  assert.is(got.code, 0, got.stderr);
  const paths = got.stdout.trim().split('\n').map((line) => JSON.parse(line).path).sort();
  assert.equal(paths, ['/a', '/b']);
});

example.run();
