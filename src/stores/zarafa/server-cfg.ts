// Kopano's / Zarafa's server.cfg: `key = value` lines with `#` comments. pam_mapi reads the
// database settings, disabled_features and user_plugin from it, so an existing Zarafa host
// needs no other setting.
import { ConfigError } from '../../config/errors';
import { FileAccessError, readTrustedFile } from '../../config/permissions';

export interface ServerCfg {
  file: string;
  values: Map<string, string>;
}

export function readServerCfg(file: string): ServerCfg {
  let text: string;
  try {
    // It holds the database password (mysql_password): Kopano installs it root:kopano 0640, so
    // its group may read it when the worker is in that group; others never.
    text = readTrustedFile(file, {
      what: 'server_cfg',
      holdsSecret: (t) => (parseServerCfg(t).get('mysql_password') ?? '') !== '',
      groupRead: 'member-group',
    });
  } catch (e) {
    if (e instanceof FileAccessError) throw new ConfigError(`server_cfg ${file}: ${e.errno.message}`);
    throw e;
  }
  return { file, values: parseServerCfg(text) };
}

function parseServerCfg(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return values;
}
