// pam-mapi doctor [--json] [--root DIR] [--config FILE] [--worker SOCKET]
// pam-mapi doctor --save-baseline [SERVICE...] | --restore SERVICE | --forget SERVICE   [--root DIR]
import { DEFAULT_CONFIG_PATH } from '../config/load';
import { forgetService, restoreService, saveBaseline } from '../system/baseline';
import { checkOfflineCaches } from '../doctor/offline';
import { checkConfig, checkModuleInstalled, checkPamFiles, checkStanzaWorkers, checkStores, checkWorker, Row } from '../doctor/checks';
import { exitCode, json, table } from '../doctor/report';
import { SystemRoot } from '../system/root';

const USAGE = 'usage: pam-mapi doctor [--json] [--root DIR] [--config FILE] [--worker SOCKET]\n       pam-mapi doctor --save-baseline [SERVICE...] | --restore SERVICE | --forget SERVICE [--root DIR]\n';

export async function doctorCommand(args: string[]): Promise<number> {
  let asJson = false;
  let rootDir: string | undefined;
  let config = DEFAULT_CONFIG_PATH;
  let worker: string | undefined;
  let action: { kind: 'check' } | { kind: 'save'; only: string[] } | { kind: 'restore' | 'forget'; service: string } = { kind: 'check' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string | undefined => args[++i];
    if (a === '--json') asJson = true;
    else if (a === '--root') rootDir = value();
    else if (a === '--config') config = value() ?? '';
    else if (a === '--worker') worker = value();
    else if (a === '--save-baseline') action = { kind: 'save', only: [] };
    else if (a === '--restore') action = { kind: 'restore', service: value() ?? '' };
    else if (a === '--forget') action = { kind: 'forget', service: value() ?? '' };
    else if (action.kind === 'save' && !a.startsWith('-')) action.only.push(a);
    else {
      process.stderr.write(`pam-mapi doctor: unknown argument ${a}\n${USAGE}`);
      return 2;
    }
  }
  const root = new SystemRoot(rootDir);
  const badName = (n: string): boolean => n === '' || n.includes('/') || n === '.' || n === '..';
  if ((action.kind === 'save' && action.only.some(badName)) || ((action.kind === 'restore' || action.kind === 'forget') && badName(action.service))) {
    process.stderr.write(`pam-mapi doctor: ${action.kind === 'save' ? '--save-baseline' : `--${action.kind}`} needs a service name (a file name in /etc/pam.d)\n${USAGE}`);
    return 2;
  }
  try {
    if (action.kind === 'save') {
      const { baseline, added, kept } = saveBaseline(root, action.only);
      const names = Object.keys(baseline.services);
      process.stdout.write(`baseline saved: ${names.length > 0 ? names.join(', ') : 'no pam.d file uses pam_mapi yet'}\n`);
      if (added.length > 0 && added.length < names.length) process.stdout.write(`recorded now: ${added.join(', ')}\n`);
      // Kept, never overwritten: an upgrade that deleted or rewrote one must not erase the record.
      for (const k of kept) process.stdout.write(`kept the recorded ${k}, which is gone or changed: pam-mapi doctor shows it; --restore ${k} puts it back, --save-baseline ${k} takes the file as it is now, --forget ${k} drops it\n`);
      return 0;
    }
    if (action.kind === 'forget') {
      forgetService(root, action.service);
      process.stdout.write(`forgot ${action.service}: the doctor no longer expects ${root.pamDir}/${action.service} to use pam_mapi\n`);
      return 0;
    }
    if (action.kind === 'restore') {
      const r = restoreService(root, action.service);
      process.stdout.write(`restored ${r.restored}${r.keptCopy ? ` (the file it replaced is kept as ${r.keptCopy})` : ''}\n`);
      return 0;
    }
  } catch (e) {
    process.stderr.write(`pam-mapi doctor: ${(e as Error).message}\n`);
    return 1;
  }

  const rows: Row[] = [];
  const { rows: configRows, config: parsed } = checkConfig(root, config);
  rows.push(...configRows);
  if (parsed !== null) {
    rows.push(...(await checkWorker(parsed, worker)));
    rows.push(...(await checkStores(parsed)));
    rows.push(...checkOfflineCaches(root, parsed));
  }
  rows.push(...checkModuleInstalled(root));
  rows.push(...checkPamFiles(root, parsed));
  rows.push(...(await checkStanzaWorkers(root, parsed, parsed === null ? null : worker ?? parsed.worker.socket)));
  process.stdout.write(asJson ? json(rows) : table(rows));
  return exitCode(rows);
}
