// A private OpenLDAP server for tests: its own config, database and TLS certificates in a temp
// directory, listening on loopback ports only, stopped by its own pid and removed afterwards.
// Debian 12's slapd; see shared/spec/test-servers.md for why `allow bind_anon_dn` is set.
import { spawn } from 'child_process';
import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { Client } from 'ldapts';
import { REPO_ROOT } from './sandbox';
import { makeTestPki, TestPki } from './test-ca';
import { ChildServer, listensOn } from './child-server';

export const SUFFIX = 'dc=example,dc=org';
export const ROOT_DN = `cn=admin,${SUFFIX}`;
export const ROOT_PASSWORD = 'root-secret';
/** The account pam_mapi searches with; it may read userPassword (for auth_method = password). */
export const SERVICE_DN = `cn=pam,${SUFFIX}`;
export const SERVICE_PASSWORD = 'service;secret#1';
export const PEOPLE = `ou=people,${SUFFIX}`;
export const GROUPS = `ou=groups,${SUFFIX}`;
const TEST_SCHEMA = path.join(REPO_ROOT, 'src/sandbox/kopano-test.schema');
const SYSTEM_SCHEMAS = ['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `/etc/ldap/schema/${s}.schema`);

export class PrivateSlapd extends ChildServer {
  /** completedOperations() calls so far, whose own operations it leaves out. */
  private readings = 0;

  private constructor(
    dir: string,
    readonly ldapPort: number,
    readonly ldapsPort: number,
    readonly pki: TestPki,
  ) {
    super(dir);
  }

  get ldapUri(): string {
    return `ldap://127.0.0.1:${this.ldapPort}`;
  }

  get ldapsUri(): string {
    return `ldaps://127.0.0.1:${this.ldapsPort}`;
  }

  /** The CA that signed the server's certificate. */
  get caFile(): string {
    return this.pki.caCert;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Writes config, CA and certificate, starts slapd, and adds the suffix, ou=people,
   * ou=groups and the service account. */
  static async start(opts: { ldapPort: number; ldapsPort: number }): Promise<PrivateSlapd> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-slapd-'));
    fs.mkdirSync(path.join(dir, 'data'));
    const pki = makeTestPki(path.join(dir, 'pki'), 'pam_mapi test-ca', 'IP:127.0.0.1');
    const slapd = new PrivateSlapd(dir, opts.ldapPort, opts.ldapsPort, pki);
    fs.writeFileSync(slapd.configFile, [
      ...[...SYSTEM_SCHEMAS, TEST_SCHEMA].map((s) => `include ${s}`),
      `pidfile ${path.join(dir, 'slapd.pid')}`,
      `argsfile ${path.join(dir, 'slapd.args')}`,
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      // Not a syslog line per operation (Debian's default is none too).
      'loglevel none',
      // {SHA256}..{SSHA512} userPassword values, so binds work for every scheme the store reads.
      'moduleload pw-sha2',
      // A bind with a DN and an empty password succeeds as anonymous, as on servers that allow
      // it: so a test of the empty-password refusal proves something.
      'allow bind_anon_dn',
      `TLSCACertificateFile ${pki.caCert}`,
      `TLSCertificateFile ${pki.serverCert}`,
      `TLSCertificateKeyFile ${pki.serverKey}`,
      'database mdb',
      `suffix "${SUFFIX}"`,
      `rootdn "${ROOT_DN}"`,
      `rootpw ${ROOT_PASSWORD}`,
      `directory ${path.join(dir, 'data')}`,
      'maxsize 16777216',
      'index objectClass,uid,sAMAccountName,userPrincipalName eq',
      `access to attrs=userPassword by dn.exact="${SERVICE_DN}" read by anonymous auth by * none`,
      'access to * by * read',
      // slapd's own count of the operations it completed (completedOperations()), for the root DN only.
      'database monitor',
      `access to * by dn.exact="${ROOT_DN}" read by * none`,
      '',
    ].join('\n'));
    await slapd.launch();
    await slapd.add(`dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n`
      + `dn: ${PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n`
      + `dn: ${GROUPS}\nobjectClass: organizationalUnit\nou: groups\n\n`
      + `dn: ${SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: pam\nuserPassword: ${SERVICE_PASSWORD}\n`);
    return slapd;
  }

  get configFile(): string {
    return path.join(this.dir, 'slapd.conf');
  }

  /** Starts slapd on the existing config and database (again, after stop()). */
  async launch(): Promise<void> {
    // The monitor counts from zero again.
    this.readings = 0;
    const log = fs.openSync(path.join(this.dir, 'slapd.log'), 'a');
    // -d keeps slapd in the foreground, so this child is slapd itself and its pid is ours.
    this.child = spawn('slapd', ['-d', '0', '-h', `${this.ldapUri}/ ${this.ldapsUri}/`, '-f', this.configFile], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const until = Date.now() + 20000;
    for (;;) {
      const client = new Client({ url: this.ldapUri, connectTimeout: 1000, timeout: 2000 });
      try {
        await client.bind(ROOT_DN, ROOT_PASSWORD);
        // Another suite's slapd (same root DN) may answer on this port if ours could not bind it.
        if (listensOn(this.child.pid, this.ldapPort) && listensOn(this.child.pid, this.ldapsPort)) return;
        throw new Error(`port ${this.ldapPort} or ${this.ldapsPort} answered, but not by this slapd (pid ${this.child.pid})`);
      } catch (e) {
        if (this.child.exitCode !== null || Date.now() > until) throw new Error(`slapd did not start: ${(e as Error).message}\n${this.log()}`);
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        await client.unbind().catch(() => undefined);
      }
    }
  }

  /** The binds and searches slapd has completed, by its monitor database, less those of these
   * readings themselves: each reading binds (counted in it) and searches (counted from the next). */
  async completedOperations(): Promise<{ binds: number; searches: number }> {
    const client = new Client({ url: this.ldapUri, connectTimeout: 2000, timeout: 5000 });
    try {
      await client.bind(ROOT_DN, ROOT_PASSWORD);
      const { searchEntries } = await client.search('cn=Operations,cn=Monitor', { scope: 'one', attributes: ['cn', 'monitorOpCompleted'] });
      const count = (cn: string): number => {
        const e = searchEntries.find((x) => String(x.cn).toLowerCase() === cn);
        const n = Number(e?.monitorOpCompleted);
        if (!Number.isFinite(n)) throw new Error(`slapd's monitor has no count of ${cn} operations`);
        return n;
      };
      const before = this.readings++;
      return { binds: count('bind') - (before + 1), searches: count('search') - before };
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  log(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'slapd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** ldapadd as the root DN. */
  async add(ldif: string): Promise<void> {
    await this.tool('ldapadd', ldif);
  }

  /** ldapmodify as the root DN. */
  async modify(ldif: string): Promise<void> {
    await this.tool('ldapmodify', ldif);
  }

  private tool(name: string, ldif: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(name, ['-x', '-H', this.ldapUri, '-D', ROOT_DN, '-w', ROOT_PASSWORD], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => { err += d.toString('utf8'); });
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${name} failed (${code}): ${err}`))));
      child.stdin.end(ldif);
    });
  }
}

/** A {SSHA} userPassword value of password, with a fresh salt, as slappasswd -h {SSHA} makes it. */
export function ssha(password: string): string {
  const salt = crypto.randomBytes(8);
  return `{SSHA}${Buffer.concat([crypto.createHash('sha1').update(password).update(salt).digest(), salt]).toString('base64')}`;
}
