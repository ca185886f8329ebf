// Runs one of the bench's load tools (pam_load, pam-threads) and gives its summary line: the
// line of its standard output that starts with `prefix`. Exit 1 means some answers were wrong,
// which the line carries; no line, or any other end, is a failed run.
import { spawn } from 'child_process';

export function summaryLine(name: string, argv: string[], prefix: string): Promise<string> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString('utf8'); });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith(prefix));
      if (line === undefined || (code !== 0 && code !== 1)) {
        reject(new Error(`${name} ended with ${signal ?? code}: ${err.trim() || out.trim()}`));
        return;
      }
      resolve(line);
    });
  });
}
