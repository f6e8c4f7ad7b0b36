import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const packageDir = join(import.meta.dirname, '..');
const readme = suite('README example');

readme('the first code block runs: round robin over 3 backends, a dead one drops out', async () => {
  const text = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(text)?.[1];
  assert.ok(code, 'README has a ts block');
  // Inside the package folder so that `@sluice/lb` resolves to this package (its built dist).
  const file = join(packageDir, `.readme-example-${process.pid}.mts`);
  writeFileSync(file, code);
  try {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', file], { cwd: packageDir, timeout: 20_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)));
    });
    const addrs = [...output.matchAll(/'(127\.0\.0\.1:\d+)'/g)].map((m) => m[1]);
    assert.is(addrs.length, 6, output);
    assert.is(new Set(addrs).size, 3, 'three backends, each twice');
    assert.match(output.trim(), /false$/);
  } finally {
    rmSync(file, { force: true });
  }
});

readme.run();
