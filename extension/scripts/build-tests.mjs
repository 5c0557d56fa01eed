// Compiles test/unit/*.test.ts into out/test/*.test.js for `node --test`,
// and test/harness.ts into out/harness.mjs (the extension's pipe client and
// model calls for plain-Node integration tests; see test/harness.ts).
// `vscode` is marked external on purpose: the code under test must not need
// the real module at run time (tests hand it the stand-in in
// test/vscodeStandIn.ts), so an accidental runtime import fails loudly.
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: ['vscode'],
  sourcemap: 'inline',
  logLevel: 'warning',
};

const only = process.argv[2];

if (only !== '--harness') {
  const entryPoints = readdirSync('test/unit')
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => `test/unit/${name}`);
  rmSync('out/test', { recursive: true, force: true });
  await esbuild.build({ ...common, entryPoints, outdir: 'out/test', format: 'cjs' });
}

await esbuild.build({ ...common, entryPoints: ['test/harness.ts'], outfile: 'out/harness.mjs', format: 'esm' });
