// providerEvents.mjs: the test side of the test provider's file channel
// (test-provider/extension.js): events it appends to DIR/events.jsonl, and
// gates it waits on until DIR/release-NAME exists.

import fs from 'node:fs';
import path from 'node:path';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class ProviderEvents {
  constructor(dir) {
    this.dir = dir;
    this.file = path.join(dir, 'events.jsonl');
    fs.mkdirSync(dir, { recursive: true });
  }

  /** Every event so far. */
  all() {
    let text = '';
    try { text = fs.readFileSync(this.file, 'utf8'); } catch { return []; }
    return text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
  }

  /** Events matching `fields` (each given field equal). */
  find(fields) {
    return this.all().filter((event) => Object.entries(fields).every(([key, value]) => event[key] === value));
  }

  /** Waits for the first event matching `fields`; fails after `ms`. */
  async wait(fields, ms = 15_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const [found] = this.find(fields);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`the test provider recorded no event ${JSON.stringify(fields)} within ${ms / 1000} s; ` +
          `its last events: ${this.all().slice(-5).map((e) => JSON.stringify(e)).join(' ')}`);
      }
      await sleep(25);
    }
  }

  /** Opens the gate `name` ([[gate:name]]). */
  release(name) {
    fs.writeFileSync(path.join(this.dir, `release-${name}`), '');
  }

  /** Families the provider offers besides its two (it polls the file). */
  setExtraModels(families) {
    fs.writeFileSync(path.join(this.dir, 'extra-models'), families.map((family) => `${family}\n`).join(''));
  }

  /** The last lines of the event file, for a failure report. */
  tail(lines = 30) {
    return this.all().slice(-lines).map((event) => JSON.stringify(event)).join('\n');
  }
}
