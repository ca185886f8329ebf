// The PAM stacks compared: a private pam.d service for each module, and for pam_mapi a worker
// per store (so that each worker's memory and CPU belong to one store).
import fs from 'fs';
import os from 'os';
import path from 'path';
import { PrivateKdc } from '../src/sandbox/kdc';
import { PrivateMariaDB } from '../src/sandbox/mariadb';
import { Sandbox } from '../src/sandbox/sandbox';
import { PEOPLE, PrivateSlapd, SERVICE_DN, SERVICE_PASSWORD } from '../src/sandbox/slapd';
import { krb5StoreSection, PAM_KRB5_CONF, pamKrb5Lines, pamKrb5Prefix, writePamKrb5Conf } from './krb5';
import { KOPANO_DB, PLAIN_DB, READER, userPassword } from './mysql-fill';
import { ModuleName } from './options';
import { pamModuleDir } from './env';
import { USER_PREFIX } from './pam-load';
import { BenchWorker } from './worker';
import { PrivateNslcd } from './nslcd';
import { PrivateSssd } from './sssd';
import { Snapshot } from './snapshot';

export const LABELS: Record<ModuleName, string> = {
  pam_permit: 'pam_permit (floor)',
  node_floor: 'Node floor (replays the worker)',
  mapi_file: 'pam_mapi file',
  mapi_zarafa: 'pam_mapi zarafa',
  mapi_ldap: 'pam_mapi ldap',
  pam_mysql: 'pam_mysql',
  pam_ldap: 'pam_ldap + nslcd',
  pam_sss: 'pam_sss + sssd',
  mapi_krb5: 'pam_mapi krb5',
  pam_krb5: 'pam_krb5',
};

export const MAPI_STORES = { mapi_file: 'file', mapi_zarafa: 'zarafa', mapi_ldap: 'ldap', mapi_krb5: 'krb5' } as const;
export type MapiModule = keyof typeof MAPI_STORES;

export function isMapi(m: ModuleName): m is MapiModule {
  return m in MAPI_STORES;
}

/** How to drive one module with pam_load. */
export interface Target {
  module: ModuleName;
  confDir: string;
  service: string;
  /** pam_mysql 0.8.2 crashes with threads: one single-thread process per client. */
  processes: boolean;
  prefix?: string[];
  /** pam_permit accepts any password: no wrong ones for it. */
  checksPassword: boolean;
}

/** libpam logs "no default config other" at every pam_start in a directory without one. */
export const OTHER = ['auth required pam_deny.so', 'account required pam_deny.so', 'password required pam_deny.so', 'session required pam_deny.so'];

export interface Servers {
  db: PrivateMariaDB;
  slapd: PrivateSlapd;
  nslcd: PrivateNslcd | null;
  sssd: PrivateSssd | null;
  /** The private KDC of the Kerberos rows (bench/krb5.ts), when they are measured. */
  kdc: PrivateKdc | null;
}

/** The pam.d services of the modules that need no worker, in one private directory. */
export function plainServices(s: Servers): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-bench-pamd-'));
  const write = (name: string, lines: string[]): void => fs.writeFileSync(path.join(dir, name), lines.join('\n') + '\n');
  write('other', OTHER);
  write('permit', ['auth required pam_permit.so', 'account required pam_permit.so']);
  // crypt=3: passwords are plain hex MD5 (the Debian package's README).
  const mysql = `pam_mysql.so user=${READER.user} passwd=${READER.password} host=${s.db.socketPath} db=${PLAIN_DB} table=pam_users usercolumn=login passwdcolumn=password crypt=3`;
  write('mysql', [`auth required ${mysql}`, `account required ${mysql}`]);
  write('ldapd', ['auth required pam_ldap.so', 'account required pam_ldap.so']);
  write('sss', ['auth required pam_sss.so', 'account required pam_sss.so']);
  if (s.kdc) {
    write('krb5', pamKrb5Lines(s.kdc));
    writePamKrb5Conf(s.kdc, path.join(dir, PAM_KRB5_CONF));
  }
  return dir;
}

export function plainTarget(module: 'pam_permit' | 'pam_mysql' | 'pam_ldap' | 'pam_sss' | 'pam_krb5', dir: string, s: Servers): Target {
  switch (module) {
    case 'pam_permit': return { module, confDir: dir, service: 'permit', processes: false, checksPassword: false };
    case 'pam_mysql': return { module, confDir: dir, service: 'mysql', processes: true, checksPassword: true };
    case 'pam_ldap': return { module, confDir: dir, service: 'ldapd', processes: false, prefix: s.nslcd?.prefix, checksPassword: true };
    // pam_sss leaves a thread-specific-data destructor behind when pam_end unloads it, and a
    // client thread that ends after that crashes (SIGSEGV in __nptl_deallocate_tsd): the
    // module is preloaded so that it stays loaded, as in a process that keeps using it.
    case 'pam_sss': return { module, confDir: dir, service: 'sss', processes: false, checksPassword: true,
      prefix: [...(s.sssd?.prefix ?? []), 'env', `LD_PRELOAD=${path.join(pamModuleDir() ?? '/lib/security', 'pam_sss.so')}`] };
    case 'pam_krb5': return { module, confDir: dir, service: 'krb5', processes: false, prefix: pamKrb5Prefix(dir), checksPassword: true };
  }
}

/** A sandbox with the config of one pam_mapi store and its `mapi` service. */
export class MapiStack {
  readonly box = Sandbox.create('pam_mapi-bench-');
  private readonly config: string;
  private runs = 0;
  worker: BenchWorker | null = null;

  constructor(
    readonly module: MapiModule,
    s: Servers,
    poolSize: number,
    private readonly build: Snapshot,
    private readonly database = KOPANO_DB,
    /** More config: sections before the store's, and [worker] keys (bench/hot-path.ts); keys
     * of the store's own section (bench/ldap-reuse.ts). */
    extra: { sections?: string; worker?: string; store?: string } = {},
  ) {
    this.config = this.box.writeConfig(`${extra.sections ?? ''}${this.storeSection(s, poolSize)}${extra.store ?? ''}`, extra.worker ?? '');
    this.box.service('other', OTHER);
    this.box.service('mapi', [`auth required ${build.module} ${this.box.workerArg}`, `account required ${build.module} ${this.box.workerArg}`]);
  }

  get target(): Target {
    return { module: this.module, confDir: this.box.pamDir, service: 'mapi', processes: false, checksPassword: true };
  }

  private storeSection(s: Servers, poolSize: number): string {
    switch (MAPI_STORES[this.module]) {
      case 'file':
        return `[store]\ntype = file\npath = ${path.join(this.box.dir, 'users')}\n`;
      case 'zarafa':
        return `[store]\ntype = zarafa\nsocket = ${s.db.socketPath}\nuser = ${READER.user}\npassword = ${READER.password}\ndatabase = ${this.database}\npool_size = ${poolSize}\n`;
      case 'ldap': {
        const secret = this.box.file('ldap.secret', SERVICE_PASSWORD + '\n', 0o600);
        return `[store]\ntype = ldap\nuri = ${s.slapd.ldapUri}\nbind_dn = ${SERVICE_DN}\nbind_password_file = ${secret}\nbase = ${PEOPLE}\n`;
      }
      case 'krb5':
        return krb5StoreSection(s.kdc!);
    }
  }

  /** The file store's users file for users 0..n-1 (the other stores read the servers). */
  writeUsers(n: number): void {
    if (MAPI_STORES[this.module] !== 'file') return;
    const users = Array.from({ length: n }, (_, k) => ({ login: `${USER_PREFIX}${k}`, password: userPassword(k) }));
    this.box.writeUsers(users);
  }

  /** A fresh worker (the previous one stopped first). */
  async restart(): Promise<BenchWorker> {
    await this.stop();
    this.worker = await BenchWorker.start(this.config, BenchWorker.logPath(this.box.dir, `worker-${++this.runs}`), this.build.workerMain);
    return this.worker;
  }

  async stop(): Promise<void> {
    await this.worker?.stop();
    this.worker = null;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    await this.box.cleanup();
  }
}
