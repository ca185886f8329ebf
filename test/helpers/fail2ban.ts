// A private copy of Debian's fail2ban configuration with the shipped jail and filters of
// docs/fail2ban added, for fail2ban-regex -c and fail2ban-client -c.
import fs from 'fs';
import os from 'os';
import path from 'path';
import { REPO_ROOT } from '../../src/sandbox/sandbox';

export const SHIPPED_JAIL = path.join(REPO_ROOT, 'docs/fail2ban/pam-mapi.conf');

/** `local`: a jail.d/zz-test.local for what a test must change (log paths, backend). */
export function privateFail2banConfig(local = ''): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-f2bconf-'));
  fs.cpSync('/etc/fail2ban', dir, { recursive: true });
  fs.copyFileSync(SHIPPED_JAIL, path.join(dir, 'jail.d/pam-mapi.conf'));
  const filters = path.join(REPO_ROOT, 'docs/fail2ban/filter.d');
  if (fs.existsSync(filters)) for (const f of fs.readdirSync(filters)) fs.copyFileSync(path.join(filters, f), path.join(dir, 'filter.d', f));
  if (local !== '') fs.writeFileSync(path.join(dir, 'jail.d/zz-test.local'), local);
  return dir;
}

/** The filter a jail uses, as fail2ban-regex takes it: from the shipped file, else from
 * fail2ban's own jail.conf. */
export function jailFilter(jail: string): string {
  const filterOf = (file: string): string | undefined => {
    const text = fs.readFileSync(file, 'utf8').replace(/^[#;].*$/gm, '');
    const section = new RegExp(`^\\[${jail}\\]$([^]*?)(?=^\\[|(?![^]))`, 'm').exec(text)?.[1] ?? '';
    return /^filter\s*=\s*(.+)$/m.exec(section)?.[1].trim();
  };
  return filterOf(SHIPPED_JAIL) ?? filterOf('/etc/fail2ban/jail.conf') ?? '';
}
