// wrk against a server process, and nginx as an origin, for the process-level HTTP benchmarks.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuMs } from './proc.js';

export interface WrkResult {
  rps: number;
  p99Ms: number;
  /** CPU time (user + system) the proxy process spent per request, in microseconds. */
  cpuUsPerRequest: number;
  mbPerSecond: number;
}

/**
 * Runs `wrk -t1 -c<connections>` (default 50, pinned to CPU 1) for `seconds` against
 * 127.0.0.1:`port``path`, and reads the CPU time process `pid` spent meanwhile.
 */
export function wrk(port: number, seconds: number, pid?: number, path = '/', connections = 50): WrkResult {
  const before = cpuMs(pid);
  const out = execFileSync('taskset', ['-c', '1', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}${path}`], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99Ms = p ? Number(p[1]) * (p[2] === 'us' ? 0.001 : p[2] === 's' ? 1000 : 1) : NaN;
  const t = /Transfer\/sec:\s+([\d.]+)(KB|MB|GB)/.exec(out);
  const mbPerSecond = t ? Number(t[1]) * (t[2] === 'KB' ? 1 / 1024 : t[2] === 'GB' ? 1024 : 1) : NaN;
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const cpuUsPerRequest = ((cpuMs(pid) - before) * 1000) / requests;
  if (/Non-2xx|Socket errors/.test(out) || !(requests > 0)) process.stderr.write(`wrk on :${port} saw errors or no answer:\n${out}\n`);
  return { rps, p99Ms, cpuUsPerRequest, mbPerSecond };
}

/** A running nginx: `port` is the one its configuration's `PORT` became, `child` the process. */
export interface NginxProcess {
  port: number;
  child: ChildProcess;
  stop: () => void;
}

/**
 * nginx pinned to CPU `cpu` with one worker, `httpBody` as its `http` block (after `access_log off`
 * and unlimited keep-alive requests), written to `<dir>/<name>.conf`. `PORT` in it becomes a random
 * port (nginx cannot report one it picked) and `PORT2` the next one. With `masterProcess: false` the
 * process is the worker itself, so its CPU time is nginx's.
 */
export function startNginxWith(dir: string, name: string, cpu: number, httpBody: string, options: { masterProcess?: boolean } = {}): NginxProcess {
  // Below the ephemeral range (32768+), where a port may be taken by an outgoing connection.
  const port = 20000 + Math.floor(Math.random() * 12000);
  const conf = join(dir, `${name}.conf`);
  writeFileSync(
    conf,
    `worker_processes 1;${options.masterProcess === false ? ' master_process off;' : ''} daemon off; pid ${dir}/${name}.pid; error_log ${dir}/${name}-error.log;
worker_rlimit_nofile 19000;
events { worker_connections 16384; }
http { access_log off; keepalive_requests 1000000;
  ${httpBody.replaceAll('PORT2', String(port + 1)).replaceAll('PORT', String(port))} }\n`,
  );
  chmodSync(dir, (statSync(dir).mode & 0o777) | 0o755); // nginx's workers run as another user
  const child = spawn('taskset', ['-c', String(cpu), 'nginx', '-p', dir, '-c', conf], { stdio: 'ignore' });
  return { port, child, stop: () => child.kill('SIGTERM') };
}

/** nginx pinned to CPU 1 on a random port: `return 200 "ok"` at `/`, 64 KiB and 1 MiB files under `/files/`. */
export function startNginx(dir: string): NginxProcess {
  writeFileSync(join(dir, '64k.bin'), Buffer.alloc(64 * 1024, 'a'), { mode: 0o644 });
  writeFileSync(join(dir, '1m.bin'), Buffer.alloc(1024 * 1024, 'b'), { mode: 0o644 });
  return startNginxWith(dir, 'nginx', 1, `server { listen 127.0.0.1:PORT; location / { return 200 "ok\\n"; } location /files/ { alias ${dir}/; } }`);
}

/**
 * nginx as a reverse proxy (the peer: one worker, pinned to CPU 0 like the Node proxies) in
 * front of `originPort`, with upstream keep-alive (`keepalive 128`). `workerPid` is its one worker,
 * whose CPU time is the proxy's.
 */
export async function startNginxProxy(dir: string, originPort: number): Promise<NginxProcess & { workerPid: number }> {
  const nginx = startNginxWith(
    dir,
    'nginx-proxy',
    0,
    `upstream origin { server 127.0.0.1:${originPort}; keepalive 128; keepalive_requests 1000000; }
  server { listen 127.0.0.1:PORT;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering on; } }`,
  );
  const { pid } = nginx.child;
  let workerPid = NaN;
  for (let i = 0; i < 100 && !(workerPid > 0); i++) {
    await new Promise((r) => setTimeout(r, 50));
    try {
      workerPid = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0]);
    } catch {
      // not started yet
    }
  }
  return { ...nginx, workerPid };
}

/**
 * Starts `node file ...args` pinned to CPU 0 (wrk and the origin get CPU 1) and resolves with its port
 * once it prints `PORT <n>`.
 */
export function startPinnedServer(file: string, args: string[], name: string, nodeFlags: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn('taskset', ['-c', '0', process.execPath, ...nodeFlags, file, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`${name} exited ${code}`)));
  });
}
