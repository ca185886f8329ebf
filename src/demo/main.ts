// npm run demo: real PAM transactions through the built pam_mapi.so, against a worker on a
// private socket with a file store written here, with the field's smtp and imap stanzas.
import { runPamTransaction } from '../pam/client';
import { createKopanoDatabase, insertKopanoUser } from '../sandbox/kopano-db';
import { PrivateMariaDB } from '../sandbox/mariadb';
import { PrivateKdc, TEST_REALM } from '../sandbox/kdc';
import { freePort } from '../sandbox/ports';
import { Sandbox, SandboxUser } from '../sandbox/sandbox';

const USERS: SandboxUser[] = [
  { login: 'alice', password: 'wonderland' },
  { login: 'bob', password: 'builder', enabled: ['imap'] },
  { login: 'carol', password: 'christmas', enabled: ['imap', 'pop3'], disabled: [] },
  { login: 'dave', password: 'locked-out', enabled: ['imap'], locked: true },
];

const KRB5_USERS: SandboxUser[] = [...USERS, { login: 'erin', password: 'long-gone' }, { login: 'frank', password: 'stale-pass' }];

const KRB5_CASES: Array<[string, string, string, string]> = [
  ['alice', 'smtp', 'wonderland', 'PAM_SUCCESS'],
  ['alice', 'smtp', 'wrong', 'PAM_AUTH_ERR'],
  ['bob', 'imap', 'builder', 'PAM_SUCCESS'],
  ['dave', 'smtp', 'locked-out', 'PAM_PERM_DENIED'],
  ['erin', 'smtp', 'long-gone', 'PAM_ACCT_EXPIRED'],
  ['frank', 'smtp', 'stale-pass', 'PAM_NEW_AUTHTOK_REQD'],
  ['mallory', 'smtp', 'guess', 'PAM_USER_UNKNOWN'],
  ['alice', 'smtp', '', 'PAM_AUTH_ERR'],
];

interface Row {
  user: string;
  service: string;
  password: string;
  auth: string;
  account: string;
  expect: string;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    // The module talks only to a worker run by root (socket and SO_PEERCRED), so that a process
    // squatting the socket path collects no password; as another user the demo would show only no's.
    console.error('npm run demo: run it as root: pam_mapi.so only talks to a worker that runs as root.');
    process.exit(1);
  }
  const storeArg = process.argv.indexOf('--store');
  const kind = storeArg >= 0 ? process.argv[storeArg + 1] : 'file';
  if (kind !== 'file' && kind !== 'zarafa' && kind !== 'krb5') {
    console.error('usage: npm run demo [-- --store file|zarafa|krb5]');
    process.exit(2);
  }
  const box = Sandbox.create('pam_mapi-demo-');
  let db: PrivateMariaDB | undefined;
  let kdc: PrivateKdc | undefined;
  let failed = false;
  // Kerberos keeps no features and compares names by case: its own users and rows.
  const users = kind === 'krb5' ? KRB5_USERS : USERS;
  try {
    let section: string;
    if (kind === 'zarafa') {
      // A private MariaDB with Kopano's user tables, users stored the way Kopano stores them.
      db = await PrivateMariaDB.start();
      await createKopanoDatabase(db, 'kopano');
      for (const u of USERS) {
        await insertKopanoUser(db, 'kopano', { login: u.login, password: u.password, enabled: u.enabled, disabled: u.disabled, objectclass: u.locked ? 'NONACTIVE_USER' : 'ACTIVE_USER' });
      }
      await db.createReader('kopano', 'demo-db-password', 'kopano');
      section = `[store]\ntype = zarafa\nsocket = ${db.socketPath}\nuser = kopano\npassword = demo-db-password\ndatabase = kopano\n`;
    } else if (kind === 'krb5') {
      // A private MIT KDC of the realm MAIL.TEST; the mail host's key in its keytab.
      kdc = await PrivateKdc.start({ port: await freePort(), principals: [
        ...USERS.map((u) => ({ name: u.login, password: u.password, options: u.locked ? ['-allow_tix'] : [] })),
        { name: 'erin', password: 'long-gone', options: ['-expire', '2001-01-01'] },
        { name: 'frank', password: 'stale-pass', options: ['-pwexpire', '2001-01-01'] },
      ] });
      section = `[store]\ntype = krb5\nrealm = ${TEST_REALM}\nkdc = ${kdc.address}\nkeytab = ${kdc.keytabFile}\n`;
    } else {
      box.writeUsers(USERS);
      section = `[store]\ntype = file\npath = ${box.dir}/users\ndisabled_features = imap pop3\n`;
    }
    const config = box.writeConfig(section);
    // /etc/pam.d/smtp and /etc/pam.d/imap as the original pam_mapi documented them.
    box.service('smtp', [
      `auth    required {module} try_first_pass ${box.workerArg}`,
      `account required {module} ${box.workerArg}`,
    ]);
    box.service('imap', [
      `auth    required {module} try_first_pass service=imap ${box.workerArg}`,
      `account required {module} ${box.workerArg}`,
    ]);
    const worker = await box.startWorker(config);

    const cases: Array<[string, string, string, string]> = kind === 'krb5' ? KRB5_CASES : [
      // user, service, password, expected outcome
      ['alice', 'smtp', 'wonderland', 'PAM_SUCCESS'],
      ['alice', 'smtp', 'wrong', 'PAM_AUTH_ERR'],
      ['alice', 'imap', 'wonderland', 'PAM_PERM_DENIED'],
      ['bob', 'imap', 'builder', 'PAM_SUCCESS'],
      ['BOB', 'smtp', 'builder', 'PAM_SUCCESS'],
      ['carol', 'imap', 'christmas', 'PAM_SUCCESS'],
      ['dave', 'smtp', 'locked-out', 'PAM_PERM_DENIED'],
      ['mallory', 'smtp', 'guess', 'PAM_USER_UNKNOWN'],
      ['alice', 'smtp', '', 'PAM_AUTH_ERR'],
    ];
    const rows: Row[] = [];
    for (const [user, service, password, expect] of cases) {
      const r = await runPamTransaction({
        service, user, confDir: box.pamDir, answers: [password], steps: ['authenticate', 'acct_mgmt'],
        items: { rhost: '192.0.2.10' }, recordFailDelay: true,
      });
      const auth = r.steps[0]?.name ?? r.startName;
      const account = r.steps[1]?.name ?? '-';
      const final = r.steps[r.steps.length - 1]?.name ?? r.startName;
      if (final !== expect) failed = true;
      rows.push({
        user, service,
        password: password === '' ? '(empty)' : users.some((u) => u.login.toLowerCase() === user.toLowerCase() && u.password === password) ? 'right' : 'wrong',
        auth, account, expect: final === expect ? 'as expected' : `EXPECTED ${expect}`,
      });
    }

    // The worker gone: the module must say no, never yes.
    await worker.stop();
    const down = await runPamTransaction({ service: 'smtp', user: 'alice', confDir: box.pamDir, answers: ['wonderland'], steps: ['authenticate'], recordFailDelay: true });
    const downName = down.steps[0]?.name ?? down.startName;
    if (downName !== 'PAM_AUTHINFO_UNAVAIL') failed = true;
    rows.push({ user: 'alice', service: 'smtp', password: 'right (worker stopped)', auth: downName, account: '-', expect: downName === 'PAM_AUTHINFO_UNAVAIL' ? 'as expected' : 'EXPECTED PAM_AUTHINFO_UNAVAIL' });

    printTable(rows);
    console.log(kind === 'zarafa'
      ? `\nstore: zarafa, Kopano's tables in a private MariaDB (${db?.socketPath}); dave is a non-active user`
      : kind === 'krb5'
        ? `\nstore: krb5, a private MIT KDC of ${TEST_REALM} at ${kdc?.address}, tickets validated against its keytab; dave is disabled, erin expired, frank's password expired`
        : `\nstore: file ${box.dir}/users (dave's hash starts with "!": locked)`);
    console.log(`pam.d: ${box.pamDir}   module: build/Release/pam_mapi.so`);
    console.log(kind === 'krb5'
      ? 'stanzas:  smtp = try_first_pass;  imap = try_first_pass service=imap (Kerberos keeps no features: imap is on for all)'
      : 'stanzas:  smtp = try_first_pass;  imap = try_first_pass service=imap (imap is off by default, as in Kopano)');
  } finally {
    await box.cleanup();
    await db?.destroy();
    await kdc?.destroy();
  }
  if (failed) {
    console.error('\ndemo: some outcomes were not as expected');
    process.exit(1);
  }
}

function printTable(rows: Row[]): void {
  const cols: Array<keyof Row> = ['user', 'service', 'password', 'auth', 'account', 'expect'];
  const width = (c: keyof Row): number => Math.max(c.length, ...rows.map((r) => r[c].length));
  const line = (cells: string[]): string => cells.map((v, i) => v.padEnd(width(cols[i]))).join('  ');
  console.log(line(cols.map((c) => c.toUpperCase())));
  console.log(line(cols.map((c) => '-'.repeat(width(c)))));
  for (const r of rows) console.log(line(cols.map((c) => r[c])));
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
