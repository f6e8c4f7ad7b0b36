// Rewrites JSON responses on the way through: the origin's body is collected in
// responseBodyFilter (Content-Length removed in responseFilter, so the new body goes out chunked)
// and, at its end, replaced with a rewritten document.
//   node --import tsx examples/modify-response/main.ts              (LISTEN, default 127.0.0.1:6192)
//   curl -s localhost:6192/user/7
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpPeer, Server, formatAddress } from '@sluice/core';
import type { ResponseHeader } from '@sluice/core';
import { httpProxyService, type BodyChunk, type ProxyHttp, type Session } from '@sluice/proxy';

const origin = createServer((req, res) => {
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ id: Number(req.url?.split('/').pop()) || 0, name: 'ada', roles: ['admin'] }));
});
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
origin.unref();
const peer = new HttpPeer(`127.0.0.1:${(origin.address() as AddressInfo).port}`);

interface JsonRewrite {
  json: boolean;
  parts: Buffer[];
}

class ModifyResponse implements ProxyHttp<JsonRewrite> {
  newCtx(): JsonRewrite {
    return { json: false, parts: [] };
  }

  upstreamPeer(): HttpPeer {
    return peer;
  }

  responseFilter(_session: Session, res: ResponseHeader, ctx: JsonRewrite): void {
    ctx.json = (res.header('content-type') ?? '').startsWith('application/json');
    if (ctx.json) res.removeHeader('content-length'); // the body changes length
  }

  responseBodyFilter(_session: Session, chunk: BodyChunk, endOfStream: boolean, ctx: JsonRewrite): void {
    if (!ctx.json) return;
    if (chunk.data) ctx.parts.push(chunk.data);
    chunk.data = null; // hold everything back until the document is whole
    if (!endOfStream) return;
    const doc = JSON.parse(Buffer.concat(ctx.parts).toString('utf8')) as Record<string, unknown>;
    chunk.data = Buffer.from(JSON.stringify({ ...doc, name: String(doc.name).toUpperCase(), proxiedBy: 'sluice' }) + '\n');
  }
}

const server = Server.fromArgs([]);
server.bootstrap();
const service = httpProxyService(server.configuration, new ModifyResponse(), { name: 'modify response' }).addTcp(process.env.LISTEN ?? '127.0.0.1:6192');
server.addService(service);
service.readiness.ready.then(() => console.log(`modify-response on http://${service.addresses.map(formatAddress)[0]}: curl -s http://${service.addresses.map(formatAddress)[0]}/user/7`));
await server.runForever();
