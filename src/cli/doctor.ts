// pam-mapi doctor [--json] [--root DIR] [--config FILE] [--worker SOCKET]
// pam-mapi doctor --save-baseline | --restore SERVICE   [--root DIR]
import { DEFAULT_CONFIG_PATH } from '../config/load';
import { restoreService, saveBaseline } from '../system/baseline';
import { checkConfig, checkModuleInstalled, checkPamFiles, checkStores, checkWorker, Row } from '../doctor/checks';
import { exitCode, json, table } from '../doctor/report';
import { SystemRoot } from '../system/root';

const USAGE = 'usage: pam-mapi doctor [--json] [--root DIR] [--config FILE] [--worker SOCKET]\n       pam-mapi doctor --save-baseline | --restore SERVICE [--root DIR]\n';

export async function doctorCommand(args: string[]): Promise<number> {
  let asJson = false;
  let rootDir: string | undefined;
  let config = DEFAULT_CONFIG_PATH;
  let worker: string | undefined;
  let action: { kind: 'check' } | { kind: 'save' } | { kind: 'restore'; service: string } = { kind: 'check' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string | undefined => args[++i];
    if (a === '--json') asJson = true;
    else if (a === '--root') rootDir = value();
    else if (a === '--config') config = value() ?? '';
    else if (a === '--worker') worker = value();
    else if (a === '--save-baseline') action = { kind: 'save' };
    else if (a === '--restore') action = { kind: 'restore', service: value() ?? '' };
    else {
      process.stderr.write(`pam-mapi doctor: unknown argument ${a}\n${USAGE}`);
      return 2;
    }
  }
  const root = new SystemRoot(rootDir);
  if (action.kind === 'save') {
    const b = saveBaseline(root);
    const names = Object.keys(b.services);
    process.stdout.write(`baseline saved: ${names.length > 0 ? names.join(', ') : 'no pam.d file uses pam_mapi yet'}\n`);
    return 0;
  }
  if (action.kind === 'restore') {
    if (action.service === '' || action.service.includes('/')) {
      process.stderr.write(`pam-mapi doctor: --restore needs a service name\n${USAGE}`);
      return 2;
    }
    try {
      const r = restoreService(root, action.service);
      process.stdout.write(`restored ${r.restored}${r.keptCopy ? ` (the file it replaced is kept as ${r.keptCopy})` : ''}\n`);
      return 0;
    } catch (e) {
      process.stderr.write(`pam-mapi doctor: ${(e as Error).message}\n`);
      return 1;
    }
  }

  const rows: Row[] = [];
  const { rows: configRows, config: parsed } = checkConfig(root, config);
  rows.push(...configRows);
  if (parsed !== null) {
    rows.push(...(await checkWorker(parsed, worker)));
    rows.push(...(await checkStores(parsed)));
  }
  rows.push(...checkModuleInstalled(root));
  rows.push(...checkPamFiles(root, parsed));
  process.stdout.write(asJson ? json(rows) : table(rows));
  return exitCode(rows);
}
