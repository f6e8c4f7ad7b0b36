// RFC 9110 §9.3.2, §15.3.5, §15.4.5: responses to HEAD, and 204 and 304 responses, carry no content
// even when the application writes some; Node's http2 client checks what arrives.
import http2 from 'node:http2';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ResponseHeader } from '@sluice/core';
import type { Http2ServerStream } from '../src/index.js';
import { startServer, type TestServer } from './helpers/echo-server.js';

const BODY = 'this body must not be sent';

async function answerWithBody(stream: Http2ServerStream): Promise<void> {
  const status = Number(stream.request.path.slice(1)) || 200;
  const res = ResponseHeader.build(status).insertHeader('content-length', BODY.length);
  if (stream.request.query === 'streamed') {
    stream.writeResponseHeader(res);
    await stream.writeBody(BODY.slice(0, 5));
    await stream.writeBody(BODY.slice(5), true);
  } else await stream.respond(res, BODY);
}

function request(port: number, method: string, path: string): Promise<{ status: number; length: string | undefined; body: string; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const client = http2.connect(`http://127.0.0.1:${port}`);
    client.on('error', reject);
    const req = client.request({ ':method': method, ':path': path });
    let status = 0;
    let length: string | undefined;
    let body = '';
    req.on('response', (h) => {
      status = Number(h[':status']);
      length = h['content-length'] as string | undefined;
    });
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      client.close();
      resolve({ status, length, body, ended: true });
    });
    req.on('error', reject);
    req.end();
  });
}

const bodyless = suite('responses without content');
let server: TestServer;
bodyless.before(async () => {
  server = await startServer({}, answerWithBody);
});
bodyless.after(() => server.close());

bodyless('HEAD gets the header (with Content-Length) and no body, whole or streamed', async () => {
  for (const path of ['/200', '/200?streamed']) {
    const r = await request(server.port, 'HEAD', path);
    assert.is(r.status, 200);
    assert.is(r.length, String(BODY.length));
    assert.is(r.body, '');
    assert.ok(r.ended);
  }
  const get = await request(server.port, 'GET', '/200');
  assert.is(get.body, BODY, 'GET still gets it');
});

bodyless('204 and 304 carry no content even when the application writes some', async () => {
  for (const path of ['/204', '/304', '/204?streamed', '/304?streamed']) {
    const r = await request(server.port, 'GET', path);
    assert.is(r.status, Number(path.slice(1, 4)));
    assert.is(r.body, '', path);
    assert.ok(r.ended, path);
  }
});

bodyless.run();
