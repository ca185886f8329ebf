// Users in bulk in the private slapd: entries that both pam_mapi's ldap store (kopano-user,
// uid) and nslcd (posixAccount) find, with {SSHA} passwords, loaded offline with slapadd while
// slapd is stopped: far quicker than ldapadd for 100,000 entries (see bench/README.md).
import { execFile } from 'child_process';
import crypto from 'crypto';
import fs from 'fs';
import path from 'path';
import { promisify } from 'util';
import { PEOPLE, PrivateSlapd } from '../src/sandbox/slapd';
import { USER_PREFIX } from './pam-load';
import { userPassword } from './mysql-fill';

const run = promisify(execFile);
/** The sandbox's slapd.conf caps the database at 16 MB (tests); 100,000 entries need ~200 MB. */
const MAP_SIZE = 1024 * 1024 * 1024;

/** The sandbox's slapd.conf for a benchmark: room for the entries, and `loglevel none` (Debian's
 * default; slapd's own default, stats, sends several syslog lines per operation). */
function tuneConfig(text: string): string {
  const sized = text.replace(/^maxsize .*$/m, `maxsize ${MAP_SIZE}`);
  return /^loglevel /m.test(sized) ? sized : `loglevel none\n${sized}`;
}

function ssha(password: string): string {
  const salt = crypto.randomBytes(8);
  return '{SSHA}' + Buffer.concat([crypto.createHash('sha1').update(password).update(salt).digest(), salt]).toString('base64');
}

export function userEntry(k: number): string {
  const uid = `${USER_PREFIX}${k}`;
  return [
    `dn: uid=${uid},${PEOPLE}`,
    'objectClass: inetOrgPerson', 'objectClass: posixAccount', 'objectClass: kopano-user',
    `uid: ${uid}`, `cn: ${uid}`, `sn: ${uid}`,
    `uidNumber: ${100000 + k}`, 'gidNumber: 100', `homeDirectory: /home/${uid}`,
    `userPassword: ${ssha(userPassword(k))}`,
    'kopanoAccount: 1', 'kopanoEnabledFeatures: imap', '', '',
  ].join('\n');
}

/** Adds users from..to-1: stops slapd, slapadds them, starts it again. */
export async function growLdapUsers(slapd: PrivateSlapd, from: number, to: number): Promise<void> {
  const ldif = path.join(slapd.dir, `users-${from}-${to}.ldif`);
  const out = fs.openSync(ldif, 'w');
  for (let k = from; k < to; k++) fs.writeSync(out, userEntry(k));
  fs.closeSync(out);
  await slapd.stop();
  fs.writeFileSync(slapd.configFile, tuneConfig(fs.readFileSync(slapd.configFile, 'utf8')));
  await run('slapadd', ['-q', '-f', slapd.configFile, '-l', ldif], { maxBuffer: 16 * 1024 * 1024 });
  fs.rmSync(ldif);
  await slapd.launch();
}
