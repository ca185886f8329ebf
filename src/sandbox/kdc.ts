// A private MIT Kerberos KDC for tests: its own realm, database, krb5.conf and kdc.conf in a temp
// directory (KRB5_CONFIG / KRB5_KDC_PROFILE point the tools at them, never at /etc), listening
// on one loopback port for UDP and TCP, stopped by its own pid and removed afterwards.
// Debian 12's krb5-kdc (krb5kdc, kdb5_util) and krb5-admin-server (kadmin.local).
import { execFileSync, spawn, spawnSync } from 'child_process';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';
import { ChildServer, listensOn } from './child-server';

export const TEST_REALM = 'MAIL.TEST';
/** Debian's libfaketime (multi-threaded variant): a KDC whose clock is off. */
const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';
/** The mail host's service principal; its key goes into the keytab. */
export const HOST_PRINCIPAL = `host/mail.example.test@${TEST_REALM}`;

export interface KdcPrincipal {
  name: string;
  password: string;
  /** kadmin addprinc options, e.g. ['-expire', '2001-01-01']. */
  options?: string[];
  /** false: the KDC hands out an AS-REP without pre-authentication (kadmin's -requires_preauth,
   * which CLEARS the flag); every other principal requires it, as Active Directory's do. */
  preauth?: boolean;
}

/** A one-component name in krb5_parse_name's syntax: "\\", "/" and "@" are data. */
export function principalText(name: string): string {
  return name.replace(/[\\/@]/g, (c) => `\\${c}`);
}

export class PrivateKdc extends ChildServer {
  private constructor(
    dir: string,
    readonly port: number,
    readonly realm: string,
    /** The KDC's clock against the host's, as libfaketime's FAKETIME says it ("+1h"). */
    private readonly clockOffset: string | null,
  ) {
    super(dir);
  }

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
  static async start(opts: { port: number; realm?: string; principals: KdcPrincipal[]; copyOf?: PrivateKdc; clockOffset?: string }): Promise<PrivateKdc> {
    const realm = opts.realm ?? TEST_REALM;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-kdc-'));
    const kdc = new PrivateKdc(dir, opts.port, realm, opts.clockOffset ?? null);
    try {
      await kdc.setUp(opts.principals, opts.copyOf);
    } catch (e) {
      // Nothing left behind: no KDC process, no directory.
      await kdc.destroy();
      throw e;
    }
    return kdc;
  }

  private async setUp(principals: KdcPrincipal[], copyOf: PrivateKdc | undefined): Promise<void> {
    const { dir, realm } = this;
    fs.writeFileSync(this.krb5Conf, [
      '[libdefaults]',
      ` default_realm = ${realm}`,
      ' dns_lookup_kdc = false',
      ' dns_lookup_realm = false',
      ' rdns = false',
      '[realms]',
      ` ${realm} = {`,
      `  kdc = ${this.address}`,
      ' }',
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(dir, 'kdc.conf'), [
      '[kdcdefaults]',
      ` kdc_listen = ${this.address}`,
      ` kdc_tcp_listen = ${this.address}`,
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
    if (copyOf !== undefined) {
      // A second KDC of the realm (as a replica is): the same database, so the same host key.
      for (const f of fs.readdirSync(copyOf.dir)) {
        if (f.startsWith('principal') || f === 'stash' || f === 'host.keytab') fs.copyFileSync(path.join(copyOf.dir, f), path.join(dir, f));
      }
    } else {
      // The master key protects nothing outside this temp directory.
      execFileSync('kdb5_util', ['create', '-s', '-r', realm, '-P', 'sandbox-master-key'], { env: this.env, stdio: 'ignore' });
      // Without +requires_preauth: on a service principal MIT's KDC reads the flag as "service
      // tickets only to clients that pre-authenticated", which Active Directory does not do (a
      // test that wants the keytab's own AS exchange pre-authenticated sets it: modprinc).
      this.kadmin(`addprinc -randkey ${HOST_PRINCIPAL.replace(TEST_REALM, realm)}`);
      this.kadmin(`ktadd -k ${this.keytabFile} ${HOST_PRINCIPAL.replace(TEST_REALM, realm)}`);
      fs.chmodSync(this.keytabFile, 0o600);
    }
    for (const p of principals) this.addPrincipal(p);
    await this.launch();
  }

  /** The mail host's keytab, as kadmin ktadd wrote it (mode 0600, root's). */
  get keytabFile(): string {
    return path.join(this.dir, 'host.keytab');
  }

  /** A principal of this realm whose one-component name is p.name, taken as data. */
  addPrincipal(p: KdcPrincipal): void {
    // Pre-authentication required, as Active Directory's accounts do: the KDC answers an AS-REQ
    // without an encrypted timestamp with "preauthentication required" and its own time (which
    // MIT krb5 then adjusts to). "-requires_preauth" CLEARS the flag.
    this.kadmin(['addprinc', p.preauth === false ? '-requires_preauth' : '+requires_preauth', ...(p.options ?? []), '-pw', p.password, principalText(p.name)]);
  }

  /** Sets a principal's password (kadmin cpw). */
  setPassword(name: string, password: string): void {
    this.kadmin(['cpw', '-pw', password, principalText(name)]);
  }

  /** One kadmin.local query (it runs only the last -q of a command line). Its line parser
   * takes "..." as one word, with "" for a quote inside. */
  kadmin(query: string | string[]): void {
    const q = Array.isArray(query) ? query.map((a) => (/^[\w@./:-]+$/.test(a) ? a : `"${a.replace(/"/g, '""')}"`)).join(' ') : query;
    const r = spawnSync('kadmin.local', ['-r', this.realm, '-q', q], { env: this.env, encoding: 'utf8' });
    // It exits 0 after a failed query; what it says on stderr besides these two is the failure.
    const said = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim() !== '' && !/^Authenticating as principal|^No policy specified|^Principal ".*" (created|modified)\.$|^Password for ".*" changed\.$|^Entry for principal .* added to keytab/.test(l));
    if (r.status !== 0 || said.length > 0) throw new Error(`kadmin.local ${q.split(' ')[0]}: ${said.join('; ')}`);
  }

  /** Starts krb5kdc in the foreground (-n), so this child is the KDC and its pid is ours. */
  async launch(): Promise<void> {
    const log = fs.openSync(path.join(this.dir, 'krb5kdc.out'), 'a');
    const env = this.clockOffset === null ? this.env : { ...this.env, LD_PRELOAD: FAKETIME_LIB, FAKETIME: this.clockOffset };
    this.child = spawn('krb5kdc', ['-n', '-r', this.realm], { env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const until = Date.now() + 20000;
    while (!(await this.answers()) || !listensOn(this.child.pid, this.port)) {
      if (this.child.exitCode !== null || Date.now() > until) throw new Error(`krb5kdc did not start:\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Whether the KDC accepts TCP connections (it listens on UDP and TCP at once). */
  private answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const c = net.connect(this.port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
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
}
