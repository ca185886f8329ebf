// crypt(3) of the system's libcrypt, for the {CRYPT} schemes we do not compute ourselves
// (yescrypt "$y$", Debian's default; bcrypt "$2b$"; gost-yescrypt; traditional DES). Node has no
// crypt(3) and the npm bindings to it are unmaintained, so this asks perl, whose crypt() is
// libcrypt's: perl-base is Essential on Debian and present on nearly every Linux system.
// The setting and the password go through a pipe, never the command line (which any local user
// can read in /proc), and the child runs off the event loop, killed when the request gives up.
import { spawn } from 'child_process';

/** Reads "setting NUL password" from standard input; prints crypt()'s result, or nothing. */
const SCRIPT = 'binmode STDIN; local $/; my $in = <STDIN>; my ($s, $p) = split /\\0/, $in, 2; my $r = crypt($p, $s); print defined $r ? $r : "";';
const PERL = 'perl';
const MAX_OUTPUT = 4096;

export class SystemCryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SystemCryptError';
  }
}

/** crypt(key, setting) from the system's libcrypt. Throws SystemCryptError when perl cannot run
 * or libcrypt does not know the scheme (it answers "*0"/"*1" then). */
export function systemCrypt(key: Buffer, setting: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new SystemCryptError('gave up before crypt(3) ran'));
      return;
    }
    const child = spawn(PERL, ['-e', SCRIPT], { stdio: ['pipe', 'pipe', 'ignore'], env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } });
    const chunks: Buffer[] = [];
    let size = 0;
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= MAX_OUTPUT) chunks.push(d);
    });
    child.once('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      reject(new SystemCryptError(`cannot run ${PERL} for crypt(3): ${e.message}`));
    });
    child.once('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      const out = Buffer.concat(chunks).toString('latin1');
      if (signal.aborted) reject(new SystemCryptError('crypt(3) did not finish in time'));
      else if (code !== 0) reject(new SystemCryptError(`${PERL} crypt(3) failed (${sig ?? `exit ${code}`})`));
      else if (out === '' || out.startsWith('*')) reject(new SystemCryptError("the system's crypt(3) does not support this scheme"));
      else resolve(out);
    });
    // An EPIPE when perl is missing is reported through 'error' above.
    child.stdin.on('error', () => undefined);
    child.stdin.end(Buffer.concat([Buffer.from(setting, 'latin1'), Buffer.alloc(1), key]));
  });
}
