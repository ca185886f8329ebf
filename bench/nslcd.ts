// nss-pam-ldapd's nslcd for the pam_ldap comparison. nslcd and pam_ldap.so use fixed paths
// (/etc/nslcd.conf, /run/nslcd/socket), so nslcd runs in a private mount namespace in which a
// private nslcd.conf and /run/nslcd are mounted; the host's files are never touched. pam_load
// joins that namespace with nsenter; the namespace lives as long as nslcd does.
import fs from 'fs';
import os from 'os';
import path from 'path';
import { PEOPLE, PrivateSlapd } from '../src/sandbox/slapd';
import { startNamespacedDaemon } from './namespaced-daemon';

/** nslcd's worker threads: one per client at the highest level measured (its default is 5). */
export const NSLCD_THREADS = 32;

const HOLDER = `set -e
if [ -d /run/nslcd ]; then mount --bind "$D/run" /run/nslcd
else mount -t tmpfs -o mode=0755 bench-run /run; mkdir -m 0755 /run/nslcd; fi
mount --bind "$D/nslcd.conf" /etc/nslcd.conf
nslcd
for i in $(seq 200); do [ -S /run/nslcd/socket ] && [ -s /run/nslcd/nslcd.pid ] && break; sleep 0.05; done
echo "pid=$(cat /run/nslcd/nslcd.pid)"
`;

export class PrivateNslcd {
  private constructor(
    readonly dir: string,
    readonly pid: number,
  ) {}

  /** The command prefix that runs a program in nslcd's mount namespace. */
  get prefix(): string[] {
    return ['nsenter', '-t', String(this.pid), '-m', '--'];
  }

  static async start(slapd: PrivateSlapd): Promise<PrivateNslcd> {
    if (!fs.existsSync('/etc/nslcd.conf')) throw new Error('/etc/nslcd.conf is missing: install the nslcd package');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-nslcd-'));
    fs.mkdirSync(path.join(dir, 'run'));
    // Runs as root (no uid/gid lines) and searches anonymously: slapd's ACL lets anyone read
    // the entries and anonymous binds authenticate. No password policy control with the user's
    // bind: this slapd has no ppolicy overlay, and logs every unknown control it is sent.
    fs.writeFileSync(path.join(dir, 'nslcd.conf'), [
      `uri ${slapd.ldapUri}/`, `base ${PEOPLE}`, `threads ${NSLCD_THREADS}`, 'pam_authc_ppolicy no', '',
    ].join('\n'), { mode: 0o600 });
    return new PrivateNslcd(dir, await startNamespacedDaemon('nslcd', HOLDER, dir));
  }

  /** Stops nslcd by its own pid (SIGKILL after 5 s) and removes its files. */
  async stop(): Promise<void> {
    // nslcd is not our child: once gone it is init's to reap, and a zombie counts as gone.
    const alive = (): boolean => {
      try {
        return !/^State:\s*Z/m.test(fs.readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      } catch {
        return false;
      }
    };
    if (alive()) process.kill(this.pid, 'SIGTERM');
    const until = Date.now() + 5000;
    while (alive() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    if (alive()) process.kill(this.pid, 'SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
