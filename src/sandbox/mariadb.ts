// A private MariaDB for tests, the demo and benchmarks: its own datadir in a temp directory,
// a Unix socket (and a loopback port when asked), stopped and removed afterwards.
// Debian 12's mariadb-server; see shared/spec/test-servers.md for the flags' reasons.
import { execFile, spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { promisify } from 'util';
import mysql, { Connection } from 'mysql2/promise';
import { TestPki } from './test-ca';
import { ChildServer, listensOn } from './child-server';

const run = promisify(execFile);
const SMALL = ['--innodb-log-file-size=4M', '--innodb-buffer-pool-size=32M'];

export class PrivateMariaDB extends ChildServer {
  private admin: Connection | null = null;

  private constructor(
    dir: string,
    readonly port: number | null,
    private readonly tls: TestPki | null,
  ) {
    super(dir, 20000);
  }

  get socketPath(): string {
    return path.join(this.dir, 'mysqld.sock');
  }

  get datadir(): string {
    return path.join(this.dir, 'data');
  }

  /** Creates the datadir and starts the server. port: also listen on 127.0.0.1:port. */
  static async start(opts: { port?: number; tls?: TestPki } = {}): Promise<PrivateMariaDB> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-mariadb-'));
    const db = new PrivateMariaDB(dir, opts.port ?? null, opts.tls ?? null);
    // Its temporary tables in the private directory too, as the server's (see launch()): in the
    // shared /tmp, something else on the machine removed one under a bootstrap.
    await run('mariadb-install-db', ['--no-defaults', `--datadir=${db.datadir}`, '--auth-root-authentication-method=normal',
      '--skip-test-db', '--user=root', `--tmpdir=${dir}`, ...SMALL]);
    await db.launch();
    return db;
  }

  /** Starts mariadbd on the existing datadir (again, after stop()). */
  async launch(): Promise<void> {
    const net = this.port === null ? ['--skip-networking'] : [`--port=${this.port}`, '--bind-address=127.0.0.1'];
    const tls = this.tls === null ? [] : [`--ssl-ca=${this.tls.caCert}`, `--ssl-cert=${this.tls.serverCert}`, `--ssl-key=${this.tls.serverKey}`];
    // --no-defaults must come first, or the system's my.cnf is read too.
    this.child = spawn('mariadbd', ['--no-defaults', `--datadir=${this.datadir}`, `--socket=${this.socketPath}`, ...net,
      '--user=root', `--pid-file=${path.join(this.dir, 'mysqld.pid')}`, `--log-error=${path.join(this.dir, 'error.log')}`,
      // Its own temp dir: a file of its vanishing from a shared /tmp failed a query once.
      `--tmpdir=${this.dir}`, '--skip-log-bin', '--skip-name-resolve', '--max-connections=500', ...tls, ...SMALL], { stdio: 'ignore' });
    const until = Date.now() + 30000;
    for (;;) {
      try {
        const c = await mysql.createConnection({ socketPath: this.socketPath, user: 'root' });
        await c.end();
        // Clients of the port must reach this server, not another suite's that took the port.
        if (this.port === null || listensOn(this.child.pid, this.port)) return;
        throw new Error(`port ${this.port} is not held by this mariadbd (pid ${this.child.pid})`);
      } catch (e) {
        if (this.child.exitCode !== null || Date.now() > until) {
          throw new Error(`mariadbd did not start: ${(e as Error).message}\n${this.errorLog()}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  errorLog(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Runs SQL as root (several statements allowed). */
  async sql(statement: string, params: unknown[] = []): Promise<unknown> {
    if (this.admin === null) this.admin = await mysql.createConnection({ socketPath: this.socketPath, user: 'root', multipleStatements: true, charset: 'utf8mb4' });
    const [rows] = await this.admin.query(statement, params);
    return rows;
  }

  /** Creates a user that may read `database`, reachable over the socket and loopback TCP
   * (over TCP only with TLS when requireTls). */
  async createReader(user: string, password: string, database: string, requireTls = false): Promise<void> {
    for (const host of ['localhost', '127.0.0.1']) {
      await this.sql(`CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?${requireTls && host !== 'localhost' ? ' REQUIRE SSL' : ''}`, [user, host, password]);
      await this.sql(`GRANT SELECT ON \`${database}\`.* TO ?@?`, [user, host]);
    }
  }

  /** Stops the server, keeping its datadir for launch(). */
  override async stop(): Promise<void> {
    await this.admin?.end().catch(() => undefined);
    this.admin = null;
    await super.stop();
  }
}
