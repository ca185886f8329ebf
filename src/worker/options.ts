import { closest, didYouMean } from '../config/suggest';
import { MODULE_TRANSPORT } from '../protocol/constants';
import { KNOWN_FEATURES } from '../stores/features';

// The module arguments of a /etc/pam.d line, as the original pam_mapi documented them plus
// ours. Parsed here, in the worker, so the C shim holds no policy.
//
// An unknown argument that carries a value (`sevice=imap`) refuses the line: whoever wrote it
// meant a setting, most likely a restriction, and running without it would let in users it was
// written to keep out. An unknown bare word is logged and ignored, as pam_unix does.

export interface ModuleOptions {
  tryFirstPass: boolean;
  useFirstPass: boolean;
  quiet: boolean;
  debug: boolean;
  nodelay: boolean;
  /** Features of which the user must have at least one; null when service= is absent. */
  services: string[] | null;
  /** The config store name; "" is the default [store]. */
  store: string;
  /** The original module's server URL, accepted and ignored. */
  legacySocket: string | null;
  /** Bare words we do not know, logged at LOG_ERR and ignored. */
  unknown: string[];
  /** Known arguments with a value we cannot use, logged and ignored. */
  invalid: string[];
  /** Problems that make any answer but "no" unsafe (a feature or store we cannot honour). */
  fatal: string[];
  /** Each misspelled argument and the argument it probably meant (null: no close guess). */
  corrections: Array<{ wrong: string; right: string | null }>;
}

const FLAGS = {
  try_first_pass: 'tryFirstPass',
  use_first_pass: 'useFirstPass',
  quiet: 'quiet',
  debug: 'debug',
  nodelay: 'nodelay',
} as const;

/** Arguments that take a value. `worker`, `timeout` and `worker_user` are read by the shim. */
const VALUE_KEYS = ['service', 'store', 'socket', 'worker', 'timeout', 'worker_user'] as const;

/** Every argument the module knows, as written in a stanza (`service=`, `debug`). */
export const KNOWN_ARGUMENTS: readonly string[] = [...Object.keys(FLAGS), ...VALUE_KEYS.map((k) => `${k}=`)];

/** The known argument closest to an unknown name, written as in a stanza, or null. */
export function closestArgument(name: string): string | null {
  const match = closest(name, [...Object.keys(FLAGS), ...VALUE_KEYS]);
  return match === null ? null : (VALUE_KEYS as readonly string[]).includes(match) ? `${match}=` : match;
}

export function parseModuleOptions(args: readonly string[]): ModuleOptions {
  const o: ModuleOptions = {
    tryFirstPass: false, useFirstPass: false, quiet: false, debug: false, nodelay: false,
    services: null, store: '', legacySocket: null, unknown: [], invalid: [], fatal: [], corrections: [],
  };
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const value = eq < 0 ? null : arg.slice(eq + 1);
    if (Object.hasOwn(FLAGS, name)) {
      // `quiet=no` is not the flag (and not a setting it could honour): logged and ignored.
      if (value === null) o[FLAGS[name as keyof typeof FLAGS]] = true;
      else o.unknown.push(arg);
      continue;
    }
    switch (name) {
      case 'service': {
        const features = (value ?? '').split(/[|,]/).map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
        const unknown = features.filter((f) => !(KNOWN_FEATURES as readonly string[]).includes(f));
        if (features.length === 0) o.fatal.push(`${arg} names no feature`);
        else if (unknown.length > 0) {
          const guesses = unknown.map((f) => closest(f, KNOWN_FEATURES));
          const hint = unknown.map((f, i) => (guesses[i] === null ? f : `${f}${didYouMean(guesses[i])}`)).join(', ');
          o.fatal.push(`${arg}: unknown feature ${hint} (known: ${KNOWN_FEATURES.join(' ')})`);
          const fixed = features.map((f) => (unknown.includes(f) ? guesses[unknown.indexOf(f)] : f));
          o.corrections.push({ wrong: arg, right: fixed.every((f) => f !== null) ? `service=${fixed.join('|')}` : null });
        } else o.services = [...(o.services ?? []), ...features];
        break;
      }
      case 'store':
        if (value === null || !/^[A-Za-z0-9_.-]+$/.test(value)) o.fatal.push(`${arg} is not a store name`);
        else o.store = value === 'default' ? '' : value;
        break;
      case 'socket':
        o.legacySocket = value ?? '';
        break;
      case 'worker':
      case 'worker_user':
        // Read by the shim; nothing to decide here.
        if (value === null || value === '') o.invalid.push(arg);
        break;
      case 'timeout':
        if (value === null || !/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > MODULE_TRANSPORT.maxTimeoutSeconds) o.invalid.push(arg);
        break;
      default: {
        const guess = closestArgument(name);
        if (value === null) {
          o.unknown.push(arg);
          if (guess !== null) o.corrections.push({ wrong: arg, right: guess });
        } else {
          o.fatal.push(`unknown argument "${arg}"${didYouMean(guess)}: refusing this line rather than ignoring a setting it was written with`);
          o.corrections.push({ wrong: arg, right: guess === null ? null : guess.endsWith('=') ? `${guess}${value}` : guess });
        }
      }
    }
  }
  return o;
}
