// The real mail stack of a test, private: a PAM service directory the daemons read through
// pam_wrapper, saslauthd -a pam, Postfix with SMTP AUTH through it, and Dovecot IMAP; and a
// swaks run against that Postfix.
import { execFile } from 'child_process';
import fs from 'fs';
import path from 'path';
import { promisify } from 'util';
import { freePort } from '../../../src/sandbox/ports';
import { recordSecret } from '../../../src/sandbox/secret-audit';
import { removeStalePamWrapperDirs } from './daemon';
import { PrivateDovecot } from './dovecot';
import { PrivatePostfix } from './postfix';
import { Saslauthd } from './saslauthd';

const run = promisify(execFile);

/** DIR/svc with the given service files and an `other` that denies, as libpam falls back to. */
export function pamServiceDir(dir: string, services: Record<string, string>): string {
  const svc = path.join(dir, 'svc');
  fs.mkdirSync(svc);
  fs.writeFileSync(path.join(svc, 'other'), 'auth required pam_deny.so\naccount required pam_deny.so\n');
  for (const [name, text] of Object.entries(services)) fs.writeFileSync(path.join(svc, name), text);
  return svc;
}

export class MailStack {
  private constructor(readonly saslauthd: Saslauthd, readonly postfix: PrivatePostfix, readonly dovecot: PrivateDovecot) {}

  static async start(dir: string, svc: string): Promise<MailStack> {
    const saslauthd = await Saslauthd.start(dir, svc);
    const postfix = await PrivatePostfix.start(path.join(dir, 'postfix'), await freePort(), saslauthd.mux);
    const dovecot = await PrivateDovecot.start(path.join(dir, 'dovecot'), await freePort(), svc);
    return new MailStack(saslauthd, postfix, dovecot);
  }

  /** SMTP AUTH (and, unless told to quit after it, a message) through Postfix; swaks's output. */
  async swaks(user: string, password: string, extra: string[] = [], auth: 'PLAIN' | 'LOGIN' = 'PLAIN'): Promise<string> {
    recordSecret(password);
    const args = ['--server', `127.0.0.1:${this.postfix.port}`, '--auth', auth, '--auth-user', user, '--auth-password', password,
      '--from', `${user}@example.org`, '--to', 'someone@example.net', '--timeout', '30', ...extra];
    try {
      return (await run('swaks', args)).stdout;
    } catch (e) {
      return (e as { stdout?: string }).stdout ?? String(e);
    }
  }

  async stop(): Promise<void> {
    await this.dovecot.stop();
    await this.postfix.stop();
    await this.saslauthd.stop();
    removeStalePamWrapperDirs();
  }
}
