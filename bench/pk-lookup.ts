// The cost of one primary-key lookup, the floor of any database-backed check: a loop of
// prepared `SELECT ... WHERE id = ?` on one mysql2 connection over the Unix socket.
import mysql from 'mysql2/promise';
import { PrivateMariaDB } from '../src/sandbox/mariadb';
import { KOPANO_DB, READER } from './mysql-fill';

export interface PkLookup {
  lookups: number;
  p50: number;
  p99: number;
}

export async function measurePkLookup(db: PrivateMariaDB, users: number, lookups = 5000): Promise<PkLookup> {
  const c = await mysql.createConnection({ socketPath: db.socketPath, user: READER.user, password: READER.password, database: KOPANO_DB });
  try {
    const sql = 'SELECT objectclass FROM object WHERE id = ?';
    const lat: number[] = [];
    for (let i = 0; i < lookups + 500; i++) {
      const id = 1 + ((i * 7919) % users);
      const t0 = process.hrtime.bigint();
      const [rows] = await c.execute(sql, [id]);
      const dt = Number(process.hrtime.bigint() - t0) / 1000;
      if ((rows as unknown[]).length !== 1) throw new Error(`no object ${id}`);
      if (i >= 500) lat.push(dt); // the first 500 warm the statement and the pages
    }
    lat.sort((a, b) => a - b);
    return { lookups, p50: lat[Math.floor(0.5 * (lat.length - 1))], p99: lat[Math.floor(0.99 * (lat.length - 1))] };
  } finally {
    await c.end();
  }
}
