// Kopano's per-user feature rule, in one place for every store: a feature is on when the user
// enables it, or when the store does not disable it by default and the user does not disable it.

import { UserFeatures } from './store';

/** The features Kopano knows. A service= naming another is refused: a typo such as
 * `service=imapp` would otherwise count as "on" for every user and let everyone in. */
export const KNOWN_FEATURES = ['imap', 'pop3', 'mobile', 'outlook', 'webapp'] as const;

/** Kopano's own default for disabled_features. */
export const KOPANO_DEFAULT_DISABLED = ['imap', 'pop3'] as const;

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
