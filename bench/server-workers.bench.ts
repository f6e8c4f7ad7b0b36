// Multi-core scaling of @sluice/core's `threads: N` on this machine: a hello-world HTTP/1.1 server on
// core's Server + ListeningService + @sluice/http1 (this file started again with SLUICE_BENCH_SERVE=1
// and `-c conf.yaml`), run with threads 1 (one process) and threads 2 (a supervisor and two workers
// accepting on the same socket). wrk (1 thread, 50 keep-alive connections, 3 s) runs against each in
// turn, 3 rounds interleaved. CPU per request is the sum of utime + stime (/proc/<pid>/stat) of the
// supervisor and every worker over the run, divided by wrk's request count (kernel work done in
// softirq on another process's time is not in it).
// The load generator's core: wrk is pinned to core 1 with taskset. Two server layouts: not pinned
// (threads 2 can use both cores, one of them shared with wrk), and pinned to core 0 (a second worker
// gets no extra CPU, so only what the worker mechanism itself costs per request shows). Other work on
// the machine shares the 2 cores too: the figures are noisy.
// Needs `wrk` (apt-get install wrk). Run: cd bench && node --expose-gc --import tsx server-workers.bench.ts
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListeningService, ResponseHeader, Server, type Stream } from '@sluice/core';
import { serveHttp1 } from '@sluice/http1';
import { cpuMs, median } from './lib/proc.js';

const BODY = Buffer.from('Hello, World!');

/** The server under test: core's Server with one HTTP/1.1 hello service; `threads` comes from `-c`. */
async function serve(): Promise<void> {
  const server = Server.fromArgs();
  const hello = new ListeningService('hello', {
    processNewConnection(stream: Stream) {
      return serveHttp1(stream, (session) => {
        const res = new ResponseHeader(200);
        res.headers.appendUnchecked('Content-Type', 'text/plain');
        res.headers.appendUnchecked('Content-Length', '13');
        return session.respond(res, BODY);
      });
    },
  }).addTcp(process.env.SLUICE_BENCH_LISTEN!);
  server.addService(hello);
  // Every serving process (a worker, or the only one) says which port it accepts on.
  hello.readiness.ready.then(() => hello.addresses[0] && console.log(`READY ${process.pid} PORT ${hello.addresses[0].port}`));
  await server.runForever();
}



const pinWrk = (() => {
  try {
    execFileSync('taskset', ['-c', '1', 'true']);
    return true;
  } catch {
    return false;
  }
})();

interface Running {
  child: ChildProcess;
  port: number;
  /** The supervisor (or the only process) and its workers. */
  pids: number[];
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-workers-bench-'));
/** Every server started, stopped at the end whatever happens. */
const started: ChildProcess[] = [];

async function start(threads: number, pinServer: boolean): Promise<Running> {
  const conf = join(dir, `threads-${threads}.yaml`);
  writeFileSync(conf, `version: 1\nthreads: ${threads}\ngrace_period_seconds: 1\n`);
  const command = [process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), '-c', conf];
  // taskset execs node, so the pid is the server's; workers inherit the affinity.
  const [file, ...args] = pinServer ? ['taskset', '-c', '0', ...command] : command;
  const child = spawn(file, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SLUICE_BENCH_SERVE: '1', SLUICE_BENCH_LISTEN: '127.0.0.1:0' },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d)); // core's log: `supervising N workers: pids`
  started.push(child);
  const end = Date.now() + 20_000;
  const ready = () => /PORT \d+/.test(out) && (threads === 1 || /supervising \d+ workers: [\d, ]+\n/.test(out));
  while (!ready()) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`server (threads ${threads}) did not start:\n${out}`);
    await sleep(20);
  }
  const workers = threads === 1 ? [] : /supervising \d+ workers: ([\d, ]+)/.exec(out)![1].split(', ').map(Number);
  return { child, port: Number(/PORT (\d+)/.exec(out)![1]), pids: [child.pid!, ...workers] };
}

interface Run {
  rps: number;
  cpuUsPerRequest: number;
  /** Each process's share of the CPU time, supervisor first. */
  shares: number[];
}

function wrk(server: Running, seconds: number): Run {
  const before = server.pids.map(cpuMs);
  const args = ['-t1', '-c50', `-d${seconds}s`, `http://127.0.0.1:${server.port}/`];
  const out = pinWrk ? execFileSync('taskset', ['-c', '1', 'wrk', ...args], { encoding: 'utf8' }) : execFileSync('wrk', args, { encoding: 'utf8' });
  const used = server.pids.map((pid, i) => cpuMs(pid) - before[i]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const errors = /Socket errors: .*|Non-2xx or 3xx responses: \d+/.exec(out);
  if (errors) throw new Error(`wrk saw errors: ${errors[0]}\n${out}`);
  const total = used.reduce((a, b) => a + b, 0);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN), cpuUsPerRequest: (total * 1000) / requests, shares: used.map((u) => u / total) };
}


if (process.env.SLUICE_BENCH_SERVE === '1') {
  await serve();
} else {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (e) {
    // wrk --version exits 1 after printing; only a missing binary is a problem.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error('server-workers bench needs wrk (apt-get install wrk)');
      process.exit(1);
    }
  }
  // Two layouts: the server free to use both cores (one of them shared with wrk), and the server held
  // to core 0, where a second worker adds no CPU and only its own overhead shows.
  const layouts = pinWrk ? [false, true] : [false];
  const runs = new Map<string, Run[]>();
  const stop = async () => {
    for (const child of started) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(started.map((child) => (child.exitCode !== null ? undefined : new Promise((r) => child.once('exit', r)))));
    started.length = 0;
  };
  try {
    for (const pinServer of layouts) {
      const servers = new Map<string, Running>();
      for (const threads of [1, 2]) servers.set(`${threads} | ${pinServer ? 'core 0' : 'any'}`, await start(threads, pinServer));
      for (const s of servers.values()) wrk(s, 1); // warm-up: JIT, connection setup
      for (let round = 0; round < 3; round++) for (const [key, s] of servers) runs.set(key, [...(runs.get(key) ?? []), wrk(s, 3)]);
      await stop();
    }
  } finally {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nhello world on @sluice/core + @sluice/http1; wrk -t1 -c50, 3 x 3 s interleaved per layout; wrk ${pinWrk ? 'pinned to core 1 (taskset)' : 'not pinned (no taskset)'}; ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores, shared with other work`);
  const rows = [...runs].map(([key, rs]) => {
    const base = runs.get(key.replace(/^\d+/, '1'))!;
    const baseRps = median(base.map((r) => r.rps));
    const baseCpu = median(base.map((r) => r.cpuUsPerRequest));
    const rps = rs.map((r) => r.rps);
    const cpu = rs.map((r) => r.cpuUsPerRequest);
    const shares = rs.at(-1)!.shares.map((s) => `${(100 * s).toFixed(0)}%`).join(' / ');
    return {
      'threads | server cores': key,
      'req/s (median)': Math.round(median(rps)),
      'req/s spread (min-max)': `${Math.round(Math.min(...rps))}-${Math.round(Math.max(...rps))}`,
      'CPU us/request (median)': median(cpu).toFixed(1),
      'CPU us/request spread': `${Math.min(...cpu).toFixed(1)}-${Math.max(...cpu).toFixed(1)}`,
      'req/s ratio (vs threads 1)': (median(rps) / baseRps).toFixed(2),
      'CPU/request ratio (vs threads 1)': (median(cpu) / baseCpu).toFixed(2),
      'CPU split (supervisor / workers, last round)': shares,
    };
  });
  console.table(rows);
}
