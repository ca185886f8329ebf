// One benchmark run: the private servers and stacks, the user counts with their interleaved
// points, the soak, and the figures they give (see run.ts for the command).
import fs from 'fs';
import path from 'path';
import { PrivateMariaDB } from '../src/sandbox/mariadb';
import { PrivateSlapd } from '../src/sandbox/slapd';
import { freePort } from './env';
import { addPrincipals, checkPamKrb5Validates, isKrb5, startBenchKdc } from './krb5';
import { growLdapUsers } from './ldap-fill';
import { machineFacts } from './machine';
import { DbMeter } from './mariadb-status';
import { growMysqlUsers, prepareDatabases } from './mysql-fill';
import { PrivateNslcd } from './nslcd';
import { PrivateSssd } from './sssd';
import { NodeFloor } from './node-floor';
import { BenchOptions, ModuleName, WARMUP_SECONDS } from './options';
import { runLoad } from './pam-load';
import { missCost } from './miss-cost';
import { hotPath } from './hot-path';
import { CROSS_TOOLS, crossCheck } from './cross-check';
import { buildHarness } from './harness';
import { measurePkLookup } from './pk-lookup';
import { CpuMeter, memory } from './proc-stats';
import { CpuPerTx, perTransaction, Proc } from './cpu-per-tx';
import { Point, Results, UserLevel } from './results';
import { isMapi, LABELS, MapiModule, MapiStack, plainServices, plainTarget, Servers, Target } from './stacks';
import { zarafaSideBySide } from './scaling';
import { Snapshot } from './snapshot';
import { soak } from './soak';
import { BenchWorker } from './worker';

const log = (s: string): void => console.log(s);

export class Bench {
  private servers!: Servers;
  private stacks = new Map<MapiModule, MapiStack>();
  private plainDir = '';
  private floor: NodeFloor | null = null;
  private readonly results: Results;
  private readonly t0 = Date.now();

  constructor(
    private readonly o: BenchOptions,
    private readonly build: Snapshot,
  ) {
    this.results = { options: o, facts: [...machineFacts(), ['build measured', build.built]], levels: [], points: [], scaling: [], soak: [], syslog: null, wallSeconds: 0 };
  }

  private wants(m: ModuleName): boolean {
    return this.o.modules.includes(m);
  }

  async setUp(): Promise<void> {
    log('starting a private MariaDB and slapd');
    const db = await PrivateMariaDB.start();
    this.servers = { db, slapd: null as unknown as PrivateSlapd, nslcd: null, sssd: null, kdc: null };
    await prepareDatabases(db);
    this.servers.slapd = await PrivateSlapd.start({ ldapPort: await freePort(), ldapsPort: await freePort() });
    if (this.wants('pam_ldap')) this.servers.nslcd = await PrivateNslcd.start(this.servers.slapd);
    if (this.wants('pam_sss')) this.servers.sssd = await PrivateSssd.start(this.servers.slapd);
    if (this.o.modules.some(isKrb5)) {
      log('starting a private KDC');
      this.servers.kdc = await startBenchKdc();
    }
    this.plainDir = plainServices(this.servers);
    const mapi: MapiModule[] = ['mapi_file', 'mapi_zarafa', 'mapi_ldap', 'mapi_krb5'];
    // The soak needs the file and zarafa stacks even when they are not compared.
    for (const m of mapi) if (this.wants(m) || (this.o.soakRequests > 0 && (m === 'mapi_file' || m === 'mapi_zarafa'))) this.stacks.set(m, new MapiStack(m, this.servers, this.o.poolSize, this.build));
    if (this.wants('node_floor')) {
      this.floor = await NodeFloor.start(this.servers, this.build);
      log(`the Node floor replays ${this.floor.roundTrips} round trips per transaction, recorded from a file-store worker`);
    }
  }

  async tearDown(): Promise<void> {
    for (const s of this.stacks.values()) await s.cleanup().catch(() => undefined);
    await this.floor?.stop().catch(() => undefined);
    await this.servers?.nslcd?.stop().catch(() => undefined);
    await this.servers?.sssd?.stop().catch(() => undefined);
    await this.servers?.kdc?.destroy().catch(() => undefined);
    await this.servers?.slapd?.destroy().catch(() => undefined);
    await this.servers?.db?.destroy().catch(() => undefined);
    if (this.plainDir !== '') fs.rmSync(this.plainDir, { recursive: true, force: true });
  }

  /** The Kerberos rows are measured at the first (least) user count only: making principals
   * costs about 10 ms of CPU each (bench/krb5.ts), and a KDC's lookup does not grow with them. */
  private measuredAt(m: ModuleName, users: number): boolean {
    return !isKrb5(m) || users === this.o.users[0];
  }

  private targets(users: number): Target[] {
    return this.o.modules.filter((m) => this.measuredAt(m, users))
      .map((m) => (isMapi(m) ? this.stacks.get(m)!.target : m === 'node_floor' ? this.floor!.target : plainTarget(m, this.plainDir, this.servers)));
  }

  private pidOf(file: string): number | null {
    try {
      return Number(fs.readFileSync(file, 'utf8').trim()) || null;
    } catch {
      return null;
    }
  }

  /** Every long-running process of the benchmark: servers and workers. */
  private allPids(): number[] {
    const pids = [this.pidOf(path.join(this.servers.db.dir, 'mysqld.pid')), this.servers.slapd.pid ?? null, this.servers.nslcd?.pid ?? null, this.servers.kdc?.pid ?? null,
      ...(this.servers.sssd?.processes().map((p) => p.pid) ?? []), this.floor?.pid ?? null,
      ...[...this.stacks.values()].map((s) => s.worker?.pid ?? null)];
    return pids.filter((p): p is number => p !== null);
  }

  /** The server processes a module's checks land on, besides the worker, by name. */
  private serverProcs(m: ModuleName): Proc[] {
    const mariadb = this.pidOf(path.join(this.servers.db.dir, 'mysqld.pid'));
    const slapd = this.servers.slapd.pid ?? null;
    const named = (name: string, pid: number | null): Proc[] => (pid === null ? [] : [{ name, pid }]);
    switch (m) {
      case 'mapi_zarafa': case 'pam_mysql': return named('mariadbd', mariadb);
      case 'mapi_ldap': return named('slapd', slapd);
      case 'pam_ldap': return [...named('nslcd', this.servers.nslcd?.pid ?? null), ...named('slapd', slapd)];
      // sssd's monitor and responders (sssd_be, sssd_pam, sssd_nss), then slapd.
      case 'pam_sss': return [...(this.servers.sssd?.processes() ?? []), ...named('slapd', slapd)];
      case 'mapi_krb5': case 'pam_krb5': return named('krb5kdc', this.servers.kdc?.pid ?? null);
      default: return [];
    }
  }

  /** The process standing in for the worker: the worker of a pam_mapi store, the Node floor's server. */
  private workerProc(m: ModuleName, only?: BenchWorker): Proc | null {
    if (m === 'node_floor') return this.floor ? { name: 'node floor', pid: this.floor.pid } : null;
    const w = only ?? (isMapi(m) ? this.stacks.get(m)!.worker : null);
    return w ? { name: 'worker', pid: w.pid } : null;
  }

  private async grow(from: number, to: number): Promise<UserLevel['fill']> {
    const timed = async (f: () => Promise<void> | void): Promise<number> => {
      const t = Date.now();
      await f();
      return (Date.now() - t) / 1000;
    };
    const mysql = await timed(() => growMysqlUsers(this.servers.db, from, to));
    const ldap = await timed(() => growLdapUsers(this.servers.slapd, from, to));
    const file = await timed(() => this.stacks.get('mapi_file')?.writeUsers(to));
    const kdc = this.servers.kdc;
    const krb5 = kdc && from === 0 ? await timed(() => addPrincipals(kdc, from, to)) : undefined;
    log(`  added users ${from}..${to - 1}: MariaDB ${mysql.toFixed(1)} s, slapadd ${ldap.toFixed(1)} s, users file ${file.toFixed(1)} s`
      + (krb5 !== undefined ? `, KDC principals (kadmin.local) ${krb5.toFixed(1)} s` : ''));
    return { mysql, ldap, file, ...(krb5 !== undefined ? { krb5 } : {}) };
  }

  private async point(t: Target, users: number, clients: number, only?: BenchWorker): Promise<Point> {
    const worker = this.workerProc(t.module, only);
    const servers = this.serverProcs(t.module);
    const procs = [...(worker ? [worker] : []), ...servers];
    const usesDb = t.module === 'mapi_zarafa' || t.module === 'pam_mysql';
    const dbMeter = usesDb ? await DbMeter.start(this.servers.db) : null;
    const meter = new CpuMeter(procs.map((p) => p.pid), this.allPids());
    const load = await runLoad({ confDir: t.confDir, service: t.service, users, clients, seconds: this.o.seconds,
      wrongEvery: t.checksPassword ? this.o.wrongEvery : 0, processes: t.processes, prefix: t.prefix });
    const cpu = meter.stop();
    const db = dbMeter ? await dbMeter.stop(load.transactions) : null;
    const cpuPerTx: CpuPerTx[] = perTransaction(procs, cpu, load.transactions);
    const w = worker ? cpu.processPercent.shift()! : null;
    const p: Point = { users, module: t.module, clients, load, workerCpu: w,
      serverCpu: servers.length > 0 ? cpu.processPercent.reduce((a, b) => a + b, 0) : null, clientCpu: cpu.childrenPercent, machineCpu: cpu.machinePercent,
      othersCpu: cpu.othersPercent, db, cpuPerTx };
    log(`  ${LABELS[t.module].padEnd(20)} ${String(clients).padStart(2)} clients, ${String(users).padStart(6)} users: ${load.authsPerS.toFixed(0).padStart(6)} auths/s  p50 ${load.p50} µs  p99 ${load.p99} µs`
      + `  failed ${load.failed}/${load.transactions}  wrong answers ${load.wrongAnswers}  others' CPU ${p.othersCpu.toFixed(0)}%`
      + `  CPU µs/tx ${cpuPerTx.map((c) => `${c.process} ${c.us.toFixed(0)}`).join(', ')}`
      + (db ? `  rows scanned/tx ${db.rowsScanned.toFixed(0)}, disk tmp tables/tx ${db.tmpDiskTables.toFixed(1)}` : ''));
    return p;
  }

  async level(users: number, from: number): Promise<void> {
    log(`\n== ${users} users`);
    const fill = await this.grow(from, users);
    if (from === 0 && this.servers.kdc && this.wants('pam_krb5')) await checkPamKrb5Validates(this.servers.kdc, this.plainDir, users);
    const pk = this.wants('mapi_zarafa') || this.wants('pam_mysql') ? await measurePkLookup(this.servers.db, users) : null;
    if (pk) log(`  primary-key lookup (mysql2, one connection): p50 ${pk.p50.toFixed(0)} µs  p99 ${pk.p99.toFixed(0)} µs`);
    for (const m of this.o.modules) if (isMapi(m) && this.measuredAt(m, users)) await this.stacks.get(m)!.restart();
    const targets = this.targets(users);
    // Warm pools, caches and pages before anything is measured.
    const warm = Math.min(16, Math.max(...this.o.clients));
    for (const t of targets) {
      await runLoad({ confDir: t.confDir, service: t.service, users, clients: warm, seconds: WARMUP_SECONDS, wrongEvery: 0, processes: t.processes, prefix: t.prefix });
    }
    // Interleaved: every module at one client count, then the next count.
    if (!this.o.crossCheckOnly) {
      for (const clients of this.o.clients) {
        for (const t of targets) this.results.points.push(await this.point(t, users, clients));
      }
    }
    // The cross-check once, at the least users (the outside harness's 1,000), same workers.
    if ((this.o.crossCheck || this.o.crossCheckOnly) && from === 0) {
      const clients = this.o.clients.filter((c) => c === 1 || c === 16);
      // Not the Kerberos rows: the outside harness's stacks, and their principals' run is long enough.
      this.results.crossCheck = await crossCheck({
        targets: targets.filter((t) => !isKrb5(t.module)), harness: buildHarness(process.env.TMPDIR ?? '/tmp'), users, clients: clients.length > 0 ? clients : [Math.max(...this.o.clients)],
        seconds: this.o.crossSeconds, wrongEvery: this.o.wrongEvery,
        procsOf: (m) => [...[this.workerProc(m)].filter((p): p is Proc => p !== null), ...this.serverProcs(m)],
        // pam_load with right passwords only too: where the two tools differ, it shows whether
        // the tools or the wrong passwords make the difference.
        tools: CROSS_TOOLS,
      }, log);
    }
    const workers: UserLevel['workers'] = [];
    for (const m of this.o.modules) {
      if (!isMapi(m) || !this.measuredAt(m, users)) continue;
      const w = this.stacks.get(m)!.worker;
      if (w === null) continue;
      const mem = memory(w.pid);
      const problems = w.problemLines();
      workers.push({ module: m, rssKb: mem.rssKb, hwmKb: mem.hwmKb, anonKb: mem.anonKb, logBytes: w.logBytes(), problems: problems.length, sample: problems.slice(0, 3) });
      log(`  worker ${LABELS[m]}: RSS ${(mem.rssKb / 1024).toFixed(1)} MB (peak ${(mem.hwmKb / 1024).toFixed(1)} MB, anonymous ${(mem.anonKb / 1024).toFixed(1)} MB), ${problems.length} warning/error lines`);
      await this.stacks.get(m)!.stop();
    }
    this.results.levels.push({ users, fill, pk, workers });
  }

  async soak(users: number): Promise<void> {
    log(`\n== memory soak: ${this.o.soakRequests} requests per worker, ${users} users`);
    for (const m of ['mapi_file', 'mapi_zarafa'] as const) {
      this.results.soak.push(await soak(this.stacks.get(m)!, users, this.o.soakRequests, this.o.soakStep, log));
    }
  }

  async run(): Promise<Results> {
    let from = 0;
    for (const users of this.o.users) {
      if (this.o.soakOnly || this.o.missCostOnly || this.o.hotPathOnly || (this.o.crossCheckOnly && from > 0)) {
        await this.grow(from, users);
      } else {
        await this.level(users, from);
      }
      // The soak runs once, on the smallest data set, where it takes the least time.
      if (from === 0 && this.o.soakRequests > 0) await this.soak(users);
      from = users;
    }
    if (!this.o.soakOnly && !this.o.missCostOnly && !this.o.hotPathOnly && !this.o.crossCheckOnly && this.wants('mapi_zarafa') && this.o.users.length > 1) {
      const many = this.o.clients.includes(16) ? 16 : Math.max(...this.o.clients);
      this.results.scaling = await zarafaSideBySide(this.servers, this.build, this.o.users, many, this.o.poolSize, (t, u, c, w) => this.point(t, u, c, w), log);
    }
    if (this.wants('mapi_file') && !this.o.soakOnly && !this.o.missCostOnly && !this.o.crossCheckOnly) {
      this.results.hotPath = await hotPath(this.servers, this.build, Math.min(...this.o.users), this.o.clients.filter((c) => c === 1 || c === 16).length > 0
        ? this.o.clients.filter((c) => c === 1 || c === 16) : [Math.max(...this.o.clients)], this.o.seconds, this.o.wrongEvery, log);
    }
    if (this.wants('mapi_zarafa') && !this.o.hotPathOnly && !this.o.crossCheckOnly && (this.o.missCostOnly || (!this.o.soakOnly && this.o.users.length > 1))) {
      const counts = [...new Set([Math.min(...this.o.users), Math.max(...this.o.users)])];
      this.results.missCost = await missCost(this.servers, this.build, counts, this.o.poolSize, this.o.seconds, log);
    }
    this.results.wallSeconds = (Date.now() - this.t0) / 1000;
    return this.results;
  }
}
