// The examples run as a user runs them (their own process, listening on port 0) and answer as documented.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { curl } from './helpers/net.js';

const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));

interface Running {
  child: ChildProcess;
  base: string;
  output: string;
}

/** Starts an example and waits for the line that gives its address. */
function run(path: string, args: string[], ready: RegExp): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', examples + path, ...args], { env: { ...process.env, LISTEN: '127.0.0.1:0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const running: Running = { child, base: '', output: '' };
    const timer = setTimeout(() => reject(new Error(`${path} did not start: ${running.output}`)), 15_000);
    const onData = (d: Buffer) => {
      running.output += d.toString();
      const m = ready.exec(running.output);
      if (m && !running.base) {
        clearTimeout(timer);
        running.base = `http://${m[1]}`;
        resolve(running);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', () => reject(new Error(`${path} exited: ${running.output}`)));
  });
}

function stop(r: Running): Promise<void> {
  return new Promise((resolve) => {
    if (r.child.exitCode !== null) return resolve();
    r.child.once('exit', () => resolve());
    r.child.kill('SIGINT');
  });
}

const ex = suite('examples');

ex('grpc: the echo service behind the proxy answers a unary call made through it', async () => {
  const running = await run('grpc/main.ts', [], /grpc proxy on (\S+)/);
  try {
    for (let i = 0; i < 100 && !/unary reply/.test(running.output); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(running.output, /unary reply: hello through sluice/);
  } finally {
    await stop(running);
  }
});

ex('load-balancer --h2c: HTTP/2 prior knowledge and HTTP/1.1 on one port, round robin over both', async () => {
  const lb = await run('load-balancer/main.ts', ['--listen', '127.0.0.1:0', '--h2c'], /load balancer on http:\/\/(\S+)/);
  try {
    await new Promise((r) => setTimeout(r, 100));
    assert.match(lb.output, /--http2-prior-knowledge/);
    assert.not.match(lb.output, /not available/);
    const bodies = [];
    for (let i = 0; i < 2; i++) {
      const r = await curl(['-i', '--http2-prior-knowledge', lb.base + '/']);
      assert.match(r.stdout, /^HTTP\/2 200/);
      bodies.push(r.stdout.slice(r.stdout.indexOf('hello from origin'), r.stdout.indexOf('hello from origin') + 19));
    }
    assert.equal(bodies.sort(), ['hello from origin 1', 'hello from origin 2']);
    assert.is((await curl(['--http2-prior-knowledge', '--data-binary', 'echo h2', lb.base + '/echo'])).stdout, 'echo h2');
    assert.is((await curl([lb.base + '/echo', '--data-binary', 'echo h1'])).stdout, 'echo h1');
  } finally {
    await stop(lb);
  }
});

ex('load-balancer: embedded origins, round robin, POST echo, prints curl commands', async () => {
  const lb = await run('load-balancer/main.ts', ['--listen', '127.0.0.1:0'], /load balancer on http:\/\/(\S+)/);
  try {
    await new Promise((r) => setTimeout(r, 100)); // the curl hints follow the address line
    assert.match(lb.output, /curl -i http:\/\//);
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push((await curl([lb.base + '/'])).stdout);
    assert.equal(bodies.map((b) => b.slice(0, 19)).sort(), ['hello from origin 1', 'hello from origin 1', 'hello from origin 2', 'hello from origin 2']);
    assert.is((await curl(['--data-binary', 'echo me', lb.base + '/echo'])).stdout, 'echo me');
  } finally {
    await stop(lb);
  }
});

ex('load-balancer --upstream: no embedded origins; a dead upstream is skipped', async () => {
  const origin = await run('load-balancer/main.ts', ['--listen', '127.0.0.1:0'], /embedded origins: (\S+),/);
  try {
    const lb = await run('load-balancer/main.ts', ['--listen', '127.0.0.1:0', '--upstream', origin.base.slice(7), '--upstream', '127.0.0.1:1'], /load balancer on http:\/\/(\S+)/);
    try {
      assert.not.match(lb.output, /embedded origins/);
      for (let i = 0; i < 4; i++) assert.match((await curl([lb.base + '/'])).stdout, /^hello from origin 1/);
    } finally {
      await stop(lb);
    }
  } finally {
    await stop(origin);
  }
});

ex('gateway: 401 without the token, api pool without the prefix, web pool', async () => {
  const gw = await run('gateway/main.ts', [], /gateway on http:\/\/(\S+)/);
  try {
    assert.match((await curl(['-i', gw.base + '/api/users'])).stdout, /^HTTP\/1\.1 401 /);
    const a = (await curl(['-H', 'Authorization: Bearer letmein', gw.base + '/api/users'])).stdout;
    const b = (await curl(['-H', 'Authorization: Bearer letmein', gw.base + '/api/users'])).stdout;
    assert.equal([a, b].sort(), ['api-1 got GET /users\n', 'api-2 got GET /users\n']);
    assert.is((await curl([gw.base + '/index.html'])).stdout, 'web-1 got GET /index.html\n');
  } finally {
    await stop(gw);
  }
});

ex('modify-response: JSON rewritten', async () => {
  const m = await run('modify-response/main.ts', [], /modify-response on http:\/\/([\d.]+:\d+)/);
  try {
    assert.equal(JSON.parse((await curl([m.base + '/user/7'])).stdout), { id: 7, name: 'ADA', roles: ['admin'], proxiedBy: 'sluice' });
  } finally {
    await stop(m);
  }
});

ex('ctx: beta routing by header and per-request numbering', async () => {
  const c = await run('ctx/main.ts', [], /ctx example on http:\/\/(\S+)/);
  try {
    assert.is((await curl([c.base + '/'])).stdout, 'stable origin\n');
    const beta = await curl(['-i', '-H', 'beta-flag: 1', c.base + '/']);
    assert.match(beta.stdout, /X-Request-Number: 2/);
    assert.match(beta.stdout, /beta origin\n$/);
  } finally {
    await stop(c);
  }
});

ex.run();
