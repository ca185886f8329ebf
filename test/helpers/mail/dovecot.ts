// A private Dovecot IMAP server on a loopback port, authenticating through PAM (pam_wrapper
// redirects it to a private service directory). Its login-failure penalty and failure delay
// are off so failure tests stay fast; PAM's own fail delay still applies.
import fs from 'fs';
import net from 'net';
import path from 'path';
import { Daemon, pamWrapperEnv, waitFor } from './daemon';
import { recordSecret } from '../../../src/sandbox/secret-audit';

export class PrivateDovecot {
  private constructor(readonly dir: string, readonly port: number, private readonly daemon: Daemon) {}

  /** extraConf: more dovecot.conf settings (later lines win), e.g. `auth_username_chars =`. */
  static async start(dir: string, port: number, pamServiceDir: string, pamService = 'imap', extraConf = ''): Promise<PrivateDovecot> {
    for (const d of ['run', 'state', 'home']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    fs.chmodSync(path.join(dir, 'home'), 0o1777);
    for (let d = dir; d !== '/' && d !== '/tmp'; d = path.dirname(d)) fs.chmodSync(d, 0o755);
    const conf = path.join(dir, 'dovecot.conf');
    fs.writeFileSync(conf, `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
mail_location = maildir:~/Maildir
default_login_user = dovenull
default_internal_user = dovecot
# Dovecot strips the environment of its children unless told to keep it.
import_environment = TZ LD_PRELOAD PAM_WRAPPER PAM_WRAPPER_SERVICE_DIR PAM_WRAPPER_USE_SYSLOG
passdb {
  driver = pam
  args = ${pamService}
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=${dir}/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
${extraConf}
`);
    const daemon = Daemon.start('dovecot', 'dovecot', ['-F', '-c', conf], pamWrapperEnv(pamServiceDir));
    const d = new PrivateDovecot(dir, port, daemon);
    await waitFor('dovecot', () => /starting up for imap/.test(d.log()));
    return d;
  }

  log(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'dovecot.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    await this.daemon.stop();
  }
}

/** An IMAP LOGIN; returns the tagged answer line ("a1 OK ..." or "a1 NO ..."). `from`: the
 * loopback address to connect from, which Dovecot passes as PAM_RHOST. */
export function imapLogin(port: number, user: string, password: string, from?: string): Promise<string> {
  recordSecret(password);
  const quote = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress: from });
    let buf = '';
    let sent = false;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`IMAP: no answer; got ${JSON.stringify(buf)}`)); }, 30000);
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      if (!sent && buf.includes('* OK')) {
        sent = true;
        sock.write(`a1 LOGIN ${quote(user)} ${quote(password)}\r\n`);
      }
      const line = buf.split('\r\n').find((l) => l.startsWith('a1 '));
      if (line !== undefined) {
        clearTimeout(timer);
        sock.end('a2 LOGOUT\r\n');
        resolve(line);
      }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}
