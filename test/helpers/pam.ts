// One real PAM transaction through libpam and the built module, answered from a script.
import { PamTransactionResult, runPamTransaction } from '../../src/pam/client';
import { Sandbox } from '../../src/sandbox/sandbox';
import { recordSecret } from '../../src/sandbox/secret-audit';

export interface Run {
  auth: string | undefined;
  account: string | undefined;
  raw: PamTransactionResult;
}

export async function pamRun(
  box: Sandbox,
  service: string,
  user: string | null,
  answers: string[],
  opts: { account?: boolean; authOnly?: boolean; accountOnly?: boolean; rhost?: string; conversation?: 'scripted' | 'none' } = {},
): Promise<Run> {
  for (const a of answers) recordSecret(a);
  const steps: Array<'authenticate' | 'acct_mgmt'> = opts.accountOnly ? ['acct_mgmt'] : opts.account ? ['authenticate', 'acct_mgmt'] : ['authenticate'];
  const raw = await runPamTransaction({
    service, user, confDir: box.pamDir, answers, steps, recordFailDelay: true,
    items: { rhost: opts.rhost ?? '198.51.100.7' }, conversation: opts.conversation,
  });
  if (raw.startName !== 'PAM_SUCCESS') throw new Error(`pam_start failed: ${raw.startName} ${raw.startText}`);
  const find = (step: string): string | undefined => raw.steps.find((s) => s.step === step)?.name;
  return { auth: find('authenticate'), account: find('acct_mgmt'), raw };
}
