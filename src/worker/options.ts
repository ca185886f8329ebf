import { MODULE_TRANSPORT } from '../protocol/constants';
import { KNOWN_FEATURES } from '../stores/features';

// The module arguments of a /etc/pam.d line, as the original pam_mapi documented them plus
// ours. Parsed here, in the worker, so the C shim holds no policy.

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
  /** Arguments we do not know, logged at LOG_ERR and ignored. */
  unknown: string[];
  /** Known arguments with a value we cannot use, logged and ignored. */
  invalid: string[];
  /** Problems that make any answer but "no" unsafe (a feature or store we cannot honour). */
  fatal: string[];
}

const FLAGS = {
  try_first_pass: 'tryFirstPass',
  use_first_pass: 'useFirstPass',
  quiet: 'quiet',
  debug: 'debug',
  nodelay: 'nodelay',
} as const;

export function parseModuleOptions(args: readonly string[]): ModuleOptions {
  const o: ModuleOptions = {
    tryFirstPass: false, useFirstPass: false, quiet: false, debug: false, nodelay: false,
    services: null, store: '', legacySocket: null, unknown: [], invalid: [], fatal: [],
  };
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const value = eq < 0 ? null : arg.slice(eq + 1);
    if (value === null && name in FLAGS) {
      o[FLAGS[name as keyof typeof FLAGS]] = true;
      continue;
    }
    switch (name) {
      case 'service': {
        const features = (value ?? '').split(/[|,]/).map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
        const unknown = features.filter((f) => !(KNOWN_FEATURES as readonly string[]).includes(f));
        if (features.length === 0) o.fatal.push(`${arg} names no feature`);
        else if (unknown.length > 0) o.fatal.push(`${arg}: unknown feature ${unknown.join(', ')} (known: ${KNOWN_FEATURES.join(' ')})`);
        else o.services = [...(o.services ?? []), ...features];
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
        // Read by the shim; nothing to decide here.
        if (value === null || value === '') o.invalid.push(arg);
        break;
      case 'timeout':
        if (value === null || !/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > MODULE_TRANSPORT.maxTimeoutSeconds) o.invalid.push(arg);
        break;
      default:
        o.unknown.push(arg);
    }
  }
  return o;
}
