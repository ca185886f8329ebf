// Kopano's config file format, as its user plugins' files (ldap.cfg) use it: `key = value`
// lines, `#` comments, `!include FILE` (the named file's keys, read at that point, so later
// lines override them) and `!propmap FILE` (extra attribute mappings in the same format).
// Every value keeps the file it came from, so the doctor and error messages can name it.
import path from 'path';
import { ConfigError } from '../../config/errors';
import { FileAccessError, GroupRead, readTrustedFile } from '../../config/permissions';

export interface KopanoValue {
  value: string;
  /** The file whose line set it. */
  file: string;
}

export interface KopanoCfg {
  /** The file named at the top. */
  file: string;
  values: Map<string, KopanoValue>;
  /** The `!propmap` files' values, by key (property tags such as 0x67B3101E). */
  propmap: Map<string, KopanoValue>;
}

/** Kopano nests includes only a few deep; this also ends a loop of files including each other. */
const MAX_DEPTH = 8;

export interface KopanoCfgOptions {
  what: string;
  /** Keys whose value is a secret: a file that sets one must not be readable by others. */
  secretKeys: readonly string[];
  groupRead: GroupRead;
}

export function readKopanoCfg(file: string, opts: KopanoCfgOptions): KopanoCfg {
  const cfg: KopanoCfg = { file, values: new Map(), propmap: new Map() };
  readInto(cfg.values, cfg, file, opts, 0);
  return cfg;
}

function readInto(into: Map<string, KopanoValue>, cfg: KopanoCfg, file: string, opts: KopanoCfgOptions, depth: number): void {
  if (depth > MAX_DEPTH) throw new ConfigError(`${file}: !include nested deeper than ${MAX_DEPTH} files (a loop?)`);
  let text: string;
  try {
    // Each file is trusted the same way: whoever may write an included file sets the
    // directory the worker asks, or its filter.
    text = readTrustedFile(file, {
      what: opts.what,
      holdsSecret: (t) => [...parseLines(t)].some((l) => l.kind === 'value' && opts.secretKeys.includes(l.key) && l.value !== ''),
      groupRead: opts.groupRead,
    });
  } catch (e) {
    if (e instanceof FileAccessError) throw new ConfigError(`${opts.what} ${file}: ${e.errno.message}`);
    throw e;
  }
  for (const line of parseLines(text)) {
    if (line.kind === 'value') {
      into.set(line.key, { value: line.value, file });
      continue;
    }
    // Relative names are relative to the including file, as Kopano resolves them.
    const target = path.resolve(path.dirname(file), line.target);
    if (line.kind === 'include') readInto(into, cfg, target, opts, depth + 1);
    else readInto(cfg.propmap, cfg, target, opts, depth + 1);
  }
}

type Line = { kind: 'value'; key: string; value: string } | { kind: 'include' | 'propmap'; target: string };

function* parseLines(text: string): Generator<Line> {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const directive = /^!(include|propmap)\s+(.+)$/.exec(line);
    if (directive !== null) {
      yield { kind: directive[1] as 'include' | 'propmap', target: directive[2].trim() };
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    yield { kind: 'value', key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() };
  }
}
