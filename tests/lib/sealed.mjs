// sealed.mjs: what every sealed run of a real client CLI (Claude Code,
// Codex, Gemini CLI) starts from: nothing inherited but PATH (which a
// launcher's `#!/usr/bin/env node` needs) and the locale, HOME and the XDG
// directories in the run's own temp directory, and no way out but loopback.

import path from 'node:path';

/** A port nothing listens on (9, discard: closed on this machine) for the proxies. */
export const DEAD_PROXY = 'http://127.0.0.1:9';

/**
 * The environment a sealed run in `home` starts from; a client's own
 * variables go on top. Stray egress fails locally and at once: every proxy
 * is a closed port, and only loopback (the gateway) goes direct.
 */
export function sealedBaseEnv(home) {
  return {
    PATH: process.env.PATH,
    LANG: process.env.LANG || 'C.UTF-8',
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    TMPDIR: process.env.TMPDIR || '/tmp',
    HTTP_PROXY: DEAD_PROXY,
    HTTPS_PROXY: DEAD_PROXY,
    http_proxy: DEAD_PROXY,
    https_proxy: DEAD_PROXY,
    ALL_PROXY: DEAD_PROXY,
    all_proxy: DEAD_PROXY,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
}
