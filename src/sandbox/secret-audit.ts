// The test run's secrets audit (see scripts/test.sh): every password the tests hand to PAM or
// put into a store is recorded, every worker's log kept, so that after the run the logs can be
// searched for every one of them. Inert unless PAM_MAPI_TEST_AUDIT_DIR is set.
import fs from 'fs';
import path from 'path';

function auditDir(): string | undefined {
  return process.env.PAM_MAPI_TEST_AUDIT_DIR || undefined;
}

export function recordSecret(secret: string | Buffer): void {
  const dir = auditDir();
  const text = Buffer.isBuffer(secret) ? secret.toString('utf8') : secret;
  if (dir === undefined || text.length === 0) return;
  fs.appendFileSync(path.join(dir, 'secrets.jsonl'), JSON.stringify(text) + '\n');
}

/** A file to copy a worker's log into, or null when no audit runs. */
export function workerLogFile(pid: number | undefined): string | null {
  const dir = auditDir();
  return dir === undefined ? null : path.join(dir, `worker-${pid ?? 'unknown'}-${Date.now()}.log`);
}

/** Whether the whole run logs at debug level (module argument `debug`, worker `--debug`). */
export function debugEverywhere(): boolean {
  return process.env.PAM_MAPI_TEST_DEBUG === '1';
}
