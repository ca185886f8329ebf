// Kopano's per-user feature rule, in one place for every store: a feature is on when the user
// enables it, or when the store does not disable it by default and the user does not disable it.

import { SectionReader } from '../config/section';
import { closest, didYouMean } from '../config/suggest';
import { UserFeatures } from './store';

/** The features Kopano knows. A service= naming another is refused: a typo such as
 * `service=imapp` would otherwise count as "on" for every user and let everyone in. */
export const KNOWN_FEATURES = ['imap', 'pop3', 'mobile', 'outlook', 'webapp'] as const;

/** Kopano's own default for disabled_features. */
export const KOPANO_DEFAULT_DISABLED = ['imap', 'pop3'] as const;

/** What is wrong with a feature list an administrator wrote, or null when every name is known.
 * An unknown name is a typo: `disabled_features = imap pop4` would leave pop3 on for everyone. */
export function unknownFeatures(list: readonly string[]): { problem: string; fixed: string | null } | null {
  const unknown = list.filter((f) => !(KNOWN_FEATURES as readonly string[]).includes(normalizeFeature(f)));
  if (unknown.length === 0) return null;
  const guesses = unknown.map((f) => closest(f, KNOWN_FEATURES));
  const named = unknown.map((f, i) => `"${f}"${didYouMean(guesses[i])}`).join(', ');
  const fixed = guesses.every((g) => g !== null) ? list.map((f) => guesses[unknown.indexOf(f)] ?? f).join(' ') : null;
  return { problem: `unknown feature ${named}; the features are ${KNOWN_FEATURES.join(' ')}`, fixed };
}

/** A feature list from a store section, every name checked against the known features. */
export function featureList(r: SectionReader, key: string, fallback: readonly string[]): string[] {
  const list = r.list(key, fallback);
  const wrong = unknownFeatures(list);
  if (wrong !== null) r.fail(key, wrong.problem, `edit ${r.file}: [${r.section}] ${key} = ${wrong.fixed ?? KNOWN_FEATURES.filter((f) => list.includes(f)).join(' ')}`);
  return list;
}

export function normalizeFeature(name: string): string {
  return name.trim().toLowerCase();
}

export function featureEnabled(feature: string, user: UserFeatures, defaultDisabled: readonly string[]): boolean {
  const f = normalizeFeature(feature);
  const has = (list: readonly string[]): boolean => list.some((x) => normalizeFeature(x) === f);
  if (has(user.enabled)) return true;
  return !has(defaultDisabled) && !has(user.disabled);
}

/** `service=pop3|imap` is a logical OR: any one enabled feature admits the user. */
export function anyFeatureEnabled(required: readonly string[], user: UserFeatures, defaultDisabled: readonly string[]): boolean {
  return required.some((f) => featureEnabled(f, user, defaultDisabled));
}
