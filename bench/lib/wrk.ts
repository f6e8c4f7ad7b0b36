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
  /** Response bytes per second (wrk's Transfer/sec: request bodies are not in it), in MB. */
  mbPerSecond: number;
  /** Non-2xx/3xx answers plus socket errors (connect, read, write, timeout) wrk counted. */
  errors: number;
}

/**
 * Runs `wrk -t1 -c<connections>` (default 50, pinned to CPU 1) for `seconds` against
 * 127.0.0.1:`port``path`, and reads the CPU time process `pid` spent meanwhile. `script` is a Lua
 * file for `wrk -s` (e.g. one from {@link writeWrkPostScript}).
 */
export function wrk(port: number, seconds: number, pid?: number, path = '/', connections = 50, script?: string): WrkResult {
  const before = cpuMs(pid);
  const args = ['-c', '1', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...(script ? ['-s', script] : []), `http://127.0.0.1:${port}${path}`];
  const out = execFileSync('taskset', args, { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99Ms = p ? Number(p[1]) * (p[2] === 'us' ? 0.001 : p[2] === 's' ? 1000 : 1) : NaN;
  const t = /Transfer\/sec:\s+([\d.]+)(KB|MB|GB)/.exec(out);
  const mbPerSecond = t ? Number(t[1]) * (t[2] === 'KB' ? 1 / 1024 : t[2] === 'GB' ? 1024 : 1) : NaN;
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const cpuUsPerRequest = ((cpuMs(pid) - before) * 1000) / requests;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + (socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
  if (errors > 0 || !(requests > 0)) process.stderr.write(`wrk on :${port} saw errors or no answer:\n${out}\n`);
  return { rps, p99Ms, cpuUsPerRequest, mbPerSecond, errors };
}

/**
 * Writes a Lua script for {@link wrk}'s `script` that makes every request a `POST` with a body of
 * `bodyBytes` bytes (wrk adds the Content-Length), and returns its path.
 */
export function writeWrkPostScript(file: string, bodyBytes: number): string {
  writeFileSync(file, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/octet-stream"\nwrk.body = string.rep("u", ${bodyBytes})\n`);
  return file;
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

/**
 * nginx pinned to CPU 1 on a random port: `return 200 "ok"` at `/`, 64 KiB and 1 MiB files under
 * `/files/`, and `POST /upload` (bodies up to 16 MiB) answered `200 "ok"` only once the whole body
 * has been read.
 */
export function startNginx(dir: string): NginxProcess {
  writeFileSync(join(dir, '64k.bin'), Buffer.alloc(64 * 1024, 'a'), { mode: 0o644 });
  writeFileSync(join(dir, '1m.bin'), Buffer.alloc(1024 * 1024, 'b'), { mode: 0o644 });
  // `return 200` would answer before the body arrives and discard it, and a proxy that sees an early
  // answer rightly closes the client's connection. Proxying instead (with request buffering, nginx's
  // default) makes nginx read the whole body first, here into memory (client_body_buffer_size), and
  // then send only the headers to a second server on PORT2 that answers `return 200`.
  const upload = `location = /upload { client_max_body_size 16m; client_body_buffer_size 16m;
      proxy_pass http://upload_sink; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_pass_request_body off; proxy_set_header Content-Length ""; }`;
  return startNginxWith(
    dir,
    'nginx',
    1,
    `server { listen 127.0.0.1:PORT; location / { return 200 "ok\\n"; } location /files/ { alias ${dir}/; }
    ${upload} }
  upstream upload_sink { server 127.0.0.1:PORT2; keepalive 32; }
  server { listen 127.0.0.1:PORT2; location / { return 200 "ok\\n"; } }`,
  );
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
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering on; }
    # Uploads stream to the origin as they arrive, like the Node proxies (nginx's default would read
    # the whole body first), with no size limit (the Node proxies have none). Reads of 64 KiB, as
    # Node's: the default (two pages, 8 KiB on x86-64) cost nginx about twice the CPU per 64 KiB upload.
    location = /upload { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_request_buffering off; client_max_body_size 0; client_body_buffer_size 64k; } }`,
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
