// paths.mjs: where the binaries under test are (from the environment that
// `make check` sets, or the build tree), and the extension's harness bundle.
//
//   LITELLMCTL         built litellmctl script
//   LITELLM_FCGI       built responder binary (or a wrapper that runs it)
//   LITELLM_STATUS     built litellm-status (default: beside LITELLM_FCGI)
//   LITELLM_TEMPLATES  nginx templates directory
//   TEST_WORKER        tests/worker/test-worker.mjs
//   LITELLM_EXTENSION_HARNESS  extension/out/harness.mjs (npm run build:harness): the
//                      extension's code that the test worker and extension.test.mjs run

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');

export function resolvePath(envName, fallbacks) {
  const fromEnv = process.env[envName];
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new Error(`${envName}=${fromEnv} does not exist`);
    return path.resolve(fromEnv);
  }
  for (const candidate of fallbacks) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${envName} is not set and none of ${fallbacks.join(', ')} exists; build the project ` +
    'and run the suite through `make check` (or set the variable)');
}

/** Paths of the binaries under test. */
export function stackPaths() {
  return {
    litellmctl: resolvePath('LITELLMCTL', [path.join(repoRoot, 'build', 'litellmctl'), path.join(repoRoot, 'contrib', 'litellmctl')]),
    fcgi: resolvePath('LITELLM_FCGI', [path.join(repoRoot, 'build', 'fcgi-app', 'litellm-fcgi'), path.join(repoRoot, 'fcgi-app', 'litellm-fcgi')]),
    status: resolvePath('LITELLM_STATUS', [path.join(repoRoot, 'build', 'fcgi-app', 'litellm-status'), path.join(repoRoot, 'fcgi-app', 'litellm-status')]),
    templates: resolvePath('LITELLM_TEMPLATES', [path.join(repoRoot, 'nginx')]),
    worker: resolvePath('TEST_WORKER', [path.join(repoRoot, 'tests', 'worker', 'test-worker.mjs')]),
  };
}

/**
 * The extension's harness bundle (extension/out/harness.mjs, built by
 * `npm run build:harness` in extension/; run.sh builds it and passes its path
 * as LITELLM_EXTENSION_HARNESS): the extension's real pipe client and model
 * calls, plus ScriptedModel and the `vscode` stand-in classes.
 */
export function extensionHarnessPath() {
  const fromEnv = process.env.LITELLM_EXTENSION_HARNESS;
  const candidates = fromEnv ? [path.resolve(fromEnv)] : [
    ...(process.env.top_srcdir ? [path.join(path.resolve(process.env.top_srcdir), 'extension', 'out', 'harness.mjs')] : []),
    path.join(repoRoot, 'extension', 'out', 'harness.mjs'),
  ];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) {
    throw new Error(`the extension harness is missing (looked for ${candidates.join(', ')}); build it with ` +
      '`npm ci && npm run build:harness` in extension/, or run the suite through tests/integration/run.sh ' +
      '(`make check`), which does');
  }
  return found;
}

/** Imports the extension's harness bundle (see extensionHarnessPath). */
export function loadExtensionHarness() {
  return import(pathToFileURL(extensionHarnessPath()).href);
}

// The source tree (top_srcdir): under distcheck the tests run from a copy
// beside the build, so repoRoot (where this file is) holds the tests alone.
export const srcRoot = process.env.top_srcdir ? path.resolve(process.env.top_srcdir) : repoRoot;
export const repoReadme = path.join(srcRoot, 'README.md');
