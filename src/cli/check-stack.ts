// The PAM configuration `pam-mapi check` runs, in a private directory: the one-off stanza, or a
// copy of the service files with each pam_mapi line pointed at a ReasonRelay (and given `debug`,
// so the worker's answer carries its decision line). Nothing under /etc is written.
import fs from 'fs';
import path from 'path';
import { DEFAULT_SOCKET } from '../config/load';
import { isPamMapi } from '../system/pamd';

/** A libpam config directory with no `other` makes libpam log "no default config other" at
 * authpriv.err on every pam_start; an empty one runs the same (no modules) without the noise. */
const EMPTY_OTHER = '# no fallback stack: written by pam-mapi check\n';

export function writeOneOffStack(dir: string, service: string, module: string, args: string[]): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const line = (type: string): string => `${type} required ${module} ${args.join(' ')}`.trim();
  fs.writeFileSync(path.join(dir, service), `${line('auth')}\n${line('account')}\n`);
  fs.writeFileSync(path.join(dir, 'other'), EMPTY_OTHER);
}

/** The relay socket for a line's worker socket, given the line's arguments. */
export type RelayFor = (target: string, args: readonly string[]) => string;

/** The worker socket a pam_mapi line's arguments name, as the shim reads it (the last
 * non-empty worker=, else the default). */
export function workerOf(args: readonly string[]): string {
  return args.filter((a) => a.startsWith('worker=') && a.length > 'worker='.length).map((a) => a.slice('worker='.length)).pop() ?? DEFAULT_SOCKET;
}

/** One line with its pam_mapi arguments rewritten, or the line as it was. */
function rewriteLine(line: string, relayFor: RelayFor): string {
  const hash = line.indexOf('#');
  const body = hash < 0 ? line : line.slice(0, hash);
  const words = body.match(/\[[^\]]*\]|\S+/g) ?? [];
  if (words.length < 3 || (words[0] ?? '').startsWith('@') || !isPamMapi(words[2] ?? '')) return line;
  const args = words.slice(3);
  const kept = args.filter((a) => !a.startsWith('worker='));
  return [...words.slice(0, 3), ...kept, ...(kept.includes('debug') ? [] : ['debug']), `worker=${relayFor(workerOf(args), args)}`].join(' ');
}

/** Copies the service files of `from` into `to`, each pam_mapi line pointed at relayFor(its worker). */
export function copyStack(from: string, to: string, relayFor: RelayFor): void {
  fs.mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const name of fs.readdirSync(from)) {
    const src = path.join(from, name);
    let text: string;
    try {
      if (!fs.statSync(src).isFile()) continue;
      text = fs.readFileSync(src, 'utf8');
    } catch {
      continue; // libpam could not read it either
    }
    // Backslash-newline continues a line, as libpam reads it.
    const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => rewriteLine(l, relayFor));
    fs.writeFileSync(path.join(to, name), lines.join('\n'));
  }
  if (!fs.existsSync(path.join(to, 'other'))) fs.writeFileSync(path.join(to, 'other'), EMPTY_OTHER);
}
