// Resolves user and group names given in the config to numeric ids, from the local account
// files (the ids the kernel reports through SO_PEERCRED).
import fs from 'fs';

function lookup(file: string, name: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const parts = line.split(':');
    if (parts[0] === name && parts.length > 2 && /^[0-9]+$/.test(parts[2])) return Number(parts[2]);
  }
  return undefined;
}

export function resolveId(kind: 'user' | 'group', value: string, root = '/'): number | undefined {
  if (/^[0-9]+$/.test(value)) return Number(value);
  return lookup(`${root.replace(/\/$/, '')}/etc/${kind === 'user' ? 'passwd' : 'group'}`, value);
}

/** A user's id by name only, as getpwnam() looks it up: a number is not taken for an id. */
export function userIdByName(name: string, root = '/'): number | undefined {
  return lookup(`${root.replace(/\/$/, '')}/etc/passwd`, name);
}
