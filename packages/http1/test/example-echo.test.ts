// examples/http1-echo as shipped: started as its own process (PORT=0), asked by curl and by Node's
// http client, its JSON checked against what was sent.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { curl } from './helpers/net.js';

const main = resolve(import.meta.dirname, '../../../examples/http1-echo/main.ts');
const echo = suite<{ child: ChildProcess; port: number }>('examples/http1-echo');

if (!existsSync(main)) {
  console.log('SKIPPED examples/http1-echo: not found next to this package');
  echo('example absent', () => assert.ok(true));
} else {
  echo.before(async (ctx) => {
    ctx.child = spawn(process.execPath, ['--import', 'tsx', main], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
    ctx.port = await new Promise<number>((done, fail) => {
      const bound = setTimeout(() => fail(new Error('example did not start within 20 s')), 20_000);
      ctx.child.stdout?.on('data', (d: Buffer) => {
        const m = /"port":(\d+)/.exec(d.toString());
        if (m) {
          clearTimeout(bound);
          done(Number(m[1]));
        }
      });
    });
  });
  echo.after((ctx) => {
    ctx.child.kill();
  });

  echo('curl POST: method, target, version, fields in order, body length and SHA-256', async ({ port }) => {
    const r = await curl(['-H', 'X-First: 1', '-H', 'x-second: 2', '--data-binary', 'some body', `http://127.0.0.1:${port}/path?q=1`]);
    const j = JSON.parse(r.stdout);
    assert.is(j.method, 'POST');
    assert.is(j.target, '/path?q=1');
    assert.is(j.version, '1.1');
    const names = j.headers.map((h: [string, string]) => h[0]);
    assert.ok(names.indexOf('X-First') < names.indexOf('x-second'));
    assert.is(j.bodyLength, 9);
    assert.is(j.bodySha256, createHash('sha256').update('some body').digest('hex'));
  });

  echo('Node http client: chunked body with trailers', async ({ port }) => {
    const body = await new Promise<string>((done, fail) => {
      const req = request({ host: '127.0.0.1', port, method: 'PUT', path: '/t', headers: { Trailer: 'X-Sum' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => done(text));
      });
      req.on('error', fail);
      req.write('abc');
      req.addTrailers({ 'X-Sum': '3' });
      req.end();
    });
    const j = JSON.parse(body);
    assert.is(j.bodyLength, 3);
    assert.equal(j.trailers, [['X-Sum', '3']]);
  });
}

echo.run();
