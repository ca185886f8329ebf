// {ARGON2I} and {ARGON2ID} values (Dovecot's passwd-file): checked by the maintained `argon2`
// package (the reference implementation, on libuv's thread pool), loaded at the first such
// check so a worker without one never loads it. Node 20's crypto has no Argon2.
import { Argon2Verify } from './secrets';

/** The largest memory cost accepted (KiB): a file naming more would let one login take that
 * much of the worker's memory per concurrent check. Dovecot's default is 65536 (64 MiB). */
export const ARGON2_MAX_MEMORY_KIB = 262144;
export const ARGON2_MAX_TIME = 16;
export const ARGON2_MAX_PARALLELISM = 16;

let loaded: Promise<Argon2Verify> | null = null;

export function loadArgon2(): Promise<Argon2Verify> {
  loaded ??= import('argon2').then((m) => (hash: string, password: Buffer) => m.verify(hash, password));
  return loaded;
}

/** Why the PHC string's costs are refused, or null. */
export function argon2CostProblem(hash: string): string | null {
  const m = /\$m=([0-9]+),t=([0-9]+),p=([0-9]+)\$/.exec(hash);
  if (m === null) return 'no m=,t=,p= costs';
  if (Number(m[1]) > ARGON2_MAX_MEMORY_KIB) return `memory cost m=${m[1]} is above ${ARGON2_MAX_MEMORY_KIB} KiB`;
  if (Number(m[2]) > ARGON2_MAX_TIME) return `time cost t=${m[2]} is above ${ARGON2_MAX_TIME}`;
  if (Number(m[3]) > ARGON2_MAX_PARALLELISM) return `parallelism p=${m[3]} is above ${ARGON2_MAX_PARALLELISM}`;
  return null;
}
