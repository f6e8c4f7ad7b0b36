// What a kept-alive connection holds while it waits for its next request: nothing of the last one.
import { connect } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { collected, exchangeOn } from '../../core/test/helpers/idle.js';
import { ResponseHeader } from '@sluice/core';
import type { HeaderMap, RequestHeader } from '@sluice/core';
import { startServer } from './helpers/net.js';
import type { TestServer } from './helpers/net.js';

interface Ctx {
  srv: TestServer;
  heads: Array<WeakRef<RequestHeader>>;
  fields: Array<WeakRef<HeaderMap>>;
}

const idle = suite<Ctx>('an idle keep-alive connection');
idle.before(async (ctx) => {
  ctx.heads = [];
  ctx.fields = [];
  ctx.srv = await startServer((session, request) => {
    ctx.heads.push(new WeakRef(request));
    ctx.fields.push(new WeakRef(request.headers));
    const res = ResponseHeader.build(200);
    return session.respond(res, `${request.method} ${request.uri} ${request.headers.get('x-n') ?? ''}`);
  });
});
idle.after(async (ctx) => ctx.srv.close());

idle('keeps neither the head nor the fields of its last request, and serves the next one (pipelined ones too)', async (ctx) => {
  const socket = connect(ctx.srv.port, '127.0.0.1');
  try {
    const first = await exchangeOn(socket, 'GET /first HTTP/1.1\r\nHost: a\r\nX-N: 1\r\n\r\n', /GET \/first 1$/);
    assert.match(first, /^HTTP\/1\.1 200 /);
    assert.ok(await collected(ctx.heads[0]), 'the finished request head was collected while the connection waits');
    assert.ok(await collected(ctx.fields[0]), 'its header map was collected');
    const next = await exchangeOn(socket, 'GET /second HTTP/1.1\r\nHost: a\r\nX-N: 2\r\n\r\nGET /third HTTP/1.1\r\nHost: a\r\nX-N: 3\r\n\r\n', /GET \/third 3$/);
    assert.match(next, /^HTTP\/1\.1 200 [^]*GET \/second 2HTTP\/1\.1 200 [^]*GET \/third 3$/, 'the next requests are answered in order');
    assert.ok(await collected(ctx.heads[2]), 'after pipelined requests too');
  } finally {
    socket.destroy();
  }
});

idle.run();
