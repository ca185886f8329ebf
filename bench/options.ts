// The command line of `npm run bench`: what to measure, for how long, and where the results go.
import path from 'path';
import { REPO_ROOT } from '../src/sandbox/sandbox';

export const MODULES = ['pam_permit', 'node_floor', 'mapi_file', 'mapi_zarafa', 'mapi_ldap', 'pam_mysql', 'pam_ldap', 'pam_sss', 'mapi_krb5', 'pam_krb5'] as const;
export type ModuleName = (typeof MODULES)[number];
/** Seconds of load on every module before a user count's points are measured. */
export const WARMUP_SECONDS = 1;

export interface BenchOptions {
  /** User counts, ascending; the data grows from one to the next. */
  users: number[];
  /** Client (thread or process) counts measured at every user count. */
  clients: number[];
  /** Seconds per measured point. */
  seconds: number;
  modules: ModuleName[];
  /** Every R-th transaction uses a wrong password (and must fail). */
  wrongEvery: number;
  /** The zarafa store's pool_size for the worker. */
  poolSize: number;
  /** Requests through the worker in the memory soak (0: no soak); RSS every soakStep. */
  soakRequests: number;
  soakStep: number;
  /** Only the soak, no comparison. */
  soakOnly: boolean;
  /** Only the zarafa store's unknown-name cost (miss-cost.ts), no comparison. */
  missCostOnly: boolean;
  /** Only the throttle's and the accounting log's cost (hot-path.ts), no comparison. */
  hotPathOnly: boolean;
  /** The cross-check against the outside-style harness (cross-check.ts), at the least users. */
  crossCheck: boolean;
  /** Only the cross-check, with pam_load's right-passwords-only runs beside (a diagnosis). */
  crossCheckOnly: boolean;
  /** Seconds per run of the cross-check. */
  crossSeconds: number;
  /** Where BENCHMARKS.md, chart.svg and results.json go (the checkout for the default run). */
  markdownFile: string;
  chartFile: string;
  jsonFile: string;
  mode: 'default' | 'quick' | 'soak' | 'miss-cost' | 'hot-path' | 'cross-check' | 'krb5' | 'custom';
  /** The exact command, for the report. */
  command: string;
}

const USAGE = `usage: npm run bench [-- --quick | --soak | --miss-cost | --hot-path | --cross-check | --krb5] [--users 1000,10000,100000] [--clients 1,4,16,32]
                 [--seconds 3] [--modules ${MODULES.join(',')}] [--wrong-every 10]
                 [--pool-size 4] [--soak-requests 100000] [--no-soak] [--no-cross-check] [--out DIR]
       npm run bench -- --report bench/results.json   (the report and chart again from a run's figures)`;

function list(v: string, what: string): number[] {
  const out = v.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${what}: "${v}" is not a list of positive integers`);
  return out;
}

export function parseOptions(argv: string[]): BenchOptions {
  const o: BenchOptions = {
    users: [1000, 10000, 100000],
    clients: [1, 4, 16, 32],
    seconds: 3,
    modules: [...MODULES],
    wrongEvery: 10,
    poolSize: 4,
    soakRequests: 100000,
    soakStep: 10000,
    soakOnly: false,
    missCostOnly: false,
    hotPathOnly: false,
    crossCheck: true,
    crossCheckOnly: false,
    crossSeconds: 2,
    markdownFile: path.join(REPO_ROOT, 'BENCHMARKS.md'),
    chartFile: path.join(REPO_ROOT, 'bench/chart.svg'),
    jsonFile: path.join(REPO_ROOT, 'bench/results.json'),
    mode: 'default',
    command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
  };
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--quick':
        Object.assign(o, { users: [1000], clients: [1, 4, 16], seconds: 2, soakRequests: 20000, soakStep: 5000, crossSeconds: 1, mode: 'quick' });
        break;
      case '--soak':
        Object.assign(o, { users: [1000], soakOnly: true, mode: 'soak', modules: ['mapi_file', 'mapi_zarafa'] });
        break;
      case '--miss-cost':
        Object.assign(o, { users: [1000, 100000], missCostOnly: true, soakRequests: 0, mode: 'miss-cost', modules: ['mapi_zarafa'] });
        break;
      case '--hot-path':
        Object.assign(o, { users: [1000], clients: [1, 16], hotPathOnly: true, soakRequests: 0, mode: 'hot-path', modules: ['mapi_file'] });
        break;
      case '--cross-check':
        Object.assign(o, { users: [1000], clients: [1, 16], crossCheckOnly: true, soakRequests: 0, mode: 'cross-check' });
        break;
      case '--no-cross-check': o.crossCheck = false; break;
      case '--krb5':
        // Only the Kerberos rows (bench/krb5.ts), at the quick run's counts.
        Object.assign(o, { users: [1000], clients: [1, 4, 16], seconds: 2, soakRequests: 0, crossCheck: false, mode: 'krb5', modules: ['mapi_krb5', 'pam_krb5'] });
        break;
      case '--users': o.users = list(value(), a).sort((x, y) => x - y); o.mode = 'custom'; break;
      case '--clients': o.clients = list(value(), a).sort((x, y) => x - y); o.mode = 'custom'; break;
      case '--seconds': o.seconds = Number(value()); o.mode = 'custom'; break;
      case '--wrong-every': {
        // 0: right passwords only.
        const v = value();
        o.wrongEvery = v === '0' ? 0 : list(v, a)[0];
        break;
      }
      case '--pool-size': o.poolSize = list(value(), a)[0]; o.mode = 'custom'; break;
      case '--soak-requests': o.soakRequests = list(value(), a)[0]; break;
      case '--no-soak': o.soakRequests = 0; break;
      case '--out': out = path.resolve(value()); break;
      case '--modules': {
        const names = value().split(',');
        const bad = names.filter((n) => !(MODULES as readonly string[]).includes(n));
        if (bad.length > 0) throw new Error(`--modules: unknown ${bad.join(', ')} (known: ${MODULES.join(', ')})`);
        o.modules = MODULES.filter((m) => names.includes(m));
        o.mode = 'custom';
        break;
      }
      case '--help': case '-h':
        process.stdout.write(USAGE + '\n');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  if (!(o.seconds > 0)) throw new Error('--seconds must be a positive number');
  if (o.soakStep > o.soakRequests && o.soakRequests > 0) o.soakStep = o.soakRequests;
  // Only the default run replaces the committed figures; the others write beside the build.
  if (out === undefined && o.mode !== 'default') out = path.join(REPO_ROOT, 'dist/bench-results', o.mode);
  if (out !== undefined) {
    o.markdownFile = path.join(out, 'BENCHMARKS.md');
    o.chartFile = path.join(out, 'chart.svg');
    o.jsonFile = path.join(out, 'results.json');
  }
  return o;
}
