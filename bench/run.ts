// npm run bench: whole PAM transactions through pam_permit, pam_mapi (file, zarafa, ldap
// stores), pam_mysql and pam_ldap+nslcd, interleaved, at several client and user counts, against
// a private MariaDB and slapd filled here; then a memory soak of the worker. Writes
// BENCHMARKS.md, bench/chart.svg and bench/results.json (see bench/README.md).
import fs from 'fs';
import os from 'os';
import path from 'path';
import { Bench } from './bench';
import { writeChart } from './chart';
import { preflight } from './env';
import { parseOptions } from './options';
import { usePamLoad } from './pam-load';
import { writeReport } from './report';
import { Results } from './results';
import { takeSnapshot } from './snapshot';
import { SyslogCounts, SyslogDrain } from './syslog';

const log = (s: string): void => console.log(s);

/** --report results.json: writes BENCHMARKS.md and the chart again from a run's figures, to the
 * checkout's files for a default run, else beside the JSON file. */
function reportOnly(file: string): void {
  const results = JSON.parse(fs.readFileSync(file, 'utf8')) as Results;
  const defaults = parseOptions([]);
  const dir = path.dirname(path.resolve(file));
  const o = results.options;
  o.markdownFile = o.mode === 'default' ? defaults.markdownFile : path.join(dir, 'BENCHMARKS.md');
  o.chartFile = o.mode === 'default' ? defaults.chartFile : path.join(dir, 'chart.svg');
  if (results.points.length > 0) writeChart(results, o.chartFile);
  writeReport(results, o.markdownFile);
  log(`wrote ${o.markdownFile} and ${o.chartFile}`);
}

async function main(): Promise<void> {
  if (process.argv[2] === '--report' && process.argv[3] !== undefined) {
    reportOnly(process.argv[3]);
    return;
  }
  const o = parseOptions(process.argv.slice(2));
  preflight(o);
  // Every temporary file of the run, MariaDB's own temp tables included (mariadbd takes its
  // tmpdir from TMPDIR), in one private directory: nothing else on the machine touches them.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pam_mapi-bench-'));
  process.env.TMPDIR = tmp;
  const build = takeSnapshot(tmp);
  usePamLoad(build.pamLoad);
  const bench = new Bench(o, build);
  const drain = await SyslogDrain.start((s) => console.error(s));
  let counts: SyslogCounts | undefined;
  let cleaned: Promise<void> | null = null;
  const cleanUp = (): Promise<void> => (cleaned ??= (async () => {
    await bench.tearDown();
    counts = await drain?.stop().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  })());
  const interrupt = (sig: string): void => {
    console.error(`\nbench: ${sig}: stopping the private servers`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.on('SIGINT', () => interrupt('SIGINT'));
  process.on('SIGTERM', () => interrupt('SIGTERM'));
  let results: Results;
  try {
    await bench.setUp();
    results = await bench.run();
  } finally {
    await cleanUp();
  }
  if (counts !== undefined) results.syslog = counts;
  for (const f of [o.markdownFile, o.chartFile, o.jsonFile]) fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(o.jsonFile, JSON.stringify(results, null, 1) + '\n');
  if (results.points.length > 0) writeChart(results, o.chartFile);
  writeReport(results, o.markdownFile);
  log(`\nwall clock ${(results.wallSeconds / 60).toFixed(1)} min; wrote ${path.relative(process.cwd(), o.markdownFile)}, ${path.relative(process.cwd(), o.chartFile)}, ${path.relative(process.cwd(), o.jsonFile)}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
