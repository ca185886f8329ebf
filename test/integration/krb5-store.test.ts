// The Kerberos store against private MIT KDCs, through real libpam, the built module and a real
// worker: the store contract (test/helpers/store-contract.ts) where it applies, and what only
// this store does: the KDC's answers (expired, disabled, password expired), the keytab
// validation that defeats a spoofing KDC, the keytab's rules, the principal mappings.
import { spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { REPO_ROOT, Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { PrivateKdc, TEST_REALM } from '../../src/sandbox/kdc';
import { freePort } from '../../src/sandbox/ports';
import { pamRun } from '../helpers/pam';
import { moduleLines, syslogMark, syslogSince } from '../helpers/syslog';
import { CONTRACT_USERS, contractServices, storeContract } from '../helpers/store-contract';
import { DAEMON, startWorkerAs } from '../helpers/unprivileged';

const STORE_TIMEOUT_MS = 2000;
const SPOOFED = 'spoofer-knows-this';

const PRINCIPALS = [
  // The contract's users; the one that may not log on is a disabled principal (-allow_tix).
  ...CONTRACT_USERS.map((u) => ({ name: u.login, password: u.password, options: u.active === false ? ['-allow_tix'] : [] })),
  { name: 'old', password: 'old-pw-1', options: ['-expire', '2001-01-01'] },
  { name: 'stale', password: 'stale-pw-1', options: ['-pwexpire', '2001-01-01'] },
  { name: 'longpw', password: 'long-pw-1' },
  // An AD-style user principal name: one component that holds an @.
  { name: 'upn@example.test', password: 'upn-pw-1' },
  // An instance of alice: the login "alice/admin" must never reach it.
  { name: 'alice', password: 'admin-instance-pw', instance: 'admin' },
];

let kdc: PrivateKdc;
let spoofer: PrivateKdc;
let skewed: PrivateKdc;
let box: Sandbox;
let worker: WorkerProcess;
let configFile: string;

/** A [store.NAME] section of the krb5 type for the given KDCs. */
function section(name: string, kdcs: string, extra = '', keytab = kdc.keytabFile): string {
  const header = name === '' ? '[store]' : `[store.${name}]`;
  return `${header}\ntype = krb5\nrealm = ${TEST_REALM}\nkdc = ${kdcs}\nkeytab = ${keytab}\n${extra}\n`;
}

beforeAll(async () => {
  kdc = await PrivateKdc.start({ port: await freePort(), principals: PRINCIPALS.filter((p) => !('instance' in p)) });
  kdc.kadmin(['addprinc', '-pw', 'admin-instance-pw', 'alice/admin']);
  // A service the KDC knows but whose key is not in the keytab.
  kdc.kadmin(['addprinc', '-randkey', `smtp/mail.example.test@${TEST_REALM}`]);
  // The spoofer: another KDC of the same realm, with its own keys, that knows alice with
  // another password. Whoever answers in the real KDC's place can be this.
  spoofer = await PrivateKdc.start({ port: await freePort(), principals: [{ name: 'alice', password: SPOOFED }] });

  // The realm's KDC with its clock an hour ahead: a copy of the database, so the keys are right.
  skewed = await PrivateKdc.start({ port: await freePort(), principals: [], copyOf: kdc, clockOffset: '+1h' });

  box = Sandbox.create();
  const users = box.writeUsers([{ login: 'filer', password: 'file-pw-1' }]);
  const config = configFile = box.writeConfig([
    section('', kdc.address, 'disabled_features = imap pop3\n'),
    section('nodefaults', kdc.address, 'disabled_features =\n'),
    section('spoofed', spoofer.address),
    section('wrongkeytab', kdc.address, '', spoofer.keytabFile),
    section('atrealm', kdc.address, 'principal = %u@REALM\n'),
    section('enterprise', kdc.address, 'principal = enterprise\n'),
    section('skewed', skewed.address),
    section('notinkeytab', kdc.address, 'validate_principal = smtp/mail.example.test\n'),
    section('down-first', `127.0.0.1:${await freePort()} ${kdc.address}`),
    `[store.file]\ntype = file\npath = ${users}\n`,
  ].join('\n'), `store_timeout = ${STORE_TIMEOUT_MS / 1000}\n`);
  const w = box.workerArg;
  const svc = (name: string, args: string): void => box.service(name, [`auth required {module} ${args} ${w}`, `account required {module} ${args} ${w}`]);
  contractServices(box);
  for (const store of ['enterprise', 'skewed', 'spoofed', 'wrongkeytab', 'notinkeytab', 'atrealm', 'down-first', 'file']) svc(store, `store=${store}`);
  worker = await box.startWorker(config);
}, 60000);

afterAll(async () => {
  await box?.cleanup();
  await kdc?.destroy();
  await spoofer?.destroy();
  await skewed?.destroy();
});

const auth = async (service: string, user: string, password: string): Promise<string | undefined> => (await pamRun(box, service, user, [password])).auth;
const account = async (service: string, user: string): Promise<string | undefined> => (await pamRun(box, service, user, [], { accountOnly: true })).account;

describe('what the KDC says', () => {
  test('an expired principal: PAM_ACCT_EXPIRED, auth (whatever the password: the KDC says it first) and account', async () => {
    expect(await auth('smtp', 'old', 'old-pw-1')).toBe('PAM_ACCT_EXPIRED');
    expect(await auth('smtp', 'old', 'wrong')).toBe('PAM_ACCT_EXPIRED');
    expect(await account('smtp', 'old')).toBe('PAM_ACCT_EXPIRED');
  });
  test('a disabled principal: PAM_PERM_DENIED, auth and account', async () => {
    expect(await auth('smtp', 'dan', 'inactive')).toBe('PAM_PERM_DENIED');
    expect(await account('smtp', 'dan')).toBe('PAM_PERM_DENIED');
  });
  test('an expired password: PAM_NEW_AUTHTOK_REQD with the right one, logged so; PAM_AUTH_ERR with a wrong one', async () => {
    const mark = syslogMark();
    expect(await auth('smtp', 'stale', 'stale-pw-1')).toBe('PAM_NEW_AUTHTOK_REQD');
    expect(moduleLines(await syslogSince(mark), 'password expired')[0]).toMatch(/must change it.*user=stale/);
    expect(await auth('smtp', 'stale', 'stale-pw-2')).toBe('PAM_AUTH_ERR');
  });
  test('a password of 512 bytes or more: PAM_AUTH_ERR, and the KDC is not asked', async () => {
    const before = kdc.log().split('\n').filter((l) => l.includes('longpw@')).length;
    expect(await auth('smtp', 'longpw', 'x'.repeat(512))).toBe('PAM_AUTH_ERR');
    expect(await auth('smtp', 'longpw', 'é'.repeat(300))).toBe('PAM_AUTH_ERR');
    expect(kdc.log().split('\n').filter((l) => l.includes('longpw@')).length).toBe(before);
    expect(await auth('smtp', 'longpw', 'long-pw-1')).toBe('PAM_SUCCESS');
  });
  test('pam-mapi explain says the KDC did not check a disabled or expired principal\'s password, not that it was right', () => {
    const explain = (user: string, password: string): string => spawnSync(process.execPath,
      [path.join(REPO_ROOT, 'dist/src/cli/main.js'), 'explain', user, '--password', '--config', configFile], { input: `${password}\n`, encoding: 'utf8' }).stdout;
    expect(explain('dan', 'inactive')).toMatch(/^store krb5: password check: found dan, password not checked, account inactive \([0-9.]+ ms\)$/m);
    expect(explain('old', 'old-pw-1')).toMatch(/^store krb5: password check: found old, password not checked, account expired \([0-9.]+ ms\)$/m);
    expect(explain('alice', 'wonderland')).toMatch(/^store krb5: password check: found alice, password right, account active/m);
  });
});

test('a KDC whose clock is an hour off: PAM_AUTHINFO_UNAVAIL, the cause logged', async () => {
  const mark = syslogMark();
  expect(await auth('skewed', 'alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
  expect(moduleLines(await syslogSince(mark), 'krb5 store')[0]).toMatch(/clocks of this host and the KDC differ/);
  expect(await account('skewed', 'alice')).toBe('PAM_SUCCESS');
});

describe('logins are data, never principal syntax', () => {
  test('alice/admin is not the admin instance of alice; alice@OTHER is no one', async () => {
    expect(await auth('smtp', 'alice/admin', 'admin-instance-pw')).toBe('PAM_USER_UNKNOWN');
    expect(await auth('smtp', `alice@${TEST_REALM}`, 'wonderland')).toBe('PAM_USER_UNKNOWN');
  });
  test('principal = %u@REALM: alice and alice@REALM are alice; another realm is unknown', async () => {
    expect(await auth('atrealm', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
    expect(await auth('atrealm', `alice@${TEST_REALM}`, 'wonderland')).toBe('PAM_SUCCESS');
    expect(await auth('atrealm', 'alice@OTHER.TEST', 'wonderland')).toBe('PAM_USER_UNKNOWN');
    expect(await auth('atrealm', `alice@${TEST_REALM.toLowerCase()}`, 'wonderland')).toBe('PAM_USER_UNKNOWN');
  });
});

test('principal = enterprise: a user principal name logs on as itself; with %u it is no one', async () => {
  expect(await auth('enterprise', 'upn@example.test', 'upn-pw-1')).toBe('PAM_SUCCESS');
  expect(await auth('enterprise', 'upn@example.test', 'upn-pw-2')).toBe('PAM_AUTH_ERR');
  expect(await auth('enterprise', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
  expect(await auth('smtp', 'upn@example.test', 'upn-pw-1')).toBe('PAM_USER_UNKNOWN');
});

describe('validation against the keytab (KDC spoofing)', () => {
  test('a KDC of the same realm that is not the real one: never a success, even with the password it knows', async () => {
    const mark = syslogMark();
    expect(await auth('spoofed', 'alice', SPOOFED)).toBe('PAM_AUTHINFO_UNAVAIL');
    expect(moduleLines(await syslogSince(mark), 'did not validate against the keytab')).toHaveLength(1);
    expect(await auth('spoofed', 'alice', 'wonderland')).toBe('PAM_AUTH_ERR');
  });
  test('a keytab whose key is not the KDC\'s: PAM_AUTHINFO_UNAVAIL with the right password', async () => {
    expect(await auth('wrongkeytab', 'alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
  });
  test('a validating principal the KDC knows but the keytab lacks: PAM_AUTHINFO_UNAVAIL, validation is not skipped', async () => {
    expect(await auth('notinkeytab', 'alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
  });
  test('a keytab removed after the start: PAM_AUTHINFO_UNAVAIL; back: success', async () => {
    const moved = `${kdc.keytabFile}.away`;
    fs.renameSync(kdc.keytabFile, moved);
    try {
      expect(await auth('smtp', 'alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
    } finally {
      fs.renameSync(moved, kdc.keytabFile);
    }
    expect(await auth('smtp', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
  });
  test('a missing keytab, or one readable by others, or by a group not the worker\'s: the worker does not start', async () => {
    const refused = async (keytab: string, why: RegExp): Promise<void> => {
      const b = Sandbox.create();
      try {
        await expect(b.startWorker(b.writeConfig(section('', kdc.address, '', keytab)))).rejects.toThrow(why);
      } finally {
        await b.cleanup();
      }
    };
    await refused(path.join(kdc.dir, 'no.keytab'), /keytab .*no\.keytab: .*no such file/i);
    const loose = path.join(kdc.dir, 'loose.keytab');
    fs.copyFileSync(kdc.keytabFile, loose);
    fs.chmodSync(loose, 0o644);
    await refused(loose, /keytab .*loose\.keytab .*readable by (group or )?others \(mode 0644\).*chmod 600/);
    fs.chmodSync(loose, 0o640);
    fs.chownSync(loose, 0, 4242);
    await refused(loose, /keytab .*loose\.keytab .*readable by others \(mode 0640\)/);
  });
});

test('a worker run as its own user that cannot read the keytab (root\'s, 0600) does not start', async () => {
  const b = Sandbox.create();
  try {
    const keytab = path.join(b.dir, 'root.keytab');
    fs.copyFileSync(kdc.keytabFile, keytab);
    fs.chmodSync(keytab, 0o600);
    const config = b.writeConfig(section('', kdc.address, '', keytab));
    fs.chownSync(config, DAEMON.uid, DAEMON.gid);
    await expect(startWorkerAs(DAEMON, config, b.socketPath)).rejects.toThrow(/keytab .*root\.keytab is not readable by the worker \(uid 1\).*chmod 640/);
  } finally {
    await b.cleanup();
  }
});

describe('failover and budgets', () => {
  test('the first KDC down: the second answers the same request', async () => {
    expect(await auth('down-first', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
    expect(await auth('down-first', 'alice', 'wonder')).toBe('PAM_AUTH_ERR');
    expect(worker.output).toMatch(/store\.host_down .*host=127\.0\.0\.1:[0-9]+/);
  });
  test('a paused KDC holds Kerberos checks, not the other stores of the worker', async () => {
    await kdc.pause();
    try {
      const order: string[] = [];
      const kerberos = Promise.all([1, 2, 3, 4].map(async () => {
        const r = await auth('smtp', 'alice', 'wonderland');
        order.push('krb5');
        return r;
      }));
      const file = auth('file', 'filer', 'file-pw-1').then((r) => { order.push('file'); return r; });
      expect(await file).toBe('PAM_SUCCESS');
      expect(await kerberos).toEqual(['PAM_AUTHINFO_UNAVAIL', 'PAM_AUTHINFO_UNAVAIL', 'PAM_AUTHINFO_UNAVAIL', 'PAM_AUTHINFO_UNAVAIL']);
      expect(order[0]).toBe('file');
    } finally {
      kdc.resume();
    }
    expect(await auth('smtp', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
  });
});

storeContract(() => ({
  box,
  worker,
  secrets: [SPOOFED, ...PRINCIPALS.map((p) => p.password)],
  server: {
    handle: kdc,
    downLog: 'no KDC answered',
    downDetail: new RegExp(kdc.address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    downWithinMs: STORE_TIMEOUT_MS,
    pausedWithinMs: STORE_TIMEOUT_MS + 1500,
    alsoDown: ['down-first'],
    startPair: async () => {
      const first = await PrivateKdc.start({ port: await freePort(), principals: [{ name: 'whereami', password: 'on-first' }] });
      const second = await PrivateKdc.start({ port: await freePort(), principals: [], copyOf: first });
      second.setPassword('whereami', 'on-second');
      return {
        section: section('', `${first.address} ${second.address}`, '', first.keytabFile),
        first,
        firstLabel: first.address,
        destroy: async () => {
          await first.destroy();
          await second.destroy();
        },
      };
    },
  },
  // MIT krb5kdc 1.20 refuses the service ticket of a principal whose name holds a backslash
  // (its PAC check compares the name in two spellings: "KDC can't fulfill requested option").
}), { server: true, secretFile: false, features: false, caseless: false, stateBeforePassword: true, unservedLogins: ['back\\slash'] });
