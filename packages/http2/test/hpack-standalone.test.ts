// `@sluice/http2/hpack` must work alone: its modules import nothing outside src/hpack but the
// error class, and no other package.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const src = fileURLToPath(new URL('../src/', import.meta.url));
const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);

const standalone = suite('@sluice/http2/hpack stands alone');
standalone('hpack modules import only each other, ../error.js and node: built-ins', () => {
  const files = readdirSync(join(src, 'hpack')).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 6);
  for (const file of files) {
    for (const specifier of importsOf(join(src, 'hpack', file))) {
      assert.ok(/^\.\/[\w-]+\.js$/.test(specifier) || specifier === '../error.js' || specifier.startsWith('node:'), `${file} imports ${specifier}`);
    }
  }
  assert.equal(importsOf(join(src, 'error.ts')), []);
});
standalone('the package exports ./hpack with types', () => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
  assert.equal(manifest.exports['./hpack'], { types: './dist/hpack/index.d.ts', default: './dist/hpack/index.js' });
  assert.ok(import.meta.resolve('@sluice/http2/hpack').endsWith('/packages/http2/dist/hpack/index.js'));
});

standalone.run();
