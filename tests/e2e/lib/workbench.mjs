// workbench.mjs: driving one VS Code window (a code-server page in headless
// chromium) as a user would: keyboard chords, quick picks, the command
// palette, the status bar, screenshots.

import path from 'node:path';

/** The DOM id VS Code gives our status bar item: `${extensionId}.${itemId}`. */
const STATUS_ITEM = '[id="vscode-litellm.vscode-litellm.vscode-litellm.status"]';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Workbench {
  /**
   * @param page    a playwright Page
   * @param name    'window1', 'window2': prefixes screenshot names
   * @param output  directory for screenshots
   */
  constructor(page, name, output) {
    this.page = page;
    this.name = name;
    this.output = output;
    this.screenshots = [];
  }

  /** Opens `url` and waits until the workbench shows our status bar item. */
  async open(url) {
    await this.page.goto(url);
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await this.statusItem().waitFor({ timeout: 60_000 });
  }

  statusItem() {
    return this.page.locator(STATUS_ITEM);
  }

  /** The item's text without its icon, e.g. "LiteLLM" or ":4000 · Test GPT-4o · 0 active". */
  async statusText() {
    const text = await this.statusItem().locator('.statusbar-item-label').textContent({ timeout: 5_000 });
    return (text ?? '').replace(/\s+/g, ' ').trim();
  }

  /** The item's accessible label: text with icon names, then the tooltip. */
  async statusLabel() {
    return (await this.statusItem().getAttribute('aria-label', { timeout: 5_000 })) ?? '';
  }

  /** Waits until the status text satisfies `test` (a RegExp or a function). */
  async waitForStatus(test, what, ms = 30_000) {
    const matches = typeof test === 'function' ? test : (text) => test.test(text);
    const deadline = Date.now() + ms;
    let last = '';
    for (;;) {
      last = await this.statusText().catch((err) => `(${err.message.split('\n')[0]})`);
      if (matches(last)) return last;
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: status bar did not show ${what} within ${ms / 1000} s; it shows "${last}"`);
      }
      await sleep(100);
    }
  }

  /** Focuses this window's workbench (not a text box), as a click on the editor area would. */
  async focus() {
    await this.page.bringToFront();
    await this.page.keyboard.press('Escape');
    const editor = this.page.locator('.part.editor');
    await editor.click({ position: { x: 40, y: 40 }, timeout: 5_000 }).catch(() => undefined);
  }

  /** Presses Ctrl+Shift+L, releases, then `key` (a chord). */
  async chord(key) {
    await this.focus();
    await this.page.keyboard.press('Control+Shift+KeyL');
    await this.page.keyboard.press(key);
  }

  quickInput() {
    return this.page.locator('.quick-input-widget');
  }

  /** The rows of the open quick pick whose label contains `text`. */
  quickPickRow(text) {
    return this.quickInput().locator('.monaco-list-row', { hasText: text });
  }

  /** Runs a command from the command palette by its title. */
  async runCommand(title) {
    await this.focus();
    await this.page.keyboard.press('F1');
    const input = this.quickInput().locator('input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill(`>${title}`);
    const row = this.quickPickRow(title).first();
    await row.waitFor({ timeout: 10_000 });
    await row.click();
    await this.quickInput().waitFor({ state: 'hidden', timeout: 10_000 });
  }

  /** The text of the notifications shown right now. */
  async notifications() {
    return this.page.locator('.notification-toast .notification-list-item-message').allTextContents();
  }

  /** A screenshot of the page, or of `locator`; returns its path. */
  async screenshot(name, locator) {
    const file = path.join(this.output, `${this.name}-${name}.png`);
    if (locator) {
      await locator.screenshot({ path: file, timeout: 10_000 });
    } else {
      await this.page.screenshot({ path: file, timeout: 10_000 });
    }
    this.screenshots.push(file);
    return file;
  }

  /**
   * Hovers our item until its tooltip (matching `text`) shows, and takes the
   * corner of the window holding both; returns its path.
   */
  async hoverScreenshot(name, text) {
    await this.statusItem().hover();
    const hover = this.page.locator('.monaco-hover, .workbench-hover', { hasText: text }).first();
    await hover.waitFor({ timeout: 10_000 });
    const a = await hover.boundingBox();
    const b = await this.statusItem().boundingBox();
    const size = this.page.viewportSize();
    const pad = 16;
    const x = Math.max(0, Math.min(a.x, b.x) - pad);
    const y = Math.max(0, Math.min(a.y, b.y) - pad);
    const right = Math.min(size.width, Math.max(a.x + a.width, b.x + b.width) + pad);
    const file = path.join(this.output, `${this.name}-${name}.png`);
    await this.page.screenshot({ path: file, clip: { x, y, width: right - x, height: size.height - y } });
    this.screenshots.push(file);
    await this.page.mouse.move(size.width / 2, size.height / 2);
    return file;
  }

  /** Screenshots of the status bar: the whole bar, and the corner around our item. */
  async statusScreenshots(state) {
    const bar = this.page.locator('.part.statusbar');
    const files = [await this.screenshot(`status-${state}`, bar)];
    const box = await this.statusItem().boundingBox();
    const size = this.page.viewportSize();
    if (box && size) {
      const width = Math.min(size.width, 560);
      const height = 120;
      const x = Math.max(0, Math.min(size.width - width, box.x + box.width / 2 - width / 2));
      const file = path.join(this.output, `${this.name}-status-${state}-corner.png`);
      await this.page.screenshot({ path: file, clip: { x, y: size.height - height, width, height } });
      this.screenshots.push(file);
      files.push(file);
    }
    return files;
  }
}
