// A private MIT Kerberos KDC for tests: its own realm, database, krb5.conf and kdc.conf in a temp
// directory (KRB5_CONFIG / KRB5_KDC_PROFILE point the tools at them, never at /etc), listening
// on one loopback port for UDP and TCP, stopped by its own pid and removed afterwards.
// Debian 12's krb5-kdc (krb5kdc, kdb5_util) and krb5-admin-server (kadmin.local).
import { ChildProcess, execFileSync, spawn } from 'child_process';
import dgram from 'dgram';
import fs from 'fs';
import os from 'os';
import path from 'path';

export const TEST_REALM = 'MAIL.TEST';
/** The mail host's service principal; its key goes into the keytab. */
export const HOST_PRINCIPAL = `host/mail.example.test@${TEST_REALM}`;

export interface KdcPrincipal {
  name: string;
  password: string;
  /** kadmin addprinc options, e.g. ['-expire', '2001-01-01']. */
  options?: string[];
}

export class PrivateKdc {
  private child: ChildProcess | null = null;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly realm: string,
  ) {}

  /** The environment of the KDC tools: this KDC's own files, never the system's. */
  get env(): NodeJS.ProcessEnv {
    return { ...process.env, KRB5_CONFIG: this.krb5Conf, KRB5_KDC_PROFILE: path.join(this.dir, 'kdc.conf') };
  }

  /** A krb5.conf naming this realm and this KDC only (for the clients of the tests). */
  get krb5Conf(): string {
    return path.join(this.dir, 'krb5.conf');
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Creates the database with the given principals and the host principal, writes the host's
   * keytab (keytabFile), and starts the KDC. */
  static async start(opts: { port: number; realm?: string; principals: KdcPrincipal[] }): Promise<PrivateKdc> {
    const realm = opts.realm ?? TEST_REALM;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-kdc-'));
    const kdc = new PrivateKdc(dir, opts.port, realm);
    fs.writeFileSync(kdc.krb5Conf, [
      '[libdefaults]',
      ` default_realm = ${realm}`,
      ' dns_lookup_kdc = false',
      ' dns_lookup_realm = false',
      ' rdns = false',
      '[realms]',
      ` ${realm} = {`,
      `  kdc = ${kdc.address}`,
      ' }',
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(dir, 'kdc.conf'), [
      '[kdcdefaults]',
      ` kdc_listen = ${kdc.address}`,
      ` kdc_tcp_listen = ${kdc.address}`,
      '[realms]',
      ` ${realm} = {`,
      `  database_name = ${path.join(dir, 'principal')}`,
      `  key_stash_file = ${path.join(dir, 'stash')}`,
      `  acl_file = ${path.join(dir, 'kadm5.acl')}`,
      '  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal',
      ' }',
      '[logging]',
      ` kdc = FILE:${path.join(dir, 'kdc.log')}`,
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(dir, 'kadm5.acl'), '');
    // The master key protects nothing outside this temp directory.
    execFileSync('kdb5_util', ['create', '-s', '-r', realm, '-P', 'sandbox-master-key'], { env: kdc.env, stdio: 'ignore' });
    for (const p of opts.principals) kdc.addPrincipal(p);
    kdc.kadmin(`addprinc -randkey ${HOST_PRINCIPAL.replace(TEST_REALM, realm)}`);
    kdc.kadmin(`ktadd -k ${kdc.keytabFile} ${HOST_PRINCIPAL.replace(TEST_REALM, realm)}`);
    fs.chmodSync(kdc.keytabFile, 0o600);
    await kdc.launch();
    return kdc;
  }

  /** The mail host's keytab, as kadmin ktadd wrote it (mode 0600, root's). */
  get keytabFile(): string {
    return path.join(this.dir, 'host.keytab');
  }

  addPrincipal(p: KdcPrincipal): void {
    // -requires_preauth as Active Directory does: the KDC checks the password before it answers.
    this.kadmin(['addprinc', '-requires_preauth', ...(p.options ?? []), '-pw', p.password, p.name]);
  }

  /** One kadmin.local query (it runs only the last -q of a command line). */
  kadmin(query: string | string[]): void {
    const q = Array.isArray(query) ? query.map((a) => (/^[\w@./:-]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`)).join(' ') : query;
    const out = execFileSync('kadmin.local', ['-r', this.realm, '-q', q], { env: this.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (/error|usage/i.test(out)) throw new Error(`kadmin.local ${q.split(' ')[0]}: ${out}`);
  }

  /** Starts krb5kdc in the foreground (-n), so this child is the KDC and its pid is ours. */
  async launch(): Promise<void> {
    const log = fs.openSync(path.join(this.dir, 'krb5kdc.out'), 'a');
    this.child = spawn('krb5kdc', ['-n', '-r', this.realm], { env: this.env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const until = Date.now() + 20000;
    while (!(await this.answers())) {
      if (this.child.exitCode !== null || Date.now() > until) throw new Error(`krb5kdc did not start:\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Whether the KDC answers a UDP datagram (any KRB-ERROR reply will do). */
  private answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = dgram.createSocket('udp4');
      const done = (ok: boolean): void => { clearTimeout(timer); s.close(); resolve(ok); };
      const timer = setTimeout(() => done(false), 200);
      s.on('message', () => done(true));
      s.on('error', () => done(false));
      // Not a Kerberos message: the KDC answers garbage with KRB_AP_ERR_MSG_TYPE.
      s.send(Buffer.from([0x6a, 0x03, 0x02, 0x01, 0x00]), this.port, '127.0.0.1');
    });
  }

  log(): string {
    return ['kdc.log', 'krb5kdc.out'].map((f) => {
      try {
        return fs.readFileSync(path.join(this.dir, f), 'utf8');
      } catch {
        return '';
      }
    }).join('\n');
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Stops the KDC, keeping its database for launch(). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
  }

  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
