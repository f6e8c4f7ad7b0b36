import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect as netConnect } from 'node:net';
import { once } from 'node:events';
import { BackgroundService, ListeningService, Server, silentLogger, type ErrorReport, type ServerApp, type Stream } from '../src/index.js';

/** An app that crashes on a connection whose first bytes say `crash`, throws synchronously on `throw`, and echoes otherwise. */
class CrashingApp implements ServerApp {
  async processNewConnection(stream: Stream): Promise<void> {
    const first = await stream.read();
    const text = first?.toString() ?? '';
    if (text.startsWith('crash')) throw new TypeError('handler bug');
    const w = stream.write(first ?? Buffer.alloc(0));
    if (w) await w;
  }
}

/** Sends `text`, resolves with what came back before the connection closed. */
async function exchange(port: number, text: string): Promise<string> {
  const socket = netConnect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(text);
  let out = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (out += d));
  socket.on('error', () => {});
  await once(socket, 'close');
  return out;
}

const Reporter = suite('errorReporter');

Reporter('a server’s reporter reaches its listening services: a crashed handler is reported, a served connection is not', async () => {
  const reports: Array<{ error: unknown; report: ErrorReport }> = [];
  const server = new Server({ handleSignals: false, log: silentLogger, errorReporter: (error, report) => reports.push({ error, report }) });
  const service = new ListeningService('echo', new CrashingApp()).addTcp('127.0.0.1:0');
  server.addService(service);
  const running = server.run();
  try {
    await service.readiness.ready;
    const port = service.addresses[0].port;
    assert.is(await exchange(port, 'hello'), 'hello');
    assert.is(reports.length, 0, 'nothing to report for a served connection');
    assert.is(await exchange(port, 'crash now'), '', 'the crashed connection is closed');
    assert.is(reports.length, 1);
    const { error, report } = reports[0];
    assert.instance(error, TypeError);
    assert.is((error as Error).message, 'handler bug');
    assert.is(report.where, 'connection handler');
    assert.is(report.service, 'echo');
    assert.match(report.client ?? '', /^127\.0\.0\.1:\d+$/);
  } finally {
    server.shutdown('fast');
    await running;
  }
});

Reporter('a service’s own reporter wins; a reporter that throws is logged, not fatal', async () => {
  const serverReports: string[] = [];
  const own: string[] = [];
  const logged: string[] = [];
  const log = { info() {}, warn() {}, error: (m: string) => void logged.push(m) };
  const server = new Server({ handleSignals: false, log, errorReporter: (_e, r) => serverReports.push(r.where) });
  const service = new ListeningService('own', new CrashingApp()).addTcp('127.0.0.1:0');
  service.errorReporter = (_e, r) => {
    own.push(r.where);
    throw new Error('reporter down');
  };
  server.addService(service);
  const running = server.run();
  try {
    await service.readiness.ready;
    await exchange(service.addresses[0].port, 'crash');
    assert.equal(own, ['connection handler']);
    assert.ok(logged.some((m) => m.includes('error reporter failed')), 'the reporter’s own failure is logged');
    assert.is(await exchange(service.addresses[0].port, 'still serving'), 'still serving');
  } finally {
    server.shutdown('fast');
    await running;
  }
  assert.equal(serverReports, [], 'the server’s reporter did not replace the service’s');
});

Reporter('a service that fails is reported by the server', async () => {
  const reports: Array<{ error: unknown; report: ErrorReport }> = [];
  const server = new Server({ handleSignals: false, log: silentLogger, errorReporter: (error, report) => reports.push({ error, report }) });
  server.addService(new BackgroundService('doomed', { start: () => Promise.reject(new Error('task bug')) }));
  await server.run().then(
    () => assert.unreachable('run() resolved although a service failed'),
    (e: unknown) => assert.is((e as Error).message, 'task bug'),
  );
  assert.is(reports.length, 1);
  assert.is((reports[0].error as Error).message, 'task bug');
  assert.equal(reports[0].report, { where: 'service', service: 'doomed' });
});

Reporter.run();
