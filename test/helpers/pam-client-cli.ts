// Runs one PAM authentication and prints the result code's name: for tests that need a client
// process of its own (for instance under another uid). Usage: CONFDIR SERVICE USER PASSWORD
import { runPamTransaction } from '../../src/pam/client';

async function main(): Promise<void> {
  const [confDir, service, user, password] = process.argv.slice(2);
  const r = await runPamTransaction({ service, user, confDir, answers: [password], steps: ['authenticate'], recordFailDelay: true });
  process.stdout.write(`${r.steps[0]?.name ?? r.startName}\n`);
}

void main();
