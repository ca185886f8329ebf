// What the database did for one point, from MariaDB's global status counters: rows read, temp
// tables written to disk, statements and connections, per PAM transaction.
import { PrivateMariaDB } from '../src/sandbox/mariadb';

const COUNTERS = ['Handler_read_rnd_next', 'Handler_read_next', 'Handler_read_key', 'Created_tmp_disk_tables', 'Created_tmp_tables', 'Questions', 'Connections'] as const;
type Counter = (typeof COUNTERS)[number];

export interface DbWork {
  /** Rows read by scans (rnd_next), ranges (next) and index lookups (key), per transaction. */
  rowsScanned: number;
  rowsByIndex: number;
  tmpDiskTables: number;
  tmpTables: number;
  statements: number;
  connections: number;
}

async function snapshot(db: PrivateMariaDB): Promise<Record<Counter, number>> {
  const rows = (await db.sql(`SHOW GLOBAL STATUS WHERE Variable_name IN (${COUNTERS.map(() => '?').join(',')})`, [...COUNTERS])) as Array<{ Variable_name: string; Value: string }>;
  const out = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<Counter, number>;
  for (const r of rows) out[r.Variable_name as Counter] = Number(r.Value);
  return out;
}

export class DbMeter {
  private constructor(
    private readonly db: PrivateMariaDB,
    private readonly start: Record<Counter, number>,
  ) {}

  static async start(db: PrivateMariaDB): Promise<DbMeter> {
    return new DbMeter(db, await snapshot(db));
  }

  async stop(transactions: number): Promise<DbWork> {
    const end = await snapshot(this.db);
    const per = (c: Counter): number => (end[c] - this.start[c]) / Math.max(1, transactions);
    return {
      rowsScanned: per('Handler_read_rnd_next'), rowsByIndex: per('Handler_read_next') + per('Handler_read_key'),
      tmpDiskTables: per('Created_tmp_disk_tables'), tmpTables: per('Created_tmp_tables'), statements: per('Questions'), connections: per('Connections'),
    };
  }
}
