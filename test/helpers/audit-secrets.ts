// After a test run (scripts/test.sh): searches everything the module wrote to syslog and
// everything every worker logged, with debug on throughout, for every password the tests
// used. Usage: node dist/test/helpers/audit-secrets.js AUDIT_DIR
import fs from 'fs';
import path from 'path';

/** Shorter test passwords ("x", "pw", "wrong") also occur in ordinary log words. */
const MIN_LENGTH = 6;

function main(): number {
  const dir = process.argv[2];
  const secretsFile = path.join(dir, 'secrets.jsonl');
  const secrets = new Set<string>(fs.existsSync(secretsFile)
    ? fs.readFileSync(secretsFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as string)
    : []);
  const logs = fs.readdirSync(dir).filter((f) => f === 'syslog.txt' || /^worker-.*\.log$/.test(f));
  const searched = [...secrets].filter((s) => s.length >= MIN_LENGTH);
  let lines = 0;
  let bytes = 0;
  const found: string[] = [];
  for (const name of logs) {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    bytes += text.length;
    // The syslog socket also hears other programs (chpasswd logs "password changed"): only
    // the module's lines are pam_mapi's to answer for.
    const all = name === 'syslog.txt' ? text.split('\n').filter((l) => l.includes('pam_mapi(')) : text.split('\n');
    lines += all.length;
    for (const secret of searched) {
      const at = all.findIndex((l) => l.includes(secret));
      if (at >= 0) found.push(`${name}:${at + 1}: a test password (${JSON.stringify(secret)}) appears in the log`);
    }
  }
  process.stdout.write(`secrets audit: ${secrets.size} distinct test passwords, ${searched.length} of ${MIN_LENGTH}+ characters searched in ${logs.length} logs (${lines} lines, ${bytes} bytes: module syslog and ${logs.length - 1} worker logs, debug on): ${found.length} found\n`);
  for (const f of found) process.stdout.write(`  ${f}\n`);
  if (searched.length === 0 || logs.length === 0) {
    process.stdout.write('secrets audit: nothing was recorded; the audit proves nothing\n');
    return 1;
  }
  return found.length === 0 ? 0 : 1;
}

process.exitCode = main();
