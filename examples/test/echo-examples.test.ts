import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { run, waitFor } from './helpers/child.js';

const main = (name: string) => fileURLToPath(new URL(`../${name}/main.ts`, import.meta.url));

/** Starts an example on a free port and returns it with the address it printed. */
async function start(name: string): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const example = run(process.execPath, ['--import', 'tsx', main(name)], { env: { LISTEN: '127.0.0.1:0', LISTEN_UDS: `/tmp/sluice-example-${process.pid}.sock` } });
  const m = await waitFor(example.output, /listening on 127\.0\.0\.1:(\d+)/, 20_000);
  return { ...example, port: Number(m[1]) };
}

const examples = suite('core examples');

examples('tcp-echo echoes over TCP and UDS, and drains on SIGTERM', async () => {
  const { child, port, output } = await start('tcp-echo');
  const exited = once(child, 'exit');
  const s = connect(port, '127.0.0.1');
  let got = '';
  s.on('data', (d) => (got += d));
  s.write('hello, ');
  s.write('sluice');
  while (got.length < 13) await new Promise((r) => setTimeout(r, 10));
  assert.is(got, 'hello, sluice');
  const uds = connect(`/tmp/sluice-example-${process.pid}.sock`);
  uds.write('via uds');
  const [reply] = (await once(uds, 'data')) as [Buffer];
  assert.is(reply.toString(), 'via uds');
  uds.end();
  child.kill('SIGTERM');
  await once(s, 'end'); // the server half-closes open connections on graceful shutdown
  s.end();
  const [code] = (await exited) as [number];
  assert.is(code, 0, output());
  assert.match(output(), 'graceful shutdown started');
});

examples('udp-echo answers datagrams; SIGINT stops it', async () => {
  const { child, port } = await start('udp-echo');
  const exited = once(child, 'exit');
  const client = createSocket('udp4');
  client.send('ping', port, '127.0.0.1');
  const [msg] = (await once(client, 'message')) as [Buffer];
  assert.is(msg.toString(), 'ping');
  client.close();
  child.kill('SIGINT');
  const [code] = (await exited) as [number];
  assert.is(code, 0);
});

examples.run();
