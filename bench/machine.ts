// The facts that make a benchmark's figures comparable: the machine and every version involved.
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { REPO_ROOT } from '../src/sandbox/sandbox';

export type Facts = Array<[string, string]>;

function cmd(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT }).trim();
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return (err.stdout || err.stderr || '?').trim();
  }
}

function deb(pkg: string): string {
  return cmd('dpkg-query', ['-W', '-f=${Version}', pkg]) || 'not installed';
}

function npmVersion(pkg: string): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** `free -h`'s Mem line as "total 23Gi, used 1.1Gi, ...". */
function freeMemory(): string {
  const [head, mem] = cmd('free', ['-h']).split('\n');
  const names = head.trim().split(/\s+/);
  const values = (mem ?? '').trim().split(/\s+/).slice(1);
  return names.map((n, i) => `${n} ${values[i] ?? '?'}`).join(', ');
}

export function machineFacts(): Facts {
  const cpu = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '?';
  const commit = cmd('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = cmd('git', ['status', '--porcelain', '--', 'src', 'native']) !== '' ? ' (with uncommitted changes in src/ or native/)' : '';
  return [
    ['nproc', cmd('nproc', [])],
    ['free -h', freeMemory()],
    ['CPU', cpu],
    ['kernel', `${os.type()} ${os.release()}`],
    ['OS', /^PRETTY_NAME="?([^"\n]*)/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '?'],
    ['Node.js', process.version],
    ['libpam', deb('libpam0g')],
    ['MariaDB', deb('mariadb-server')],
    ['slapd', deb('slapd')],
    ['libpam-mysql (pam_mysql)', deb('libpam-mysql')],
    ['libpam-ldapd / nslcd', `${deb('libpam-ldapd')} / ${deb('nslcd')}`],
    ['libpam-sss / sssd-ldap', `${deb('libpam-sss')} / ${deb('sssd-ldap')}`],
    ['mysql2 / ldapts', `${npmVersion('mysql2')} / ${npmVersion('ldapts')}`],
    ['pam_mapi commit', `${commit}${dirty}`],
    ['load average at start', fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')],
    ['date', new Date().toISOString().replace(/\.\d+Z$/, 'Z')],
  ];
}
