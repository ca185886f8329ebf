// Kopano's user tables, as the Kopano 8 server creates them for its DB user plugin
// (see shared/spec/zarafa-store.md), and users written into them the way Kopano stores them:
// an `object` row whose objectclass carries type and class, `objectproperty` rows for
// loginname and password (salt + md5hex(salt + password)), one `objectmvproperty` row per
// enabled or disabled feature.
import { zarafaHash } from '../stores/zarafa-hash';
import { recordSecret } from './secret-audit';
import { OBJECTCLASS, PROP_DISABLED_FEATURES, PROP_ENABLED_FEATURES } from '../stores/zarafa/zarafa-store';

export const KOPANO_USER_TABLES = `
CREATE TABLE object (
  id int(11) unsigned NOT NULL auto_increment,
  externid blob,
  objectclass int(11) unsigned NOT NULL default '0',
  PRIMARY KEY (id, objectclass),
  UNIQUE KEY id (id),
  UNIQUE KEY externid (externid(255), objectclass)
) ENGINE=InnoDB CHARACTER SET utf8mb4;
CREATE TABLE objectproperty (
  objectid int(11) unsigned NOT NULL default '0',
  propname varchar(185) BINARY NOT NULL,
  value text,
  PRIMARY KEY (objectid, propname)
) ENGINE=InnoDB CHARACTER SET utf8mb4;
CREATE TABLE objectmvproperty (
  objectid int(11) unsigned NOT NULL default '0',
  propname varchar(185) BINARY NOT NULL,
  orderid tinyint(11) unsigned NOT NULL default '0',
  value text,
  PRIMARY KEY (objectid, orderid, propname)
) ENGINE=InnoDB CHARACTER SET utf8mb4;
CREATE TABLE objectrelation (
  objectid int(11) unsigned NOT NULL default '0',
  parentobjectid int(11) unsigned NOT NULL default '0',
  relationtype tinyint(11) unsigned NOT NULL,
  PRIMARY KEY (objectid, parentobjectid, relationtype)
) ENGINE=InnoDB CHARACTER SET utf8mb4;
`;

export type KopanoClass = keyof typeof OBJECTCLASS;

export interface KopanoUser {
  login: string;
  password: string;
  objectclass?: KopanoClass;
  enabled?: string[];
  disabled?: string[];
}

/** Something that runs SQL with parameters. */
export interface SqlRunner {
  sql(statement: string, params?: unknown[]): Promise<unknown>;
}

export async function createKopanoDatabase(db: SqlRunner, database: string): Promise<void> {
  await db.sql(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
  await db.sql(`USE \`${database}\`; ${KOPANO_USER_TABLES}`);
}

export async function insertKopanoUser(db: SqlRunner, database: string, u: KopanoUser): Promise<number> {
  recordSecret(u.password);
  const cls = OBJECTCLASS[u.objectclass ?? 'ACTIVE_USER'];
  const inserted = (await db.sql(`INSERT INTO \`${database}\`.object (externid, objectclass) VALUES (?, ?)`,
    [Buffer.from(`pam_mapi-test:${u.login}`), cls])) as { insertId: number };
  const id = inserted.insertId;
  const props: Array<[string, string]> = [
    ['loginname', u.login],
    ['password', zarafaHash(Buffer.from(u.password, 'utf8'))],
    ['fullname', u.login],
    ['emailaddress', `${u.login}@example.org`],
    ['isadmin', '0'],
  ];
  for (const [name, value] of props) {
    await db.sql(`INSERT INTO \`${database}\`.objectproperty (objectid, propname, value) VALUES (?, ?, ?)`, [id, name, value]);
  }
  const mv: Array<[string, string[]]> = [[PROP_ENABLED_FEATURES, u.enabled ?? []], [PROP_DISABLED_FEATURES, u.disabled ?? []]];
  for (const [propname, features] of mv) {
    for (const [orderid, value] of features.entries()) {
      await db.sql(`INSERT INTO \`${database}\`.objectmvproperty (objectid, propname, orderid, value) VALUES (?, ?, ?, ?)`, [id, propname, orderid, value]);
    }
  }
  return id;
}
