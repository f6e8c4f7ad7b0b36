// Helpers for tests against real peers: run a command line client, and a handler for big bodies.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { ResponseHeader } from '@sluice/core';
import type { Http2ServerStream } from '../../src/index.js';

export function run(command: string, args: string[], timeoutMs = 20000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}

/**
 * GET /download?n=N answers N octets of a repeating pattern in 64 KiB writes; any other request is
 * answered with JSON: method, path, body length and SHA-256, trailers. Responses to requests with
 * `x-want-trailers` end with trailers.
 */
export async function bodies(stream: Http2ServerStream): Promise<void> {
  const request = stream.request;
  if (request.path === '/download') {
    const n = Number(new URLSearchParams(request.query ?? '').get('n') ?? '0');
    stream.writeResponseHeader(ResponseHeader.build(200, '2').insertHeader('content-length', n));
    const chunk = Buffer.alloc(65536);
    for (let i = 0; i < chunk.length; i++) chunk[i] = i & 0xff;
    for (let sent = 0; sent < n; sent += chunk.length) {
      const piece = n - sent < chunk.length ? chunk.subarray(0, n - sent) : chunk;
      const pending = stream.writeBody(piece, sent + piece.length >= n);
      if (pending !== undefined) await pending;
    }
    if (n === 0) await stream.finishResponse();
    return;
  }
  const hash = createHash('sha256');
  let length = 0;
  for (let chunk = await stream.readBodyChunk(); chunk !== null; chunk = await stream.readBodyChunk()) {
    hash.update(chunk);
    length += chunk.length;
  }
  const json = JSON.stringify({ method: request.method, path: request.uri, authority: stream.authority, bodyLength: length, sha256: hash.digest('hex'), trailers: stream.trailers ?? [] });
  const response = ResponseHeader.build(200, '2').insertHeader('content-type', 'application/json');
  if (request.header('x-want-trailers') !== undefined) {
    stream.writeResponseHeader(response);
    await stream.writeBody(json);
    const trailers = new (await import('@sluice/core')).HeaderMap();
    trailers.append('grpc-status', '0');
    trailers.append('grpc-message', 'ok');
    await stream.finishResponse(trailers);
    return;
  }
  await stream.respond(response, json);
}

export function pattern(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = i & 0xff;
  return out;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
