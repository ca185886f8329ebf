// The store registry: every store type describes itself (descriptor.ts), and what the rest of
// the program needs from a store comes from that description. These tests fail when a store's
// secret key escapes the config's permission check, when a store has no doctor hint, and they
// show the recipe of docs/architecture.md at work with a store kept here, not shipped.
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { checkStores } from '../../src/doctor/checks';
import { StoreDescriptor } from '../../src/stores/descriptor';
import { loadConfig, parseConfig, secretKeysOf, STORE_TYPES } from '../../src/stores/registry';
import { staticStore } from '../helpers/static-store';

const SRC_STORES = path.resolve(__dirname, '../../../src/stores');
const WITH_STATIC: ReadonlyArray<StoreDescriptor<unknown>> = [...STORE_TYPES, staticStore];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-descriptors-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const write = (text: string, mode: number): string => {
  const p = path.join(dir, `c${n++}.conf`);
  fs.writeFileSync(p, text);
  fs.chmodSync(p, mode);
  return p;
};

/** The keys a store's folder reads from its section, as its source names them. */
function keysRead(type: string): string[] {
  const folder = path.join(SRC_STORES, type);
  const keys = new Set<string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        for (const m of fs.readFileSync(p, 'utf8').matchAll(/\br\.(?:optional|required|string|list|choice|boolean|integer|seconds|octal|has)(?:<[^>]*>)?\('([a-z_]+)'/g)) keys.add(m[1]);
      }
    }
  };
  walk(folder);
  return [...keys];
}

describe.each(STORE_TYPES.map((t) => [t.type, t] as const))('the %s store describes itself', (type, descriptor) => {
  test('its folder is src/stores/TYPE and reads its section there', () => {
    expect(fs.existsSync(path.join(SRC_STORES, type, 'index.ts'))).toBe(true);
    expect(keysRead(type).length).toBeGreaterThan(0);
  });
  test('every key of its section that holds a secret is declared a secret key', () => {
    const secretLooking = keysRead(type).filter((k) => /pass|secret|token|credential/.test(k) && !k.endsWith('_file'));
    expect(secretLooking.filter((k) => !descriptor.secretKeys.includes(k))).toEqual([]);
  });
  test('each secret key makes a config readable by others refused, and must be quoted when it holds ; or #', () => {
    for (const key of descriptor.secretKeys) {
      const p = write(`[store]\ntype = ${type}\n${key} = "x"\n`, 0o644);
      expect(() => loadConfig(p)).toThrow(/holds a password and is readable by group or others \(mode 0644\).*chmod 600/);
      expect(() => parseConfig(`[store]\ntype = ${type}\n${key} = se;cret\n`, p)).toThrow(new RegExp(`:3: ${key}: .*double quotes`));
    }
  });
  test('it has a doctor hint of its own', () => {
    expect(descriptor.doctorHint.trim()).not.toBe('');
    expect(STORE_TYPES.filter((t) => t.doctorHint === descriptor.doctorHint)).toHaveLength(1);
  });
});

describe('a store added by the recipe (test/helpers/static-store, one line in the list)', () => {
  test('unknown until listed', () => {
    expect(() => parseConfig('[store]\ntype = static\nusers = alice\nshared_secret = s\n', 'x.conf')).toThrow(/type: "static" is not one of file, zarafa, ldap/);
  });
  test('listed: its section is read by its descriptor, unknown keys refused', () => {
    const c = parseConfig('[store.s]\ntype = static\nusers = alice bob\nshared_secret = s\n', 'x.conf', WITH_STATIC);
    expect(c.stores.get('s')).toMatchObject({ type: 'static', settings: { users: ['alice', 'bob'], sharedSecret: 's' } });
    expect(() => parseConfig('[store]\ntype = static\nusers = a\nshared_secret = s\ncolour = red\n', 'x.conf', WITH_STATIC)).toThrow(/\[store\] colour: unknown key/);
  });
  test('its secret key is permission-checked with nothing else edited', () => {
    expect(secretKeysOf(WITH_STATIC)).toContain('shared_secret');
    const p = write('[store]\ntype = static\nusers = alice\nshared_secret = "s"\n', 0o644);
    expect(() => loadConfig(p, {}, WITH_STATIC)).toThrow(/holds a password and is readable by group or others \(mode 0644\)/);
    fs.chmodSync(p, 0o600);
    expect(loadConfig(p, {}, WITH_STATIC).stores.get('')?.type).toBe('static');
  });
  test('it opens and answers; when it fails, the doctor gives its hint', async () => {
    const c = parseConfig('[store]\ntype = static\nusers = Alice\nshared_secret = s3\n', 'x.conf', WITH_STATIC);
    const store = c.stores.get('')!.open({ log: () => {}, storeTimeoutMs: 1000, readFile: (p) => fs.readFileSync(p) });
    const signal = new AbortController().signal;
    expect(await store.verify('alice', Buffer.from('s3'), signal)).toMatchObject({ found: true, passwordOk: true });
    expect(await store.verify('alice', Buffer.from('s4'), signal)).toMatchObject({ found: true, passwordOk: false });
    expect(await store.lookup('bob', signal)).toEqual({ found: false });

    const broken: StoreDescriptor<unknown> = { ...staticStore, open: () => { throw new Error('cannot open'); } };
    const rows = await checkStores(parseConfig('[store]\ntype = static\nusers = a\nshared_secret = s\n', 'x.conf', [...STORE_TYPES, broken]));
    expect(rows).toEqual([{ check: 'store default (static)', status: 'FAIL', detail: 'cannot open', fix: staticStore.doctorHint }]);
  });
});

test('reading the socket path (pam-mapi check) loads no store and no database or LDAP library', () => {
  const main = path.resolve(__dirname, '../../src/cli/main.js');
  // `check` without a user stops at its usage line, after every module it needs is loaded.
  const probe = `process.argv = [process.argv[0], ${JSON.stringify(main)}, 'check'];
process.on('exit', () => process.stdout.write(JSON.stringify(Object.keys(require.cache))));
require(${JSON.stringify(main)});`;
  const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  const loaded = JSON.parse(r.stdout) as string[];
  expect(loaded.some((f) => f.endsWith(path.join('cli', 'check.js')))).toBe(true);
  expect(loaded.filter((f) => /node_modules\/(mysql2|ldapts)\/|\/src\/stores\//.test(f))).toEqual([]);
});

test('config loading imports no store: src/config names no module of src/stores', () => {
  const dir = path.resolve(__dirname, '../../../src/config');
  const offenders = fs.readdirSync(dir).filter((f) => /from '\.\.\/stores\//.test(fs.readFileSync(path.join(dir, f), 'utf8')));
  expect(offenders).toEqual([]);
});
