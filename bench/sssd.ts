// SSSD (pam_sss + sssd with the LDAP provider) for the comparison. sssd and pam_sss use fixed
// paths (/etc/sssd, /var/lib/sss/pipes, /var/log/sssd, /run/sssd.pid), so, as nslcd.ts does,
// sssd runs in a private mount namespace in which private copies of those are mounted; the
// host's files are never touched. pam_load joins the namespace with nsenter; the namespace
// lives as long as sssd does. sssd runs as root, as Debian 12 runs it.
import fs from 'fs';
import os from 'os';
import path from 'path';
import { PEOPLE, PrivateSlapd } from '../src/sandbox/slapd';
import { startNamespacedDaemon } from './namespaced-daemon';

/** Mounts private directories over sssd's fixed ones (same modes as Debian's), starts sssd as
 * a daemon and waits for its PAM socket. */
const HOLDER = `set -e
for d in $(cd /var/lib/sss && find . -type d); do
  mkdir -p "$D/lib/$d"; chmod --reference="/var/lib/sss/$d" "$D/lib/$d"
done
mkdir -p -m 0750 "$D/log"
mount --bind "$D/lib" /var/lib/sss
mount --bind "$D/log" /var/log/sssd
mount --bind "$D/etc" /etc/sssd
mount -t tmpfs -o mode=0755 bench-run /run
sssd -D --logger=files
for i in $(seq 300); do [ -S /var/lib/sss/pipes/pam ] && [ -s /run/sssd.pid ] && break; sleep 0.05; done
[ -S /var/lib/sss/pipes/pam ] || { cat /var/log/sssd/*.log >&2; exit 1; }
echo "pid=$(cat /run/sssd.pid)"
`;

/** The processes of a running sssd: the monitor and its children (sssd_be, sssd_pam, ...). */
function tree(pid: number): Array<{ name: string; pid: number }> {
  const out = [{ name: 'sssd', pid }];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push({ name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), pid: Number(d) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export class PrivateSssd {
  private constructor(
    readonly dir: string,
    readonly pid: number,
  ) {}

  /** The command prefix that runs a program in sssd's mount namespace. */
  get prefix(): string[] {
    return ['nsenter', '-t', String(this.pid), '-m', '--'];
  }

  /** sssd's processes now (the responders and the back end are its children). */
  processes(): Array<{ name: string; pid: number }> {
    return tree(this.pid);
  }

  static async start(slapd: PrivateSlapd): Promise<PrivateSssd> {
    if (!fs.existsSync('/usr/sbin/sssd') || !fs.existsSync('/var/lib/sss')) throw new Error('sssd is missing: install sssd-ldap and libpam-sss');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-sssd-'));
    fs.mkdirSync(path.join(dir, 'etc'), { mode: 0o711 });
    fs.mkdirSync(path.join(dir, 'etc', 'conf.d'), { mode: 0o755 });
    // The LDAP provider against the private slapd, anonymous searches as nslcd's; no TLS on
    // loopback (sssd refuses a password over plain LDAP unless told); no credential cache, so
    // every authentication is a bind as the user, as with the other modules.
    fs.writeFileSync(path.join(dir, 'etc', 'sssd.conf'), [
      '[sssd]', 'services = nss, pam', 'domains = bench', '',
      '[nss]', '', '[pam]', '',
      '[domain/bench]', 'id_provider = ldap', 'auth_provider = ldap', 'access_provider = permit', 'chpass_provider = none',
      `ldap_uri = ${slapd.ldapUri}`, `ldap_search_base = ${PEOPLE}`, 'ldap_schema = rfc2307',
      'ldap_auth_disable_tls_never_use_in_production = true', 'ldap_id_use_start_tls = false',
      'cache_credentials = false', 'enumerate = false', '',
    ].join('\n'), { mode: 0o600 });
    return new PrivateSssd(dir, await startNamespacedDaemon('sssd', HOLDER, dir));
  }

  /** Stops sssd (the monitor stops its children) by its own pid, SIGKILL to any process of it
   * left after 10 s, and removes its files. */
  async stop(): Promise<void> {
    const procs = this.processes();
    const alive = (pid: number): boolean => {
      try {
        return !/^State:\s*Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return false;
      }
    };
    if (alive(this.pid)) process.kill(this.pid, 'SIGTERM');
    const until = Date.now() + 10000;
    while (procs.some((p) => alive(p.pid)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    for (const p of procs) if (alive(p.pid)) process.kill(p.pid, 'SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
