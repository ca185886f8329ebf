#!/usr/bin/env node
// pam-mapi: the administrator's tool. Commands: check, hash, doctor, status, explain.
// Each command is loaded when run: check and hash then load no store (no database or LDAP
// library), which only the doctor opens.

const USAGE = `usage: pam-mapi COMMAND ...
  check USER [--service FEATURE] [--store NAME] [--worker SOCKET] [--config FILE]
  check USER --pam PAMSERVICE [--pam-dir DIR]
        asks for the password and runs it through pam_mapi.so; exit 0 only on success
  hash  reads a password and prints its Zarafa/Kopano salted-MD5 value
  doctor [--json] [--root DIR]   checks config, worker, stores, module and /etc/pam.d
  doctor --save-baseline [SERVICE...] | --restore SERVICE | --forget SERVICE
  status [--config FILE] [--socket PATH] [--prometheus]
        the worker's numbers: decisions, latency, stores, throttle
  explain USER [--service FEATURES] [--store NAME] [--rhost ADDRESS] [--password] [--config FILE]
        runs the decision step by step, with timings; a password only with --password
`;

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'check':
      return (await import('./check')).checkCommand(rest);
    case 'hash':
      return (await import('./hash')).hashCommand(rest);
    case 'doctor':
      return (await import('./doctor')).doctorCommand(rest);
    case 'status':
      return (await import('./status')).statusCommand(rest);
    case 'explain':
      return (await import('./explain')).explainCommand(rest);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`pam-mapi: unknown command ${command}\n${USAGE}`);
      return 2;
  }
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`pam-mapi: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
