/** shellRun: runs copied shell text in a real shell, for the copy commands' unit tests. */
import { execFileSync } from 'node:child_process';

/** Runs the shell text in `shell` and returns the variables as the shell sees them. */
export function runShell(shell: string, text: string, names: string[]): Record<string, string> {
  const script = `${text}\nprintf '%s\\0' ${names.map((name) => `"$${name}"`).join(' ')}\n`;
  // stdin not a socket: Debian's bash would read ~/.bashrc as if started by sshd.
  const out = execFileSync(shell, ['-c', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const values = out.split('\0').slice(0, -1);
  return Object.fromEntries(names.map((name, i) => [name, values[i] ?? '(missing)']));
}
