// codeServer.mjs: a private code-server (VS Code 1.139 served to a browser,
// with a real extension host per window) for the e2e: its own user data,
// extensions, config file, HOME and XDG directories and TMPDIR, all inside
// the run's temp directory, bound to a loopback port, without auth, with
// workspace trust off (the extension is disabled in Restricted Mode).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { descendants as descendantsList, endAll, endTree, isAlive, run, sessionMembers, tail } from './processes.mjs';

export const PROVIDER_ID = 'vscode-litellm-tests.test-provider';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Directories and environment of one code-server inside `tmp`:
 * { userData, extensions, config, workspace, home, tmpdir, logFile, env }.
 */
export function codeServerLayout(tmp, { nodeBin, extraEnv = {} }) {
  const layout = {
    userData: path.join(tmp, 'user-data'),
    extensions: path.join(tmp, 'extensions'),
    config: path.join(tmp, 'code-server.yaml'),
    workspace: path.join(tmp, 'workspace'),
    home: path.join(tmp, 'home'),
    tmpdir: path.join(tmp, 'tmp'),
    logFile: path.join(tmp, 'code-server.log'),
  };
  for (const dir of [layout.userData, layout.extensions, layout.workspace, layout.home, layout.tmpdir]) {
    fs.mkdirSync(dir, { recursive: true });
  }
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    // Not when run from a VS Code terminal: those would reach the server.
    if (!name.startsWith('VSCODE_') && name !== 'ELECTRON_RUN_AS_NODE') env[name] = value;
  }
  let searchPath = `${nodeBin}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  for (const dir of ['/usr/sbin', '/sbin']) {
    if (!searchPath.split(':').includes(dir)) searchPath += `:${dir}`; // nginx, for litellmctl
  }
  Object.assign(env, {
    PATH: searchPath,
    HOME: layout.home,
    XDG_CONFIG_HOME: path.join(layout.home, '.config'),
    XDG_DATA_HOME: path.join(layout.home, '.local', 'share'),
    XDG_STATE_HOME: path.join(layout.home, '.local', 'state'),
    XDG_CACHE_HOME: path.join(layout.home, '.cache'),
    TMPDIR: layout.tmpdir,
    ...extraEnv,
  });
  layout.env = env;
  return layout;
}

/**
 * The settings files of the private user-data directory: `user` into
 * User/settings.json, `machine` into Machine/settings.json. A code-server
 * window is a remote window: settings of scope "machine" (the extension's
 * paths and prefix) are ignored in User settings there and read from the
 * remote machine's settings only.
 */
export function writeSettings(layout, { user = {}, machine = {} }) {
  const write = (dir, settings) => {
    fs.mkdirSync(path.join(layout.userData, dir), { recursive: true });
    fs.writeFileSync(path.join(layout.userData, dir, 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
  };
  const userSettings = {
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'git.enabled': false,
    'git.openRepositoryInParentFolders': 'never',
    'remote.autoForwardPorts': false,
    ...user,
  };
  write('User', userSettings);
  write('Machine', machine);
}

function cliArgs(layout) {
  return ['--config', layout.config, '--user-data-dir', layout.userData, '--extensions-dir', layout.extensions];
}

/**
 * Installs the packaged .vsix with code-server's CLI, and the test provider
 * (an unpacked folder) with the files it requires from elsewhere in the tree
 * (`withFiles`: the shared reply-script parser) copied beside its extension.js.
 */
export async function installExtensions(codeServer, layout, { vsix, providerDir, withFiles = [] }) {
  fs.writeFileSync(layout.config, 'auth: none\ncert: false\n');
  // An unpacked folder is found only when it is there before the first
  // install writes extensions.json.
  const manifest = JSON.parse(fs.readFileSync(path.join(providerDir, 'package.json'), 'utf8'));
  const target = path.join(layout.extensions, `${manifest.publisher}.${manifest.name}-${manifest.version}`);
  fs.cpSync(providerDir, target, { recursive: true });
  for (const file of withFiles) fs.copyFileSync(file, path.join(target, path.basename(file)));
  await run(codeServer, [...cliArgs(layout), '--install-extension', vsix, '--force'], {
    env: layout.env, logFile: layout.logFile, timeoutMs: 120_000,
  });
  const listed = await run(codeServer, [...cliArgs(layout), '--list-extensions', '--show-versions'], {
    env: layout.env, logFile: layout.logFile, timeoutMs: 120_000,
  });
  return listed.stdout.trim().split('\n').filter((line) => /^[\w.-]+@/.test(line));
}

function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.setTimeout(2000, () => req.destroy(new Error('timeout')));
  });
}

/**
 * Starts code-server on 127.0.0.1:`port` with the workspace folder; resolves
 * once /healthz answers. Returns { pid, url, stop }.
 */
export async function startCodeServer(codeServer, layout, port) {
  const log = fs.openSync(layout.logFile, 'a');
  const child = spawn(codeServer, [
    ...cliArgs(layout),
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-workspace-trust',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    layout.workspace,
  ], { env: layout.env, stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  let exited = null;
  child.on('exit', (code, signal) => { exited = signal ?? `exit ${code}`; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) {
      throw new Error(`code-server ended (${exited}) before answering:\n${tail(fs.readFileSync(layout.logFile, 'utf8'))}`);
    }
    if (await get(`${url}/healthz`).catch(() => 0) === 200) break;
    if (Date.now() > deadline) {
      await endTree(child.pid);
      throw new Error(`code-server did not answer on ${url} within 60 s:\n${tail(fs.readFileSync(layout.logFile, 'utf8'))}`);
    }
    await sleep(100);
  }
  return {
    pid: child.pid,
    url,
    /** The workbench URL of the workspace folder. */
    workspaceUrl: `${url}/?folder=${encodeURIComponent(layout.workspace)}`,
    stop: () => stopCodeServer(child.pid),
  };
}

/**
 * Ends code-server and everything it started, then waits until all of it is
 * gone. It runs in a session (and process group) of its own (`detached`), so
 * a helper it re-parents when its parent exits (the `bootstrap-fork
 * --type=agentHost` child was found alive after a tree walk had ended
 * everything it saw) is still a member: every member is ended, round after
 * round, until none is left. nginx and litellm-fcgi are not members
 * (litellmctl starts them with setsid): `litellmctl shutdown` ends them.
 */
async function stopCodeServer(pid) {
  const find = () => [
    ...(isAlive(pid) ? [{ pid }] : []), ...descendantsOf(pid), ...sessionMembers(pid),
  ];
  return endAll(find, `code-server (session ${pid})`);
}

/** The live descendants of `pid` (the tree, for helpers that made a session of their own). */
function descendantsOf(pid) {
  return isAlive(pid) ? descendantsList(pid) : [];
}

/** Every file of the "VSCode LiteLLM" log channel under the user-data logs (one per window). */
export function extensionLogFiles(layout) {
  const found = [];
  const walk = (dir) => {
    let entries;
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.log') && entry.name.includes('VSCode LiteLLM')) found.push(full);
    }
  };
  walk(path.join(layout.userData, 'logs'));
  return found.sort();
}

/** All log files under the user-data logs directory (for a failure report). */
export function allLogFiles(layout) {
  const found = [];
  const walk = (dir) => {
    let entries;
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.log')) found.push(full);
    }
  };
  walk(path.join(layout.userData, 'logs'));
  return found.sort();
}
