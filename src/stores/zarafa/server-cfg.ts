// Kopano's / Zarafa's server.cfg: `key = value` lines with `#` comments. pam_mapi reads the
// database settings, disabled_features and user_plugin from it, so an existing Zarafa host
// needs no other setting.
import fs from 'fs';
import { ConfigError } from '../../config/errors';

export interface ServerCfg {
  file: string;
  values: Map<string, string>;
}

export function readServerCfg(file: string): ServerCfg {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`server_cfg ${file}: ${(e as Error).message}`);
  }
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return { file, values };
}
