import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { RequestHeader, SluiceError } from '@sluice/core';
import { extractTraceContext, formatTraceparent, injectTraceContext, parseTraceparent, RequestTracing } from '../src/index.js';

/** W3C Trace Context §3.2 for version 00, as a regex independent of the code under test. */
const TRACEPARENT_00 = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

const Traceparent = suite('W3C traceparent');

Traceparent('parses a valid header and formats it back identically', () => {
  const value = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
  const ctx = parseTraceparent(value)!;
  assert.equal({ traceId: ctx.traceId, spanId: ctx.spanId, traceFlags: ctx.traceFlags, isRemote: ctx.isRemote }, { traceId: CLIENT_TRACE, spanId: CLIENT_SPAN, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  assert.is(formatTraceparent(ctx), value);
  assert.is(formatTraceparent({ ...ctx, traceFlags: 0 }), `00-${CLIENT_TRACE}-${CLIENT_SPAN}-00`);
});

Traceparent('rejects what §3.2 forbids; accepts a future version with extra fields', () => {
  const bad = [
    `00-${CLIENT_TRACE.toUpperCase()}-${CLIENT_SPAN}-01`,
    `ff-${CLIENT_TRACE}-${CLIENT_SPAN}-01`,
    `00-${'0'.repeat(32)}-${CLIENT_SPAN}-01`,
    `00-${CLIENT_TRACE}-${'0'.repeat(16)}-01`,
    `00-${CLIENT_TRACE.slice(1)}-${CLIENT_SPAN}-01`,
    `00-${CLIENT_TRACE}-${CLIENT_SPAN}-1`,
    `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01-extra`,
    `0-${CLIENT_TRACE}-${CLIENT_SPAN}-01`,
    `00_${CLIENT_TRACE}_${CLIENT_SPAN}_01`,
    '',
  ];
  for (const v of bad) assert.is(parseTraceparent(v), undefined, v);
  assert.is(parseTraceparent(`cc-${CLIENT_TRACE}-${CLIENT_SPAN}-01-what-the-future-holds`)?.traceId, CLIENT_TRACE);
  // Only the sampled bit of the flags is kept (§3.2.2.5: other bits are not understood).
  assert.is(parseTraceparent(`00-${CLIENT_TRACE}-${CLIENT_SPAN}-ff`)?.traceFlags, 1);
});

Traceparent('extract from request fields, inject into another, tracestate carried', () => {
  const down = RequestHeader.build('GET', '/');
  down.headers.append('traceparent', `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`);
  down.headers.append('tracestate', 'vendor=abc');
  down.headers.append('tracestate', 'other=1');
  const ctx = extractTraceContext(down.headers)!;
  assert.is(ctx.traceState?.get('vendor'), 'abc');
  const up = RequestHeader.build('GET', '/');
  up.headers.append('traceparent', 'garbage');
  injectTraceContext(up.headers, { ...ctx, spanId: 'b7ad6b7169203331' });
  assert.equal(up.headers.getAll('traceparent'), [`00-${CLIENT_TRACE}-b7ad6b7169203331-01`]);
  assert.is(up.headers.get('tracestate'), 'vendor=abc,other=1');
  assert.is(extractTraceContext(RequestHeader.build('GET', '/').headers), undefined);
});

const Spans = suite('RequestTracing spans (in-memory exporter)');
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

Spans('no tracer provider registered: nothing is created', () => {
  const tracing = new RequestTracing();
  assert.is(tracing.tracer, undefined);
  const span = tracing.startRequest(RequestHeader.build('GET', '/'));
  assert.is(span, undefined);
  assert.is(tracing.startPhase(span, 'upstream.connect'), undefined);
  const up = RequestHeader.build('GET', '/');
  tracing.injectUpstream(undefined, up);
  assert.not.ok(up.headers.has('traceparent'));
  tracing.endRequest(undefined, 200);
});

function byName(spans: ReadableSpan[], name: string): ReadableSpan {
  const s = spans.find((x) => x.name === name);
  assert.ok(s, `span ${name}`);
  return s;
}

Spans('a request continues the client trace; phases are its children; traceparent goes upstream', () => {
  trace.setGlobalTracerProvider(provider);
  exporter.reset();
  const tracing = new RequestTracing();
  assert.ok(tracing.tracer, 'global provider picked up');
  const down = RequestHeader.build('GET', '/items?page=2');
  down.headers.append('Host', 'example.org');
  down.headers.append('traceparent', `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`);
  const span = tracing.startRequest(down, { 'client.address': '127.0.0.1' });
  const connect = tracing.startPhase(span, 'upstream.connect', { 'server.address': '10.0.0.2', 'server.port': 443 });
  tracing.endPhase(connect);
  const tls = tracing.startPhase(span, 'tls.handshake');
  tracing.endPhase(tls);
  const upstream = tracing.startPhase(span, 'upstream.response');
  const up = down.clone();
  tracing.injectUpstream(upstream, up);
  tracing.endPhase(upstream);
  tracing.endRequest(span, 200);

  const spans = exporter.getFinishedSpans();
  assert.is(spans.length, 4);
  const root = byName(spans, 'GET');
  assert.is(root.kind, SpanKind.SERVER);
  assert.is(root.spanContext().traceId, CLIENT_TRACE);
  assert.is(root.parentSpanContext?.spanId, CLIENT_SPAN);
  assert.equal(root.attributes, { 'http.request.method': 'GET', 'url.path': '/items', 'url.query': 'page=2', 'server.address': 'example.org', 'client.address': '127.0.0.1', 'http.response.status_code': 200 });
  assert.is(root.status.code, SpanStatusCode.UNSET);
  for (const name of ['upstream.connect', 'tls.handshake', 'upstream.response']) {
    const child = byName(spans, name);
    assert.is(child.spanContext().traceId, CLIENT_TRACE);
    assert.is(child.parentSpanContext?.spanId, root.spanContext().spanId, `${name} is a child of the request`);
  }
  assert.is(byName(spans, 'upstream.response').kind, SpanKind.CLIENT);
  assert.is(byName(spans, 'upstream.connect').kind, SpanKind.INTERNAL);
  assert.is(byName(spans, 'upstream.connect').attributes['server.port'], 443);

  const sent = up.headers.get('traceparent')!;
  assert.match(sent, TRACEPARENT_00);
  assert.is(sent, `00-${CLIENT_TRACE}-${byName(spans, 'upstream.response').spanContext().spanId}-01`);
  assert.equal(up.headers.getAll('traceparent').length, 1, "the client's traceparent is replaced");
});

Spans('a phase measured after the fact is backdated (connect time from a Digest)', () => {
  exporter.reset();
  const tracing = new RequestTracing();
  const span = tracing.startRequest(RequestHeader.build('GET', '/'));
  const connectedAt = Date.now();
  tracing.endPhase(tracing.startPhase(span, 'upstream.connect', undefined, connectedAt - 25), undefined, connectedAt);
  tracing.endRequest(span, 200);
  const connect = byName(exporter.getFinishedSpans(), 'upstream.connect');
  const ms = connect.duration[0] * 1e3 + connect.duration[1] / 1e6;
  assert.ok(Math.abs(ms - 25) < 1, `duration ${ms} ms`);
});

Spans('without a traceparent a new trace starts; an invalid one is ignored', () => {
  exporter.reset();
  const tracing = new RequestTracing();
  const bad = RequestHeader.build('POST', '/');
  bad.headers.append('traceparent', `00-${'0'.repeat(32)}-${CLIENT_SPAN}-01`);
  tracing.endRequest(tracing.startRequest(bad), 201);
  const [span] = exporter.getFinishedSpans();
  assert.is(span.parentSpanContext, undefined);
  assert.match(span.spanContext().traceId, /^(?!0{32})[0-9a-f]{32}$/);
  assert.is.not(span.spanContext().traceId, CLIENT_TRACE);
});

Spans('errors: a failed phase records the exception; 5xx and errors mark the request ERROR; 4xx does not', () => {
  exporter.reset();
  const tracing = new RequestTracing({ tracer: provider.getTracer('test') });
  const span = tracing.startRequest(RequestHeader.build('GET', '/'));
  const connect = tracing.startPhase(span, 'upstream.connect');
  tracing.endPhase(connect, new SluiceError('ConnectRefused', { context: 'connecting to 10.0.0.2:80' }));
  tracing.endRequest(span, 502);
  const client = tracing.startRequest(RequestHeader.build('GET', '/missing'));
  tracing.endRequest(client, 404);
  const failed = tracing.startRequest(RequestHeader.build('GET', '/gone'));
  tracing.endRequest(failed, 0, 'client went away');

  const spans = exporter.getFinishedSpans();
  const c = byName(spans, 'upstream.connect');
  assert.is(c.status.code, SpanStatusCode.ERROR);
  assert.ok(c.status.message?.includes('10.0.0.2:80'));
  assert.is(c.attributes['error.type'], 'ConnectRefused');
  assert.is(c.events[0]?.name, 'exception');
  const [r502, r404, r0] = spans.filter((s) => s.name === 'GET');
  assert.is(r502.status.code, SpanStatusCode.ERROR);
  assert.is(r404.status.code, SpanStatusCode.UNSET);
  assert.is(r0.status.code, SpanStatusCode.ERROR);
  assert.is(r0.status.message, 'client went away');
  assert.not.ok('http.response.status_code' in r0.attributes);
});

Spans.after(async () => {
  await provider.shutdown();
  trace.disable();
});

Traceparent.run();
Spans.run();
