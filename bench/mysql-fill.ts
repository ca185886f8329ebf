// Users in bulk in the private MariaDB: Kopano's tables (the same rows insertKopanoUser writes,
// in multi-row INSERTs) and, for pam_mysql, a plain table keyed by login with hex MD5 passwords.
import crypto from 'crypto';
import { PrivateMariaDB } from '../src/sandbox/mariadb';
import { createKopanoDatabase } from '../src/sandbox/kopano-db';
import { zarafaHash } from '../src/stores/zarafa-hash';
import { OBJECTCLASS, PROP_ENABLED_FEATURES } from '../src/stores/zarafa/zarafa-store';
import { USER_PREFIX } from './pam-load';

export const KOPANO_DB = 'kopano';
export const PLAIN_DB = 'pambench';
export const READER = { user: 'bench', password: 'bench-db-secret' };
/** Users per INSERT statement (each makes 1 + 5 + 1 rows in Kopano's tables). */
const CHUNK = 2000;
/** Every user may use imap, as a Kopano admin would enable it: one objectmvproperty row each. */
const ENABLED = ['imap'];

export function userPassword(k: number): string {
  return `pw-${k}`;
}

/** Kopano's tables, the plain table and a SELECT-only account for both. */
export async function prepareDatabases(db: PrivateMariaDB): Promise<void> {
  // The sandbox starts MariaDB with a 32 MB buffer pool (tests); 100,000 Kopano users need more
  // to be served from memory, as on a real server. Both settings are dynamic.
  await db.sql('SET GLOBAL innodb_buffer_pool_size = 536870912');
  // The fill commits often; the benchmark only reads.
  await db.sql('SET GLOBAL innodb_flush_log_at_trx_commit = 2');
  await createKopanoDatabase(db, KOPANO_DB);
  await db.sql(`CREATE DATABASE \`${PLAIN_DB}\`; CREATE TABLE \`${PLAIN_DB}\`.pam_users (login VARCHAR(64) NOT NULL PRIMARY KEY, password CHAR(32) NOT NULL) ENGINE=InnoDB CHARACTER SET utf8mb4`);
  await db.createReader(READER.user, READER.password, KOPANO_DB);
  await db.createReader(READER.user, READER.password, PLAIN_DB);
}

/** Adds users from (the current count) to `to`, in both schemas. */
export async function growMysqlUsers(db: PrivateMariaDB, from: number, to: number): Promise<void> {
  const [{ next }] = (await db.sql(`SELECT COALESCE(MAX(id), 0) + 1 AS next FROM \`${KOPANO_DB}\`.object`)) as Array<{ next: number }>;
  let id = Number(next);
  for (let start = from; start < to; start += CHUNK) {
    const objects: unknown[][] = [];
    const props: unknown[][] = [];
    const mv: unknown[][] = [];
    const plain: unknown[][] = [];
    for (let k = start; k < Math.min(to, start + CHUNK); k++, id++) {
      const login = `${USER_PREFIX}${k}`;
      const password = userPassword(k);
      objects.push([id, Buffer.from(`pam_mapi-test:${login}`), OBJECTCLASS.ACTIVE_USER]);
      props.push([id, 'loginname', login], [id, 'password', zarafaHash(Buffer.from(password, 'utf8'))], [id, 'fullname', login],
        [id, 'emailaddress', `${login}@example.org`], [id, 'isadmin', '0']);
      ENABLED.forEach((f, orderid) => mv.push([id, PROP_ENABLED_FEATURES, orderid, f]));
      plain.push([login, crypto.createHash('md5').update(password).digest('hex')]);
    }
    await db.sql(`START TRANSACTION;
      INSERT INTO \`${KOPANO_DB}\`.object (id, externid, objectclass) VALUES ?;
      INSERT INTO \`${KOPANO_DB}\`.objectproperty (objectid, propname, value) VALUES ?;
      INSERT INTO \`${KOPANO_DB}\`.objectmvproperty (objectid, propname, orderid, value) VALUES ?;
      INSERT INTO \`${PLAIN_DB}\`.pam_users (login, password) VALUES ?;
      COMMIT`, [objects, props, mv, plain]);
  }
  await db.sql(`ANALYZE TABLE \`${KOPANO_DB}\`.object, \`${KOPANO_DB}\`.objectproperty, \`${KOPANO_DB}\`.objectmvproperty, \`${PLAIN_DB}\`.pam_users`);
}

/** A copy of the first `users` users of KOPANO_DB (object ids 1..users) in a database of its own,
 * so that user counts can be measured side by side in the same minutes. Made afresh each time:
 * the side-by-side rounds and the miss-cost rounds of one run both ask for the least users. */
export async function kopanoSubset(db: PrivateMariaDB, users: number): Promise<string> {
  const name = `${KOPANO_DB}_${users}`;
  await db.sql(`DROP DATABASE IF EXISTS \`${name}\``);
  await createKopanoDatabase(db, name);
  await db.sql(`INSERT INTO \`${name}\`.object SELECT * FROM \`${KOPANO_DB}\`.object WHERE id <= ?;
    INSERT INTO \`${name}\`.objectproperty SELECT * FROM \`${KOPANO_DB}\`.objectproperty WHERE objectid <= ?;
    INSERT INTO \`${name}\`.objectmvproperty SELECT * FROM \`${KOPANO_DB}\`.objectmvproperty WHERE objectid <= ?;
    ANALYZE TABLE \`${name}\`.object, \`${name}\`.objectproperty, \`${name}\`.objectmvproperty`, [users, users, users]);
  await db.createReader(READER.user, READER.password, name);
  return name;
}
