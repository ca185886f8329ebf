// A private Postfix: its own config directory, queue and data directories under a temp dir,
// smtpd on a loopback port with SMTP AUTH through a given saslauthd, nothing ever delivered
// (the smtp transport is deferred, so accepted mail stays in the queue to be counted).
import { execFile, execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { promisify } from 'util';
import { Daemon, waitFor } from './daemon';

const run = promisify(execFile);
const DAEMONS = ['pickup unix n - n 60 1 pickup', 'cleanup unix n - n - 0 cleanup', 'qmgr unix n - n 300 1 qmgr',
  'rewrite unix - - n - - trivial-rewrite', 'bounce unix - - n - 0 bounce', 'defer unix - - n - 0 bounce',
  'trace unix - - n - 0 bounce', 'verify unix - - n - 1 verify', 'flush unix n - n 1000? 0 flush',
  'proxymap unix - - n - - proxymap', 'smtp unix - - n - - smtp', 'relay unix - - n - - smtp', 'showq unix n - n - - showq',
  'error unix - - n - - error', 'retry unix - - n - - error', 'discard unix - - n - - discard', 'anvil unix - - n - 1 anvil',
  'scache unix - - n - 1 scache', 'postlog unix-dgram n - n - 1 postlogd'];

export class PrivatePostfix {
  private constructor(readonly dir: string, readonly port: number, private readonly daemon: Daemon) {}

  static async start(dir: string, port: number, saslauthdMux: string): Promise<PrivatePostfix> {
    fs.mkdirSync(path.join(dir, 'sasl'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'spool'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    execFileSync('chown', ['postfix', path.join(dir, 'data')]);
    // Postfix's daemons drop to the postfix user and must reach their directories.
    for (let d = dir; d !== '/' && d !== '/tmp'; d = path.dirname(d)) fs.chmodSync(d, 0o755);
    fs.writeFileSync(path.join(dir, 'main.cf'), [
      'compatibility_level = 3.7', `queue_directory = ${dir}/spool`, `data_directory = ${dir}/data`,
      'mail_owner = postfix', 'setgid_group = postdrop', 'myhostname = mail.example.org', 'mydestination =',
      'inet_interfaces = loopback-only', 'inet_protocols = ipv4', 'mynetworks = 127.0.0.2/32',
      'smtpd_sasl_auth_enable = yes', 'smtpd_sasl_type = cyrus', 'smtpd_sasl_path = smtpd',
      'smtpd_relay_restrictions = permit_sasl_authenticated, reject', 'smtpd_tls_security_level = none',
      'alias_maps =', 'alias_database =', 'default_transport = smtp', 'defer_transports = smtp',
      `maillog_file = ${dir}/maillog`, `maillog_file_prefixes = ${dir}`, '',
    ].join('\n'));
    // chroot off: a chrooted smtpd cannot reach saslauthd's socket.
    fs.writeFileSync(path.join(dir, 'master.cf'), [`127.0.0.1:${port} inet n - n - - smtpd`, ...DAEMONS, ''].join('\n'));
    // Debian's smtpd reads <config_directory>/sasl/smtpd.conf.
    fs.writeFileSync(path.join(dir, 'sasl/smtpd.conf'), `pwcheck_method: saslauthd\nmech_list: PLAIN LOGIN\nsaslauthd_path: ${saslauthdMux}\n`);
    execFileSync('postfix', ['-c', dir, 'set-permissions', 'create-missing'], { stdio: 'ignore' });
    const daemon = Daemon.start('postfix', 'postfix', ['-c', dir, 'start-fg']);
    const pf = new PrivatePostfix(dir, port, daemon);
    await waitFor('postfix', () => fs.existsSync(path.join(dir, 'spool/pid/master.pid')) && /starting the Postfix mail system/.test(pf.log()));
    return pf;
  }

  log(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'maillog'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Messages in the queue (postqueue -p's last line). */
  async queued(): Promise<number> {
    const { stdout } = await run('postqueue', ['-c', this.dir, '-p']);
    const m = /in (\d+) Requests?\./.exec(stdout);
    return m === null ? 0 : Number(m[1]);
  }

  async stop(): Promise<void> {
    await run('postfix', ['-c', this.dir, 'stop']).catch(() => undefined);
    await this.daemon.stop();
  }
}
