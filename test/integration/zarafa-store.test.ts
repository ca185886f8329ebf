// The Zarafa/Kopano store against a private MariaDB holding Kopano's user tables, through real
// libpam, the built module and a real worker: the store contract (test/helpers/store-contract.ts)
// and what only this store does (Kopano's own rules, the login index, server.cfg).
import { Sandbox, WorkerProcess } from '../../src/sandbox/sandbox';
import { PrivateMariaDB } from '../../src/sandbox/mariadb';
import { createKopanoDatabase, insertKopanoUser, KopanoUser } from '../../src/sandbox/kopano-db';
import { pamRun } from '../helpers/pam';
import { freePort } from '../../src/sandbox/ports';
import { CONTRACT_USERS, contractServices, storeContract } from '../helpers/store-contract';

const DB = 'kopano';
const USERS: KopanoUser[] = [
  ...CONTRACT_USERS.map((u) => ({ login: u.login, password: u.password, enabled: u.enabled, disabled: u.disabled, objectclass: u.active === false ? 'NONACTIVE_USER' as const : undefined })),
  { login: 'room1', password: 'booked', objectclass: 'NONACTIVE_ROOM' },
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
  contractServices(box);
  box.service('fromcfg-pop3', [`auth required {module} service=pop3 store=fromcfg ${w}`]);
  box.service('fromcfg-imap', [`auth required {module} service=imap store=fromcfg ${w}`]);
  worker = await box.startWorker(config);
}, 60000);

afterAll(async () => {
  await box?.cleanup();
  await db?.destroy();
});

const auth = async (service: string, user: string, password: string): Promise<string | undefined> => (await pamRun(box, service, user, [password])).auth;

storeContract(() => ({
  box,
  worker,
  secrets: ['db;secret#1', ...USERS.map((u) => u.password)],
  secretFile: {
    section: (file) => `[store]\ntype = zarafa\nsocket = ${db.socketPath}\npassword_file = ${file}\n`,
    refusal: /password file .*store.secret holds a password and is readable by group or others \(mode 0644\)/,
  },
  server: {
    handle: db,
    downLog: 'no database host answered',
    downDetail: /mysqld.sock/,
    downWithinMs: 2000 + 3000, // store_timeout 2 s plus a margin
    pausedWithinMs: 2000 + 3000,
    alsoDown: [],
    startPair: async () => {
      const [p1, p2] = [await freePort(), await freePort()];
      const first = await PrivateMariaDB.start({ port: p1 });
      const second = await PrivateMariaDB.start({ port: p2 });
      for (const [server, pw] of [[first, 'on-first'], [second, 'on-second']] as const) {
        await createKopanoDatabase(server, DB);
        await insertKopanoUser(server, DB, { login: 'whereami', password: pw });
        await server.createReader('kopano', 'pw', DB);
      }
      return {
        section: `[store]\ntype = zarafa\nhost = 127.0.0.1:${p1} 127.0.0.1:${p2}\nuser = kopano\npassword = pw\ndatabase = ${DB}\n`,
        first,
        firstLabel: `127.0.0.1:${p1}`,
        destroy: async () => {
          await first.destroy();
          await second.destroy();
        },
      };
    },
  },
}), { server: true, secretFile: true });

describe('logons as Kopano checks them', () => {
  test('a room: PAM_PERM_DENIED with the right password', async () => {
    expect(await auth('smtp', 'room1', 'booked')).toBe('PAM_PERM_DENIED');
  });
  test('accents are not case', async () => {
    // MariaDB's collation finds "jurgen" = "jürgen"; Kopano's strcasecmp does not, nor do we.
    expect(await auth('smtp', 'jurgen', 'pässwörd€ ünd 漢字')).toBe('PAM_USER_UNKNOWN');
    expect(await auth('smtp', 'JÜRGEN', 'pässwörd€ ünd 漢字')).toBe('PAM_USER_UNKNOWN');
  });
  test('SQL metacharacters in names and passwords left the tables as they were', async () => {
    expect(await auth('smtp', "alice' OR '1'='1", 'x')).toBe('PAM_USER_UNKNOWN');
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
  test('server_cfg: database settings and disabled_features come from Kopano\'s server.cfg', async () => {
    // That server.cfg disables only imap: pop3 is on for alice there.
    expect(await auth('fromcfg-pop3', 'alice', 'wonderland')).toBe('PAM_SUCCESS');
    expect(await auth('fromcfg-imap', 'alice', 'wonderland')).toBe('PAM_PERM_DENIED');
    expect(await auth('fromcfg-imap', 'bob', 'builder')).toBe('PAM_SUCCESS');
  });
});

test('a server.cfg with another user_plugin is refused, naming the file', async () => {
  const box2 = Sandbox.create();
  try {
    const cfg = box2.file('server.cfg', 'user_plugin = unix\n', 0o640);
    const config = box2.writeConfig(`[store]\ntype = zarafa\nserver_cfg = ${cfg}\n`);
    await expect(box2.startWorker(config)).rejects.toThrow(new RegExp(`${cfg}: user_plugin = unix: .*pam_unix`));
  } finally {
    await box2.cleanup();
  }
});
