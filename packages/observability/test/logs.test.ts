import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SluiceError } from '@sluice/core';
import { AccessLog, accessLogEntry, ErrorLog } from '../src/index.js';

/** A pino destination that keeps the lines. */
function memory(): { lines: string[]; write(line: string): void } {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

const Entry = suite('accessLogEntry');

Entry('maps a request summary to snake_case fields, no error key on success', () => {
  const e = accessLogEntry({ method: 'GET', uri: '/a?b=1', status: 200, bytesIn: 0, bytesOut: 512, durationMs: 1.23456, upstream: '10.0.0.2:80', client: '127.0.0.1:5000' });
  assert.equal(e, { method: 'GET', uri: '/a?b=1', status: 200, bytes_in: 0, bytes_out: 512, duration_ms: 1.235, upstream: '10.0.0.2:80', client: '127.0.0.1:5000' });
  assert.not.ok('error' in e);
});

Entry('a SluiceError keeps its Pingora type; plain errors their name and code; non-errors a string', () => {
  const sluice = new SluiceError('ConnectRefused', { context: 'connecting to 10.0.0.2:80' });
  const e = accessLogEntry({ method: 'GET', uri: '/', status: 502, bytesIn: 0, bytesOut: 0, durationMs: 3, error: sluice });
  assert.is(e.error!.type, 'ConnectRefused');
  assert.ok(e.error!.message.includes('10.0.0.2:80'));
  assert.is(e.upstream, null);
  const sys = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
  assert.equal(accessLogEntry({ method: 'GET', uri: '/', status: 0, bytesIn: 0, bytesOut: 0, durationMs: 0, error: sys }).error, { type: 'Error', message: 'reset', code: 'ECONNRESET' });
  assert.equal(accessLogEntry({ method: 'GET', uri: '/', status: 0, bytesIn: 0, bytesOut: 0, durationMs: 0, error: 'odd' }).error, { type: 'Error', message: 'odd' });
});

const Access = suite('AccessLog');

Access('one JSON line per request; info for success, warn for 5xx and failures', () => {
  const dest = memory();
  const log = new AccessLog(dest, { base: { service: 'edge' } });
  log.log({ method: 'GET', uri: '/', status: 200, bytesIn: 0, bytesOut: 5, durationMs: 2 });
  log.log({ method: 'POST', uri: '/u', status: 503, bytesIn: 10, bytesOut: 0, durationMs: 9 });
  log.log({ method: 'GET', uri: '/x', status: 0, bytesIn: 0, bytesOut: 0, durationMs: 1, error: new Error('client went away') });
  assert.is(dest.lines.length, 3);
  for (const l of dest.lines) assert.ok(l.endsWith('\n') && !l.slice(0, -1).includes('\n'), 'one line each');
  const [a, b, c] = dest.lines.map((l) => JSON.parse(l));
  assert.equal([a.level, b.level, c.level], [30, 40, 40]);
  assert.is(a.msg, 'access');
  assert.is(a.service, 'edge');
  assert.is(a.bytes_out, 5);
  assert.is(typeof a.time, 'number');
  assert.is(c.error.message, 'client went away');
});

Access('the level option filters', () => {
  const dest = memory();
  const log = new AccessLog(dest, { level: 'warn' });
  log.log({ method: 'GET', uri: '/', status: 200, bytesIn: 0, bytesOut: 5, durationMs: 2 });
  log.log({ method: 'GET', uri: '/', status: 500, bytesIn: 0, bytesOut: 5, durationMs: 2 });
  assert.is(dest.lines.length, 1);
  assert.is(JSON.parse(dest.lines[0]).status, 500);
});

const Errors = suite('ErrorLog');

Errors("as core's Logger: levels, and errors serialized under err", () => {
  const dest = memory();
  const core = new ErrorLog(dest).asCoreLogger();
  core.info('listening on 127.0.0.1:8080');
  core.warn('slow');
  core.error('connection failed', new SluiceError('ReadTimedout', { context: 'reading the request head' }));
  core.error('no detail');
  const lines = dest.lines.map((l) => JSON.parse(l));
  assert.equal(lines.map((l) => l.level), [30, 40, 50, 50]);
  assert.is(lines[0].pid, process.pid);
  assert.is(lines[2].msg, 'connection failed');
  assert.ok(lines[2].err.message.includes('reading the request head'));
  assert.is(typeof lines[2].err.stack, 'string');
  assert.not.ok('err' in lines[3]);
});

Entry.run();
Access.run();
Errors.run();
