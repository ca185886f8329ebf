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

/** The same answer for one object id: primary-key lookups only, whatever the number of users. */
export const USER_BY_ID = `SELECT ${USER_COLUMNS}
FROM object o
JOIN objectproperty lp ON lp.objectid = o.id AND lp.propname = 'loginname'
LEFT JOIN objectproperty pw ON pw.objectid = o.id AND pw.propname = 'password'
WHERE o.id = ? AND (o.objectclass >> 16) = 1`;

/** Every user's login name, for the worker's login index. */
export const ALL_LOGINS = `SELECT lp.objectid AS id, lp.value AS loginname
FROM objectproperty lp
JOIN object o ON o.id = lp.objectid
WHERE lp.propname = 'loginname' AND (o.objectclass >> 16) = 1`;

export interface UserRow extends RowDataPacket {
  id: number;
  objectclass: number;
  loginname: string;
  password: string | null;
  enabled: string | null;
  disabled: string | null;
}

export interface LoginRow extends RowDataPacket {
  id: number;
  loginname: string;
}
