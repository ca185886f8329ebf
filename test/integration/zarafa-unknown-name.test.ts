// An unknown name through the zarafa store costs what a known one does: it is answered from the
// login index and a primary-key read of the objects created since, never by Kopano's query that
// reads every login name (which told an attacker which names exist, and made a flood of random
// names scan the database). The index stays honest: a new user is found by the next request, a
// renamed one within login_index_refresh, and neither a renamed nor a deleted user is served
// under the old name. Real MariaDB, real libpam, the built module and a real worker.
import { createKopanoDatabase, insertKopanoUser } from '../../src/sandbox/kopano-db';
import { PrivateMariaDB } from '../../src/sandbox/mariadb';
import { Sandbox } from '../../src/sandbox/sandbox';
import { pamRun } from '../helpers/pam';

const DB = 'kopano';
/** Users besides the named ones: Kopano's query reads at least this many rows for any name. */
const FILLERS = 5000;
const READS = ['Handler_read_rnd_next', 'Handler_read_next', 'Handler_read_key'];

let db: PrivateMariaDB;
let box: Sandbox;

const section = (name: string, extra = ''): string =>
  `[${name}]\ntype = zarafa\nsocket = ${db.socketPath}\nuser = kopano\npassword = reader-pw\ndatabase = ${DB}\n${extra}`;

beforeAll(async () => {
  db = await PrivateMariaDB.start();
  await createKopanoDatabase(db, DB);
  for (const login of ['alice', 'renamee', 'goner']) await insertKopanoUser(db, DB, { login, password: `${login}-pw` });
  const objects: unknown[][] = [];
  const props: unknown[][] = [];
  for (let k = 0; k < FILLERS; k++) {
    const id = 1000 + k;
    objects.push([id, Buffer.from(`filler:${k}`), 0x10001]);
    props.push([id, 'loginname', `filler${k}`], [id, 'password', '00000000ffffffffffffffffffffffff']);
  }
  await db.sql(`INSERT INTO ${DB}.object (id, externid, objectclass) VALUES ?; INSERT INTO ${DB}.objectproperty (objectid, propname, value) VALUES ?`, [objects, props]);
  await db.createReader('kopano', 'reader-pw', DB);
  box = Sandbox.create();
  box.service('smtp', [`auth required {module} ${box.workerArg}`]);
  await box.startWorker(box.writeConfig(section('store'), 'store_timeout = 5\n'));
}, 60000);

afterAll(async () => {
  await box?.cleanup();
  await db?.destroy();
});

const auth = async (b: Sandbox, service: string, user: string, password: string): Promise<string | undefined> => (await pamRun(b, service, user, [password])).auth;

/** The statements the worker ran while `f` ran, from MariaDB's general log. */
async function statements(f: () => Promise<void>): Promise<string[]> {
  await db.sql("SET GLOBAL log_output = 'TABLE'; SET GLOBAL general_log = 1; TRUNCATE mysql.general_log");
  try {
    await f();
  } finally {
    await db.sql('SET GLOBAL general_log = 0');
  }
  return ((await db.sql("SELECT CAST(argument AS CHAR) AS q FROM mysql.general_log WHERE command_type IN ('Execute', 'Query')")) as Array<{ q: string }>).map((r) => r.q);
}

/** Rows MariaDB read (by scan, range and key) per request while `f` made `requests` requests. */
async function rowsPerRequest(requests: number, f: () => Promise<void>): Promise<number> {
  const read = async (): Promise<number> => {
    const rows = (await db.sql(`SHOW GLOBAL STATUS WHERE Variable_name IN (${READS.map(() => '?').join(',')})`, READS)) as Array<{ Value: string }>;
    return rows.reduce((a, r) => a + Number(r.Value), 0);
  };
  const before = await read();
  await f();
  return ((await read()) - before) / requests;
}

test('an unknown name never runs Kopano\'s query, and reads no more rows than a known name with a wrong password', async () => {
  // The first request reads the index.
  expect(await auth(box, 'smtp', 'alice', 'alice-pw')).toBe('PAM_SUCCESS');
  const ran = await statements(async () => {
    for (let i = 0; i < 10; i++) expect(await auth(box, 'smtp', `nobody-${i}`, 'guess')).toBe('PAM_USER_UNKNOWN');
  });
  // (The general log shows "?" for a statement prepared earlier on the same connection.)
  expect(ran.filter((q) => /lp\.value = /.test(q))).toEqual([]);
  expect(ran.filter((q) => /WHERE lp\.propname = 'loginname' AND \(o\.objectclass >> 16\) = 1\s*$/.test(q))).toEqual([]);
  expect(ran.some((q) => /WHERE o\.id > (\d+|\?) ORDER BY o\.id/.test(q))).toBe(true);

  const n = 20;
  const unknown = await rowsPerRequest(n, async () => {
    for (let i = 0; i < n; i++) expect(await auth(box, 'smtp', `stranger-${i}`, 'guess')).toBe('PAM_USER_UNKNOWN');
  });
  const known = await rowsPerRequest(n, async () => {
    for (let i = 0; i < n; i++) expect(await auth(box, 'smtp', `filler${i * 7}`, 'guess')).toBe('PAM_AUTH_ERR');
  });
  // Kopano's query reads every login name: at least FILLERS rows for each unknown name.
  expect({ unknown: unknown < 50, known: known < 50 }).toEqual({ unknown: true, known: true });
}, 60000);

test('a new user is found by the next request; a renamed one within login_index_refresh, never under the old name; a deleted one is unknown at once', async () => {
  const quick = Sandbox.create();
  try {
    quick.service('smtp', [`auth required {module} ${quick.workerArg}`]);
    await quick.startWorker(quick.writeConfig(section('store', 'login_index_refresh = 2\n'), 'store_timeout = 5\n'));
    expect(await auth(quick, 'smtp', 'alice', 'alice-pw')).toBe('PAM_SUCCESS');

    await insertKopanoUser(db, DB, { login: 'freshman', password: 'freshman-pw' });
    expect(await auth(quick, 'smtp', 'freshman', 'freshman-pw')).toBe('PAM_SUCCESS');

    // Renamed and asked for under the new name first: found by the index's next full read.
    await db.sql(`UPDATE ${DB}.objectproperty SET value = 'renamed' WHERE propname = 'loginname' AND value = 'renamee'`);
    const t0 = Date.now();
    let outcome: string | undefined;
    do {
      outcome = await auth(quick, 'smtp', 'renamed', 'renamee-pw');
      if (outcome !== 'PAM_SUCCESS') await new Promise((r) => setTimeout(r, 200));
    } while (outcome !== 'PAM_SUCCESS' && Date.now() - t0 < 2000 + 3000);
    expect(outcome).toBe('PAM_SUCCESS');
    expect(await auth(quick, 'smtp', 'renamee', 'renamee-pw')).toBe('PAM_USER_UNKNOWN');

    expect(await auth(quick, 'smtp', 'goner', 'goner-pw')).toBe('PAM_SUCCESS');
    await db.sql(`DELETE p, o FROM ${DB}.objectproperty p JOIN ${DB}.object o ON o.id = p.objectid WHERE o.externid = ?`, [Buffer.from('pam_mapi-test:goner')]);
    expect(await auth(quick, 'smtp', 'goner', 'goner-pw')).toBe('PAM_USER_UNKNOWN');
  } finally {
    await quick.cleanup();
  }
}, 60000);
