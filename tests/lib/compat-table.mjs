// compat-table.mjs: the rows of a compatibility table
// (tests/spec/*COMPATIBILITY.md): "| `field` | status | what happens |".

import fs from 'node:fs';

/** The table's rows in `file` (a path or file URL): field → {status, text, line}. */
export function compatibilityRows(file) {
  const rows = new Map();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const match = /^\| `([a-z_]+)` \| ([a-z ]+) \| (.+) \|$/.exec(line);
    if (match) rows.set(match[1], { status: match[2], text: match[3], line });
  }
  return rows;
}
