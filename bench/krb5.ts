// The Kerberos rows of `npm run bench`: pam_mapi's krb5 store and Debian's pam_krb5 (Russ
// Allbery's libpam-krb5) against one private MIT KDC (src/sandbox/kdc.ts) holding the same
// principals user<k> / pw-<k> as the other stores' users. Both validate every ticket against the
// same host keytab, neither writes a ticket cache, so per login both do the same exchanges: an
// AS-REQ answered "preauthentication required", an AS-REQ with the encrypted timestamp, a TGS-REQ
// for the host principal, and the keytab read to decrypt that ticket (bench/README.md).
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { PrivateKdc } from '../src/sandbox/kdc';
import { freePort } from './env';
import { userPassword } from './mysql-fill';
import type { ModuleName } from './options';
import { LoadSpec, runLoad, USER_PREFIX } from './pam-load';

export const KRB5_MODULES: readonly ModuleName[] = ['mapi_krb5', 'pam_krb5'];

export function isKrb5(m: ModuleName): boolean {
  return KRB5_MODULES.includes(m);
}

/** The private KDC of the run, with no user principals yet (addPrincipals). */
export async function startBenchKdc(): Promise<PrivateKdc> {
  return PrivateKdc.start({ port: await freePort(), principals: [] });
}

/** One kadmin.local reading `addprinc` lines on stdin; resolves with how many it created. */
function kadminBatch(kdc: PrivateKdc, lines: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('kadmin.local', ['-r', kdc.realm], { env: kdc.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString('utf8'); });
    child.once('error', reject);
    child.once('close', (code) => {
      const created = out.split('\n').filter((l) => /^Principal ".*" created\.$/.test(l)).length;
      // Besides these, whatever kadmin.local says is a failure (it exits 0 after a failed query).
      const said = err.split('\n').filter((l) => l.trim() !== '' && !/^No policy specified for .*; defaulting to no policy$/.test(l));
      if (code !== 0 || said.length > 0) reject(new Error(`kadmin.local ended with ${code}: ${said.slice(0, 3).join('; ')}`));
      else resolve(created);
    });
    child.stdin.end(lines.join('\n') + '\n');
  });
}

/** Adds user<from>..user<to-1> with passwords pw-<k>, pre-authentication required as Active
 * Directory does (kadmin's "+requires_preauth"; "-requires_preauth" clears the flag, and the KDC
 * then hands anyone an AS-REP sealed with the user's key). Each addprinc derives two keys from the
 * password (AES-256 and AES-128, PBKDF2 with 4,096 rounds each): about 10 ms of CPU a
 * principal here, so the work is split over one kadmin.local per core. */
export async function addPrincipals(kdc: PrivateKdc, from: number, to: number): Promise<void> {
  const parts = Math.max(1, Math.min(os.cpus().length, 4));
  const batches: string[][] = Array.from({ length: parts }, () => []);
  for (let k = from; k < to; k++) batches[k % parts].push(`addprinc +requires_preauth -pw ${userPassword(k)} ${USER_PREFIX}${k}`);
  const created = (await Promise.all(batches.filter((b) => b.length > 0).map((b) => kadminBatch(kdc, b)))).reduce((a, b) => a + b, 0);
  if (created !== to - from) throw new Error(`kadmin.local created ${created} of ${to - from} principals`);
}

/** pam_krb5's krb5.conf, in the directory of the plain modules' pam.d services. */
export const PAM_KRB5_CONF = 'krb5.conf';

/** pam_load for pam_krb5 runs under this: libkrb5 in it reads the krb5.conf KRB5_CONFIG names
 * (pam_load runs as root, not setuid, so the library honours the variable). */
export function pamKrb5Prefix(dir: string): string[] {
  return ['env', `KRB5_CONFIG=${path.join(dir, PAM_KRB5_CONF)}`];
}

/** pam_krb5's krb5.conf: the KDC's own, with `verify_ap_req_nofail` so that a keytab it cannot
 * use fails the login instead of skipping the validation (pam_krb5(5)). */
export function writePamKrb5Conf(kdc: PrivateKdc, file: string): void {
  const text = fs.readFileSync(kdc.krb5Conf, 'utf8').replace('[libdefaults]\n', '[libdefaults]\n verify_ap_req_nofail = true\n');
  if (!text.includes('verify_ap_req_nofail')) throw new Error(`${kdc.krb5Conf} has no [libdefaults] line`);
  fs.writeFileSync(file, text);
}

/** The pam.d lines of the pam_krb5 service: validation against the host keytab (its first key,
 * as the krb5 store's default), no ticket cache, the authorisation check by name only (no home
 * directory's .k5login: mail users have none), and no minimum_uid (the users are not local). */
export function pamKrb5Lines(kdc: PrivateKdc, keytab = kdc.keytabFile): string[] {
  return [`auth required pam_krb5.so keytab=${keytab} no_ccache ignore_k5login`, 'account required pam_krb5.so ignore_k5login'];
}

/** Before pam_krb5 is measured: that it validates as configured, or its figures would be those
 * of a cheaper, unsafe check. Right passwords pass with the host keytab (so the KDC and the
 * krb5.conf were found), and the same logins fail when its keytab is missing (which, without
 * verify_ap_req_nofail, pam_krb5 would skip). */
export async function checkPamKrb5Validates(kdc: PrivateKdc, dir: string, users: number): Promise<void> {
  const target = (service: string): LoadSpec => ({ confDir: dir, service, users, clients: 1, count: Math.min(users, 5), wrongEvery: 0,
    prefix: pamKrb5Prefix(dir) });
  const right = await runLoad(target('krb5'));
  if (right.ok !== right.transactions) throw new Error(`pam_krb5 refused ${right.failed} of ${right.transactions} right passwords: its configuration does not reach the KDC (${kdc.address})`);
  fs.writeFileSync(path.join(dir, 'krb5-no-keytab'), pamKrb5Lines(kdc, path.join(dir, 'no-such.keytab')).join('\n') + '\n');
  const missing = await runLoad(target('krb5-no-keytab'));
  if (missing.ok !== 0) throw new Error(`pam_krb5 accepted ${missing.ok} of ${missing.transactions} logins without a keytab: it does not validate (verify_ap_req_nofail not read)`);
}

/** The [store] section of pam_mapi's krb5 store against the same KDC and keytab. */
export function krb5StoreSection(kdc: PrivateKdc): string {
  return `[store]\ntype = krb5\nrealm = ${kdc.realm}\nkdc = ${kdc.address}\nkeytab = ${kdc.keytabFile}\n`;
}
