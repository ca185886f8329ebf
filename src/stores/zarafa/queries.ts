// The statements the zarafa store sends, all prepared. Users are objects of type 1
// (objectclass >> 16 = 1); each answer carries everything a decision needs in one round trip:
// class, login name, password and both feature lists.
import { RowDataPacket } from 'mysql2/promise';

/** MAPI tags of the per-user feature lists, as Kopano stores them in objectmvproperty. */
export const PROP_ENABLED_FEATURES = '0x67B3101E';
export const PROP_DISABLED_FEATURES = '0x67B4101E';
export const FEATURE_SEPARATOR = '\n';

const USER_COLUMNS = `o.id AS id, o.objectclass AS objectclass, lp.value AS loginname, pw.value AS password,
  (SELECT GROUP_CONCAT(f.value ORDER BY f.orderid SEPARATOR '\\n') FROM objectmvproperty f
     WHERE f.objectid = o.id AND f.propname = '${PROP_ENABLED_FEATURES}') AS enabled,
  (SELECT GROUP_CONCAT(f.value ORDER BY f.orderid SEPARATOR '\\n') FROM objectmvproperty f
     WHERE f.objectid = o.id AND f.propname = '${PROP_DISABLED_FEATURES}') AS disabled`;

/** As the Kopano server finds a user: by objectproperty.value, which has no index, so its cost
 * grows with the number of users. The column's collation already ignores case. */
export const USER_BY_LOGIN = `SELECT ${USER_COLUMNS}
FROM objectproperty lp
JOIN object o ON o.id = lp.objectid
LEFT JOIN objectproperty pw ON pw.objectid = o.id AND pw.propname = 'password'
WHERE lp.propname = 'loginname' AND lp.value = ? AND (o.objectclass >> 16) = 1`;

/** The same facts for one object id, as three primary-key range reads in one round trip:
 * a row ('class', objectclass), rows ('loginname' | 'password', value), and one row per feature.
 * Measured at about a third of the cost of the join with correlated subqueries
 * (bench/README.md). Assembled by userFromParts(). */
export const USER_PARTS_BY_ID = `SELECT 'class' AS k, objectclass AS n, NULL AS v FROM object WHERE id = ? AND (objectclass >> 16) = 1
UNION ALL SELECT propname, 0, value FROM objectproperty WHERE objectid = ? AND propname IN ('loginname', 'password')
UNION ALL SELECT propname, orderid, value FROM objectmvproperty WHERE objectid = ? AND propname IN ('${PROP_ENABLED_FEATURES}', '${PROP_DISABLED_FEATURES}')`;

/** The highest object id, read before ALL_LOGINS: every object up to it is then in the index
 * (or was created half-way, and is read again by OBJECTS_AFTER's next range). */
export const MAX_OBJECT_ID = 'SELECT COALESCE(MAX(id), 0) AS id FROM object';

/** Objects read per catch-up statement; more are read by the next one in the same catch-up. */
export const CATCH_UP_BATCH = 1000;

/** The objects created since the index last looked, users and others, with a user's login name:
 * a primary-key range on object and one primary-key read of objectproperty per row. */
export const OBJECTS_AFTER = `SELECT o.id AS id, o.objectclass AS objectclass, lp.value AS loginname
FROM object o
LEFT JOIN objectproperty lp ON lp.objectid = o.id AND lp.propname = 'loginname'
WHERE o.id > ? ORDER BY o.id LIMIT ${CATCH_UP_BATCH}`;

/** Every user's login name, for the worker's login index. */
export const ALL_LOGINS = `SELECT lp.objectid AS id, lp.value AS loginname
FROM objectproperty lp
JOIN object o ON o.id = lp.objectid
WHERE lp.propname = 'loginname' AND (o.objectclass >> 16) = 1`;

/** One Kopano user as the store reads it; feature lists joined by FEATURE_SEPARATOR. */
export interface KopanoUser {
  id: number;
  objectclass: number;
  loginname: string;
  password: string | null;
  enabled: string | null;
  disabled: string | null;
}

export interface UserRow extends RowDataPacket, KopanoUser {}

export interface PartRow extends RowDataPacket {
  k: string;
  n: number | null;
  v: string | null;
}

/** The user the parts describe, or undefined when the id is not a user (or has no login name). */
export function userFromParts(id: number, parts: readonly PartRow[]): KopanoUser | undefined {
  const cls = parts.find((p) => p.k === 'class');
  const login = parts.find((p) => p.k === 'loginname');
  if (cls === undefined || login === undefined || login.v === null) return undefined;
  const features = (tag: string): string | null => {
    const values = parts.filter((p) => p.k === tag).sort((a, b) => Number(a.n) - Number(b.n)).map((p) => p.v ?? '');
    return values.length === 0 ? null : values.join(FEATURE_SEPARATOR);
  };
  return {
    id,
    objectclass: Number(cls.n),
    loginname: login.v,
    password: parts.find((p) => p.k === 'password')?.v ?? null,
    enabled: features(PROP_ENABLED_FEATURES),
    disabled: features(PROP_DISABLED_FEATURES),
  };
}

export interface LoginRow extends RowDataPacket {
  id: number;
  loginname: string;
}

export interface ObjectRow extends RowDataPacket {
  id: number;
  objectclass: number;
  loginname: string | null;
}
