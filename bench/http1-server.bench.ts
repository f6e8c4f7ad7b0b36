// Hello-world HTTP/1.1 server throughput under wrk on loopback: a server on @sluice/http1's
// ServerSession against one on Node's `http` module, each in its own process (this file started again
// with `--serve ours|node|floor`). wrk (1 thread, 50 keep-alive connections, 4 s) runs against them in
// turn, one request at a time per connection and pipelined 16 deep, 3 rounds interleaved. The table
// shows median requests/s, the spread (min-max), and each server's CPU time per request (from /proc).
// Servers are pinned to core 0 and wrk to core 1 (taskset). H1_BENCH_AB=NAME adds our server started
// with NAME=1 (an A/B of a change behind that variable), H1_BENCH_ROUNDS sets the rounds (default 3),
// H1_BENCH_PIPELINED=0 leaves out the pipelined workload, H1_BENCH_BASELINE=<path of this file in
// another built checkout> adds that checkout's server of ours (a before/after in the same rounds).
// A third process, a raw socket server that parses nothing, shows the floor that wrk and the kernel
// set for one request at a time; the last line compares the HTTP work done above it. When wrk, not
// the server, is the bottleneck, CPU per request is the fairer comparison. The machine's cores are
// shared with other work: treat every figure as noisy.
// Needs `wrk` on PATH (apt-get install wrk). Run: cd bench && node --expose-gc --import tsx http1-server.bench.ts
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ResponseHeader, Stream } from '@sluice/core';
import { serveHttp1 } from '@sluice/http1';
import { cpuMs } from './lib/proc.js';

const BODY = Buffer.from('Hello, World!');

function serveOurs(): void {
  // The session adds Date (its `date` option, on by default), as node:http does.
  const server = createNetServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    void serveHttp1(new Stream(socket), (session) => {
      const res = new ResponseHeader(200);
      res.headers.appendUnchecked('Content-Type', 'text/plain');
      res.headers.appendUnchecked('Content-Length', '13');
      return session.respond(res, BODY);
    });
  });
  server.listen(0, '127.0.0.1', () => console.log(`PORT ${(server.address() as AddressInfo).port}`));
}

function serveNode(): void {
  const server = createHttpServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '13' });
    res.end(BODY);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => console.log(`PORT ${(server.address() as AddressInfo).port}`));
}

const FLOOR_RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!');

function answerRead(socket: Socket): void {
  socket.write(FLOOR_RESPONSE);
}

/**
 * The floor: a socket server that answers every read with a fixed response and parses nothing. It
 * reads as our server does (core's Stream.receive: one shared buffer, no Buffer or 'data' event per
 * read), so what it costs per request is the kernel's, libuv's and Node's share that no HTTP server
 * on `net` goes below, and what ours costs above it is HTTP.
 */
function serveFloor(): void {
  const server = createNetServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    new Stream(socket).receive(answerRead, socket);
    socket.resume();
  });
  server.listen(0, '127.0.0.1', () => console.log(`PORT ${(server.address() as AddressInfo).port}`));
}

// Servers on core 0, wrk on core 1 (when the machine has two cores and taskset is there), so the
// client never competes with the server it measures; every server shares the same core.
const pin = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
})();

function start(which: string, env: Record<string, string> = {}, script = fileURLToPath(import.meta.url)): Promise<{ child: ChildProcess; port: number }> {
  const nodeArgs = [...(process.env.H1_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', script, '--serve', which];
  const [cmd, args] = pin ? ['taskset', ['-c', '0', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      const m = /PORT (\d+)/.exec(d.toString());
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`${which} server exited ${code}`)));
  });
}

// wrk's Lua hook for HTTP pipelining (as in TechEmpower's plaintext test): 16 requests per write.
const PIPELINE_DEPTH = 16;
const pipelineScript = join(mkdtempSync(join(tmpdir(), 'sluice-wrk-')), 'pipeline.lua');
writeFileSync(
  pipelineScript,
  `init = function(args)\n  local r = {}\n  for i = 1, ${PIPELINE_DEPTH} do r[i] = wrk.format(nil, "/") end\n  req = table.concat(r)\nend\nrequest = function() return req end\n`,
);


function wrk(port: number, pipelined: boolean, pid: number, seconds = 4): { rps: number; non2xx: number; cpuUsPerRequest: number } {
  const cpuBefore = cpuMs(pid);
  const args = ['-t1', '-c50', `-d${seconds}s`, `http://127.0.0.1:${port}/`];
  if (pipelined) args.push('-s', pipelineScript);
  const out = pin ? execFileSync('taskset', ['-c', '1', 'wrk', ...args], { encoding: 'utf8' }) : execFileSync('wrk', args, { encoding: 'utf8' });
  const cpu = cpuMs(pid) - cpuBefore;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps, non2xx, cpuUsPerRequest: (cpu * 1000) / requests };
}

const mode = process.argv.indexOf('--serve');
if (mode !== -1) {
  process.on('SIGINT', () => process.exit(0)); // a clean exit, so --cpu-prof can write its profile
  const which = process.argv[mode + 1];
  if (which === 'ours') serveOurs();
  else if (which === 'floor') serveFloor();
  else serveNode();
} else {
  // H1_BENCH_AB=NAME adds a second server of ours started with NAME=1 in its environment: an A/B of a
  // change toggled by that variable, measured in the same rounds.
  const ab = process.env.H1_BENCH_AB;
  const servers: Record<string, { child: ChildProcess; port: number }> = { '@sluice/http1 (ours)': await start('ours') };
  if (ab) servers[`ours with ${ab}=1`] = await start('ours', { [ab]: '1' });
  // H1_BENCH_BASELINE=<this file in another checkout, built>: its server of ours, in the same rounds.
  const baseline = process.env.H1_BENCH_BASELINE;
  if (baseline) servers['ours, baseline build'] = await start('ours', {}, baseline);
  servers['node:http'] = await start('node');
  servers['raw socket, no HTTP (floor)'] = await start('floor');
  const rounds = Number(process.env.H1_BENCH_ROUNDS ?? 3);
  const workloads = process.env.H1_BENCH_PIPELINED === '0' ? [false] : [false, true];
  const results: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  try {
    for (const s of Object.values(servers)) wrk(s.port, false, s.child.pid as number, 2); // warm-up, not counted
    for (let round = 0; round < rounds; round++) {
      for (const pipelined of workloads) {
        for (const [name, s] of Object.entries(servers)) {
          if (pipelined && name.includes('floor')) continue; // it answers reads, not requests
          const r = wrk(s.port, pipelined, s.child.pid as number);
          if (r.non2xx > 0) throw new Error(`${name}: ${r.non2xx} non-2xx responses`);
          const key = `${pipelined ? `pipelined ×${PIPELINE_DEPTH}` : 'one at a time'}|${name}`;
          (results[key] ??= []).push(r.rps);
          (cpu[key] ??= []).push(r.cpuUsPerRequest);
        }
      }
    }
  } finally {
    for (const s of Object.values(servers)) s.child.kill();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`http1 server: hello world, wrk -t1 -c50 -d4s, ${rounds} rounds, Node ${process.version}, ${pin ? 'servers on core 0, wrk on core 1' : 'not pinned'}`);
  console.table(
    Object.entries(results).map(([key, xs]) => {
      const [workload, name] = key.split('|');
      const ours = median(results[`${workload}|@sluice/http1 (ours)`]);
      return {
        workload,
        server: name,
        'requests/s (median)': Math.round(median(xs)),
        'min-max': `${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))}`,
        'ratio ours/this': (ours / median(xs)).toFixed(2),
        // Interference from other work only ever lowers a run's rate: the best run is the least disturbed.
        'ratio of best runs': (Math.max(...results[`${workload}|@sluice/http1 (ours)`]) / Math.max(...xs)).toFixed(2),
        'server CPU µs/request': median(cpu[key]).toFixed(1),
        'CPU ratio this/ours': (median(cpu[key]) / median(cpu[`${workload}|@sluice/http1 (ours)`])).toFixed(2),
      };
    }),
  );
  const floor = median(cpu['one at a time|raw socket, no HTTP (floor)']);
  const above = (name: string) => median(cpu[`one at a time|${name}`]) - floor;
  console.log(
    `one at a time, CPU per request above the floor's ${floor.toFixed(1)} µs: ours ${above('@sluice/http1 (ours)').toFixed(1)} µs, ` +
      `node:http ${above('node:http').toFixed(1)} µs (node:http / ours = ${(above('node:http') / above('@sluice/http1 (ours)')).toFixed(2)})`,
  );
}
