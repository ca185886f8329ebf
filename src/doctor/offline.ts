// The doctor's rows for the offline verifier caches: per store, whether the cache is on, and
// when it is, how many users it holds, how old its entries are, and whether the worker will
// trust the file (mode 0600, whole, checksum right).
import fs from 'fs';
import { Config } from '../stores/registry';
import { SystemRoot } from '../system/root';
import { parseCacheText } from '../worker/offline-cache';
import { Row } from './checks';

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

export function checkOfflineCaches(root: SystemRoot, config: Config, now = Date.now()): Row[] {
  const rows: Row[] = [];
  for (const [name, def] of config.stores) {
    const check = `offline cache ${name || 'default'}`;
    const section = `[store${name ? `.${name}` : ''}]`;
    const o = def.offline;
    if (o === null) {
      rows.push({ check, status: 'OK', detail: `off (logins fail with PAM_AUTHINFO_UNAVAIL while the store is down)${def.circuitBreaker ? '; circuit_breaker on' : ''}` });
      continue;
    }
    const file = root.path(o.file);
    const limits = `offline_max_age ${ago(o.maxAgeMs)}, locked after ${o.failedAttempts} wrong passwords for ${ago(o.lockoutMs)}`;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(file);
    } catch {
      rows.push({ check, status: 'OK', detail: `on, empty (${o.file} not written yet: no online login since it was turned on); ${limits}` });
      continue;
    }
    if (!st.isFile() || (st.mode & 0o077) !== 0) {
      rows.push({ check, status: 'FAIL', detail: `${o.file} is ${st.isFile() ? `mode ${(st.mode & 0o777).toString(8)}` : 'not a regular file'}: the worker refuses it and answers nobody offline`, fix: `rm ${o.file} (the worker writes a new one, mode 0600, at the next online login)` });
      continue;
    }
    const parsed = parseCacheText(fs.readFileSync(file, 'utf8'));
    if (typeof parsed === 'string') {
      rows.push({ check, status: 'FAIL', detail: `${o.file}: ${parsed}; the worker refuses it and answers nobody offline`, fix: `rm ${o.file} and restart the worker (users are cached again at their next online login)` });
      continue;
    }
    let newest = -Infinity;
    let oldest = Infinity;
    let usable = 0;
    for (const e of parsed.values()) {
      newest = Math.max(newest, e.onlineAt);
      oldest = Math.min(oldest, e.onlineAt);
      if (now - e.onlineAt <= o.maxAgeMs) usable++;
    }
    const age = parsed.size === 0 ? '' : `, newest ${ago(now - newest)} old, oldest ${ago(now - oldest)} old`;
    rows.push({ check, status: 'OK', detail: `on: ${parsed.size} users (${usable} within offline_max_age)${age}, ${st.size} bytes in ${o.file}; ${limits}; see ${section}` });
  }
  return rows;
}
