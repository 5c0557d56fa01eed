// Compiles test/unit/*.test.ts into out/test/*.test.js for `node --test`.
// `vscode` is marked external on purpose: the code under test must not need
// the real module at run time (tests hand it the stand-in in
// test/unit/vscodeStandIn.ts), so an accidental runtime import fails loudly.
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';

const entryPoints = readdirSync('test/unit')
  .filter((name) => name.endsWith('.test.ts'))
  .map((name) => `test/unit/${name}`);

rmSync('out/test', { recursive: true, force: true });
await esbuild.build({
  entryPoints,
  outdir: 'out/test',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  sourcemap: 'inline',
  logLevel: 'warning',
});
