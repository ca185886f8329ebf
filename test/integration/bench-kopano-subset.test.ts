// The benchmark's per-count copies of the Kopano tables: one default run asks for the least
// users' copy twice (the side-by-side rounds, then the miss-cost rounds), which failed with
// "Can't create database 'kopano_1000'; database exists" and ended the run before it wrote
// BENCHMARKS.md. Real MariaDB, the benchmark's own fill code.
import { PrivateMariaDB } from '../../src/sandbox/mariadb';
import { growMysqlUsers, KOPANO_DB, kopanoSubset, prepareDatabases } from '../../bench/mysql-fill';

let db: PrivateMariaDB;

beforeAll(async () => {
  db = await PrivateMariaDB.start();
  await prepareDatabases(db);
  await growMysqlUsers(db, 0, 20);
});

afterAll(async () => {
  await db?.destroy();
});

it('a subset asked for a second time is made afresh, with the same users', async () => {
  const count = async (name: string): Promise<number> =>
    Number(((await db.sql(`SELECT COUNT(*) AS n FROM \`${name}\`.object`)) as Array<{ n: number }>)[0].n);
  const first = await kopanoSubset(db, 10);
  expect(await count(first)).toBe(10);
  const again = await kopanoSubset(db, 10);
  expect(again).toBe(`${KOPANO_DB}_10`);
  expect(await count(again)).toBe(10);
});
