// The Sentry example end to end: @sentry/node's real transport sends to a local endpoint standing in
// for Sentry (its DSN `http://public@127.0.0.1:<port>/1`); a crash in a phase must arrive as one event
// envelope with the exception chain, the request summary and the tags, and a served request must not.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { alive, run, until, waitFor } from './helpers/child.js';

interface Envelope {
  path: string;
  headers: IncomingHttpHeaders;
  header: Record<string, unknown>;
  items: Array<{ header: { type: string }; payload: Record<string, unknown> }>;
}

interface SentryException {
  type: string;
  value: string;
  stacktrace?: { frames?: Array<{ filename?: string }> };
}

/** Sentry's envelope format: a header line, then per item a header line and a payload (JSON here). */
function parseEnvelope(body: string): Pick<Envelope, 'header' | 'items'> {
  const lines = body.split('\n');
  const header = JSON.parse(lines[0]) as Record<string, unknown>;
  const items: Envelope['items'] = [];
  for (let i = 1; i + 1 < lines.length; i += 2) {
    if (lines[i] === '') break;
    items.push({ header: JSON.parse(lines[i]) as { type: string }, payload: JSON.parse(lines[i + 1]) as Record<string, unknown> });
  }
  return { header, items };
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const envelopes: Envelope[] = [];
let sentry: Server;
let origin: Server;
let example: ReturnType<typeof run> | undefined;

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('timeout', () => req.destroy(new Error(`${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function events(): Array<Record<string, unknown>> {
  return envelopes.flatMap((e) => e.items.filter((i) => i.header.type === 'event').map((i) => i.payload));
}

const Reported = suite('examples/sentry: a crash reaches Sentry as an event');

Reported.before(async () => {
  sentry = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      let body = Buffer.concat(parts);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      envelopes.push({ path: req.url!, headers: req.headers, ...parseEnvelope(body.toString('utf8')) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  origin = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => sentry.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
});

Reported.after(async () => {
  if (example?.child.pid !== undefined && alive(example.child.pid)) {
    example.child.kill('SIGTERM');
    await until('the example to exit', () => example!.child.exitCode !== null || example!.child.signalCode !== null, 10_000).catch(() => example!.child.kill('SIGKILL'));
  }
  sentry.close();
  origin.close();
});

Reported('the crash is one event with the exception chain, tags and the request summary; the served request none', async () => {
  const sentryPort = (sentry.address() as AddressInfo).port;
  const dsn = `http://public@127.0.0.1:${sentryPort}/1`;
  const upstream = `127.0.0.1:${(origin.address() as AddressInfo).port}`;
  example = run(process.execPath, ['--import', 'tsx', here('../sentry/main.ts'), '--dsn', dsn, '--listen', '127.0.0.1:0', '--upstream', upstream]);
  const port = Number((await waitFor(example.output, /sentry example on http:\/\/127\.0\.0\.1:(\d+)/))[1]);

  assert.is(await get(port, '/fine'), 200);
  assert.is(await get(port, '/crash'), 500);
  await until('an event envelope at the local Sentry endpoint', () => events().length > 0, 10_000).catch((e: Error) => {
    throw new Error(`${e.message}; example output:\n${example!.output()}`);
  });
  // Another served request, and time for anything else to arrive: still one event.
  assert.is(await get(port, '/fine'), 200);
  await new Promise((r) => setTimeout(r, 500));
  assert.is(events().length, 1, 'only the crash was reported');

  const envelope = envelopes.find((e) => e.items.some((i) => i.header.type === 'event'))!;
  const url = new URL(envelope.path, 'http://sentry');
  assert.is(url.pathname, '/api/1/envelope/', 'project 1 of the DSN');
  assert.is(url.searchParams.get('sentry_key') ?? /sentry_key=(\w+)/.exec(String(envelope.headers['x-sentry-auth']))?.[1], 'public', 'the DSN’s key');
  const event = events()[0] as {
    event_id: string;
    level: string;
    release: string;
    tags: Record<string, string>;
    contexts: { sluice: { request: string; client: string } };
    exception: { values: SentryException[] };
  };
  assert.match(event.event_id, /^[0-9a-f]{32}$/);
  assert.is(envelope.header.event_id, event.event_id);
  assert.is(event.level, 'error');
  assert.is(event.release, 'sluice-example');
  assert.is(event.tags['sluice.where'], 'proxy phase');
  assert.is(event.tags['sluice.error_type'], 'InternalError');
  assert.is(event.contexts.sluice.request, `GET /crash, Host: 127.0.0.1:${port}`);
  assert.match(event.contexts.sluice.client, /^127\.0\.0\.1:\d+$/);
  // The proxy's SluiceError and, linked through `cause`, the phase's own TypeError with its frames.
  const types = event.exception.values.map((v) => v.type);
  assert.ok(types.includes('SluiceError'), `exception types ${types.join(', ')}`);
  const typeError = event.exception.values.find((v) => v.type === 'TypeError');
  assert.ok(typeError, `a TypeError among ${types.join(', ')}`);
  assert.match(typeError.value, /retries/);
  assert.ok(typeError.stacktrace?.frames?.some((f) => f.filename?.includes('examples/sentry/main.ts')), 'the crash’s frames point into the example');
});

Reported.run();
