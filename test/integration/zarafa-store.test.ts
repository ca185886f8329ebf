// The Zarafa/Kopano store against a private MariaDB holding Kopano's user tables, through real
// libpam, the built module and a real worker.
import { Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { PrivateMariaDB } from '../../src/sandbox/mariadb';
import { createKopanoDatabase, insertKopanoUser, KopanoUser } from '../../src/sandbox/kopano-db';
import { pamRun } from '../helpers/pam';
import { freePort } from '../../src/sandbox/ports';
import { moduleLines, syslogMark, syslogSince } from '../helpers/syslog';

const DB = 'kopano';
const USERS: KopanoUser[] = [
  { login: 'alice', password: 'wonderland' },
  { login: 'bob', password: 'builder', enabled: ['imap'] },
  { login: 'carol', password: 'christmas', enabled: ['pop3'], disabled: ['imap'] },
  { login: 'eve', password: 'no-pop', disabled: ['pop3'] },
  { login: 'dan', password: 'inactive', objectclass: 'NONACTIVE_USER' },
  { login: 'room1', password: 'booked', objectclass: 'NONACTIVE_ROOM' },
  { login: 'MixedCase', password: 'cases' },
  { login: 'jürgen', password: 'pässwörd€ ünd 漢字' },
  { login: "o'brien", password: "'; DROP TABLE object; --" },
  { login: 'percent%_x', password: 'p%_\\"' },
  { login: 'renamer', password: 'renamer-pw' },
  { login: 'goner', password: 'goner-pw' },
  { login: 'changer', password: 'changer-old' },
];

let db: PrivateMariaDB;
let box: Sandbox;
let worker: WorkerProcess;

beforeAll(async () => {
  db = await PrivateMariaDB.start();
  await createKopanoDatabase(db, DB);
  for (const u of USERS) await insertKopanoUser(db, DB, u);
  await db.createReader('kopano', 'db;secret#1', DB);

  box = Sandbox.create();
  const secret = box.file('db.secret', 'db;secret#1\n', 0o600);
  const serverCfg = box.file('server.cfg', `# Kopano server.cfg (excerpt)\nuser_plugin = db\nmysql_host = localhost\nmysql_socket = ${db.socketPath}\nmysql_user = kopano\nmysql_password = db;secret#1\nmysql_database = ${DB}\ndisabled_features = imap\n`, 0o640);
  const config = box.writeConfig(`[store]
type = zarafa
socket = ${db.socketPath}
user = kopano
password_file = ${secret}
database = ${DB}
unknown_login_cache = 2

[store.nodefaults]
type = zarafa
socket = ${db.socketPath}
user = kopano
password = "db;secret#1"
database = ${DB}
disabled_features =

[store.fromcfg]
type = zarafa
server_cfg = ${serverCfg}
`, 'store_timeout = 2\n');
  const w = box.workerArg;
  box.service('smtp', [`auth required {module} try_first_pass ${w}`, `account required {module} ${w}`]);
  box.service('imap', [`auth required {module} try_first_pass service=imap ${w}`, `account required {module} service=imap ${w}`]);
  box.service('pop3', [`auth required {module} service=pop3 store=nodefaults ${w}`]);
  box.service('popimap', [`auth required {module} service=pop3|imap ${w}`]);
  box.service('fromcfg-pop3', [`auth required {module} service=pop3 store=fromcfg ${w}`]);
  box.service('fromcfg-imap', [`auth required {module} service=imap store=fromcfg ${w}`]);
  worker = await box.startWorker(config);
}, 60000);

afterAll(async () => {
  await box?.cleanup();
  await db?.destroy();
});

const auth = async (service: string, user: string, password: string): Promise<string | undefined> => (await pamRun(box, service, user, [password])).auth;

describe('logons as Kopano checks them', () => {
  test('right and wrong password', async () => {
    expect((await pamRun(box, 'smtp', 'alice', ['wonderland'], { account: true })).account).toBe('PAM_SUCCESS');
    expect(await auth('smtp', 'alice', 'Wonderland')).toBe('PAM_AUTH_ERR');
  });
  test('login names without regard to ASCII case', async () => {
    expect(await auth('smtp', 'ALICE', 'wonderland')).toBe('PAM_SUCCESS');
    expect(await auth('smtp', 'mixedcase', 'cases')).toBe('PAM_SUCCESS');
    expect(await auth('smtp', 'MIXEDCASE', 'cases')).toBe('PAM_SUCCESS');
  });
  test('a non-active user and a room: PAM_PERM_DENIED with the right password, PAM_AUTH_ERR with a wrong one', async () => {
    expect(await auth('smtp', 'dan', 'inactive')).toBe('PAM_PERM_DENIED');
    expect(await auth('smtp', 'dan', 'nope')).toBe('PAM_AUTH_ERR');
    expect(await auth('smtp', 'room1', 'booked')).toBe('PAM_PERM_DENIED');
    expect((await pamRun(box, 'smtp', 'dan', [], { accountOnly: true })).account).toBe('PAM_PERM_DENIED');
  });
  test('unknown user: PAM_USER_UNKNOWN, auth and account', async () => {
    expect(await auth('smtp', 'mallory', 'x')).toBe('PAM_USER_UNKNOWN');
    expect((await pamRun(box, 'smtp', 'mallory', [], { accountOnly: true })).account).toBe('PAM_USER_UNKNOWN');
  });
  test('UTF-8 login and password; accents are not case', async () => {
    expect(await auth('smtp', 'jürgen', 'pässwörd€ ünd 漢字')).toBe('PAM_SUCCESS');
    expect(await auth('smtp', 'jürgen', 'passwörd€ ünd 漢字')).toBe('PAM_AUTH_ERR');
    // MariaDB's collation finds "jurgen" = "jürgen"; Kopano's strcasecmp does not, nor do we.
    expect(await auth('smtp', 'jurgen', 'pässwörd€ ünd 漢字')).toBe('PAM_USER_UNKNOWN');
    expect(await auth('smtp', 'JÜRGEN', 'pässwörd€ ünd 漢字')).toBe('PAM_USER_UNKNOWN');
  });
  test('SQL metacharacters in names and passwords are data, never SQL', async () => {
    expect(await auth('smtp', "o'brien", "'; DROP TABLE object; --")).toBe('PAM_SUCCESS');
    expect(await auth('smtp', 'percent%_x', 'p%_\\"')).toBe('PAM_SUCCESS');
    expect(await auth('smtp', "alice' OR '1'='1", 'x')).toBe('PAM_USER_UNKNOWN');
    expect(await auth('smtp', 'percent%%', 'p%_\\"')).toBe('PAM_USER_UNKNOWN');
    expect(await auth('smtp', 'alice', "' OR ''='")).toBe('PAM_AUTH_ERR');
    expect(await db.sql(`SELECT COUNT(*) AS n FROM ${DB}.object WHERE id <= ?`, [USERS.length])).toEqual([{ n: USERS.length }]);
  });
});

describe('the login index: fast, and never stale', () => {
  const idOf = async (login: string): Promise<number> =>
    ((await db.sql(`SELECT objectid FROM ${DB}.objectproperty WHERE propname = 'loginname' AND value = ?`, [login])) as Array<{ objectid: number }>)[0].objectid;
  const warm = async (): Promise<void> => {
    // The index loads in the background after the first request.
    await auth('smtp', 'alice', 'wonderland');
    await new Promise((r) => setTimeout(r, 300));
  };

  test('an indexed login is answered by primary key, not by Kopano\'s scan of login names', async () => {
    await warm();
    await db.sql("SET GLOBAL log_output = 'TABLE'; SET GLOBAL general_log = 1; TRUNCATE mysql.general_log");
    try {
      expect(await auth('smtp', 'bob', 'builder')).toBe('PAM_SUCCESS');
    } finally {
      await db.sql('SET GLOBAL general_log = 0');
    }
    const ran = ((await db.sql("SELECT CAST(argument AS CHAR) AS q FROM mysql.general_log WHERE command_type = 'Execute'")) as Array<{ q: string }>).map((r) => r.q);
    // (The general log shows "?" for a statement prepared earlier on the same connection.)
    expect(ran.some((q) => /FROM object WHERE id = (\d+|\?) AND .*UNION ALL/s.test(q))).toBe(true);
    expect(ran.some((q) => /lp\.value = /.test(q))).toBe(false);
  });
  test('a renamed user is not served under the old name, and is under the new one', async () => {
    await warm();
    expect(await auth('smtp', 'renamer', 'renamer-pw')).toBe('PAM_SUCCESS');
    await db.sql(`UPDATE ${DB}.objectproperty SET value = 'renamed' WHERE objectid = ? AND propname = 'loginname'`, [await idOf('renamer')]);
    expect(await auth('smtp', 'renamer', 'renamer-pw')).toBe('PAM_USER_UNKNOWN');
    expect(await auth('smtp', 'renamed', 'renamer-pw')).toBe('PAM_SUCCESS');
  });
  test('a deleted user is unknown at once; a changed password and a deactivated account take effect at once', async () => {
    await warm();
    expect(await auth('smtp', 'goner', 'goner-pw')).toBe('PAM_SUCCESS');
    const gone = await idOf('goner');
    await db.sql(`DELETE FROM ${DB}.objectproperty WHERE objectid = ?; DELETE FROM ${DB}.object WHERE id = ?`, [gone, gone]);
    expect(await auth('smtp', 'goner', 'goner-pw')).toBe('PAM_USER_UNKNOWN');

    expect(await auth('smtp', 'changer', 'changer-old')).toBe('PAM_SUCCESS');
    const id = await idOf('changer');
    // printf '00000000wonderland' | md5sum
    await db.sql(`UPDATE ${DB}.objectproperty SET value = '000000003fd4ccb771c545e59c383ce63d5afcd2' WHERE objectid = ? AND propname = 'password'`, [id]);
    expect(await auth('smtp', 'changer', 'changer-old')).toBe('PAM_AUTH_ERR');
    expect(await auth('smtp', 'changer', 'wonderland')).toBe('PAM_SUCCESS');
    await db.sql(`UPDATE ${DB}.object SET objectclass = 65538 WHERE id = ?`, [id]);
    expect(await auth('smtp', 'changer', 'wonderland')).toBe('PAM_PERM_DENIED');
  });
  test('a new user is found at once, also under a name that was unknown a moment before', async () => {
    await warm();
    await insertKopanoUser(db, DB, { login: 'newcomer', password: 'new-pw-1' });
    expect(await auth('smtp', 'newcomer', 'new-pw-1')).toBe('PAM_SUCCESS');
    expect(await auth('smtp', 'latecomer', 'late-pw-1')).toBe('PAM_USER_UNKNOWN');
    await insertKopanoUser(db, DB, { login: 'latecomer', password: 'late-pw-1' });
    // The index reads the objects created since it last looked (test/integration/zarafa-unknown-name.test.ts).
    expect(await auth('smtp', 'latecomer', 'late-pw-1')).toBe('PAM_SUCCESS');
  });
});

describe('features', () => {
  test('imap is off by default (Kopano default disabled_features) and on when the user enables it', async () => {
    expect(await auth('imap', 'alice', 'wonderland')).toBe('PAM_PERM_DENIED');
    expect((await pamRun(box, 'imap', 'alice', [], { accountOnly: true })).account).toBe('PAM_PERM_DENIED');
    expect(await auth('imap', 'bob', 'builder')).toBe('PAM_SUCCESS');
    expect(await auth('imap', 'carol', 'christmas')).toBe('PAM_PERM_DENIED');
  });
  test('explicitly disabled pop3 is denied where pop3 is on by default', async () => {
    expect(await auth('pop3', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
    expect(await auth('pop3', 'eve', 'no-pop')).toBe('PAM_PERM_DENIED');
  });
  test('service=pop3|imap admits either', async () => {
    expect(await auth('popimap', 'carol', 'christmas')).toBe('PAM_SUCCESS');
    expect(await auth('popimap', 'bob', 'builder')).toBe('PAM_SUCCESS');
    expect(await auth('popimap', 'alice', 'wonderland')).toBe('PAM_PERM_DENIED');
  });
  test('server_cfg: database settings and disabled_features come from Kopano\'s server.cfg', async () => {
    // That server.cfg disables only imap: pop3 is on for alice there.
    expect(await auth('fromcfg-pop3', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
    expect(await auth('fromcfg-imap', 'alice', 'wonderland')).toBe('PAM_PERM_DENIED');
    expect(await auth('fromcfg-imap', 'bob', 'builder')).toBe('PAM_SUCCESS');
  });
});

test('32 concurrent transactions, right and wrong passwords: every answer right', async () => {
  const runs = Array.from({ length: 32 }, (_, i) => {
    const u = USERS[i % 4];
    const right = i % 3 !== 0;
    return pamRun(box, 'smtp', u.login, [right ? u.password : `${u.password}-wrong`]).then((r) => [r.auth, right ? 'PAM_SUCCESS' : 'PAM_AUTH_ERR']);
  });
  for (const [got, want] of await Promise.all(runs)) expect(got).toBe(want);
});

test('a server.cfg with another user_plugin is refused, naming the file', async () => {
  const box2 = Sandbox.create();
  try {
    const cfg = box2.file('server.cfg', 'user_plugin = ldap\n', 0o640);
    const config = box2.writeConfig(`[store]\ntype = zarafa\nserver_cfg = ${cfg}\n`);
    await expect(box2.startWorker(config)).rejects.toThrow(new RegExp(`${cfg}: user_plugin = ldap`));
  } finally {
    await box2.cleanup();
  }
});

describe('when the database fails', () => {
  test('stopped: PAM_AUTHINFO_UNAVAIL at once, with the cause logged; restarted: success, no worker restart', async () => {
    await db.stop();
    try {
      const mark = syslogMark();
      const started = Date.now();
      expect(await auth('smtp', 'alice', 'wonderland')).toBe('PAM_AUTHINFO_UNAVAIL');
      expect((await pamRun(box, 'smtp', 'alice', [], { accountOnly: true })).account).toBe('PAM_AUTHINFO_UNAVAIL');
      expect(Date.now() - started).toBeLessThan(2000 + 3000); // store_timeout 2 s plus a margin
      expect(moduleLines(await syslogSince(mark), 'no database host answered')[0]).toMatch(/mysqld.sock/);
    } finally {
      await db.launch();
    }
    expect(await auth('smtp', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
  });

  test('paused (SIGSTOP): PAM_AUTHINFO_UNAVAIL within store_timeout; resumed: success', async () => {
    db.pause();
    try {
      const started = Date.now();
      const answers = await Promise.all([auth('smtp', 'alice', 'wonderland'), auth('smtp', 'bob', 'builder')]);
      expect(answers).toEqual(['PAM_AUTHINFO_UNAVAIL', 'PAM_AUTHINFO_UNAVAIL']);
      expect(Date.now() - started).toBeLessThan(2000 + 3000);
    } finally {
      db.resume();
    }
    expect(await auth('smtp', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
    expect(worker.output).not.toMatch(/wonderland|builder/);
  });
});

test('two database hosts: the second serves while the first is down, the first again when it returns', async () => {
  const [p1, p2] = [await freePort(), await freePort()];
  const first = await PrivateMariaDB.start({ port: p1 });
  const second = await PrivateMariaDB.start({ port: p2 });
  const box2 = Sandbox.create();
  try {
    for (const [server, pw] of [[first, 'on-first'], [second, 'on-second']] as const) {
      await createKopanoDatabase(server, DB);
      await insertKopanoUser(server, DB, { login: 'whereami', password: pw });
      await server.createReader('kopano', 'pw', DB);
    }
    const config = box2.writeConfig(`[store]\ntype = zarafa\nhost = 127.0.0.1:${p1} 127.0.0.1:${p2}\nuser = kopano\npassword = pw\ndatabase = ${DB}\n`, 'store_timeout = 2\n');
    box2.service('smtp', [`auth required {module} ${box2.workerArg}`]);
    const w2 = await box2.startWorker(config);
    const where = async (): Promise<string> => {
      if ((await pamRun(box2, 'smtp', 'whereami', ['on-first'])).auth === 'PAM_SUCCESS') return 'first';
      if ((await pamRun(box2, 'smtp', 'whereami', ['on-second'])).auth === 'PAM_SUCCESS') return 'second';
      return 'none';
    };
    expect(await where()).toBe('first');
    await first.stop();
    expect(await where()).toBe('second');
    expect(w2.output).toMatch(new RegExp(`store.host_down .*host=127.0.0.1:${p1}`));
    await first.launch();
    await new Promise((r) => setTimeout(r, 2200)); // the down host is retried after 2 s
    expect(await where()).toBe('first');
    expect(w2.output).toMatch(new RegExp(`store.host_back .*host=127.0.0.1:${p1}`));
    // A first host that hangs instead of refusing: the second still answers the same request.
    first.pause();
    try {
      expect((await pamRun(box2, 'smtp', 'whereami', ['on-second'])).auth).toBe('PAM_SUCCESS');
    } finally {
      first.resume();
    }
  } finally {
    await box2.cleanup();
    await first.destroy();
    await second.destroy();
  }
}, 60000);

test('a database password file readable by others is refused, like an ssh key', async () => {
  const box2 = Sandbox.create();
  try {
    const loose = box2.file('db.secret', 'pw\n', 0o644);
    const config = box2.writeConfig(`[store]\ntype = zarafa\nsocket = ${db.socketPath}\npassword_file = ${loose}\n`);
    await expect(box2.startWorker(config)).rejects.toThrow(/password file .*db.secret holds a password and is readable by group or others \(mode 0644\)/);
  } finally {
    await box2.cleanup();
  }
});
