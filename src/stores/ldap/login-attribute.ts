// One user, one spelling: which attribute values a login must equal, and the check.
//
// The server's matching rules find an entry for more spellings than the login itself: OpenLDAP's
// caseIgnoreMatch drops leading and trailing spaces and folds Unicode (fullwidth letters, "İ"),
// so " alice", "ａｌｉｃｅ" and "alİce" all find alice. The store accepts the entry only when
// the login, put into the filter's item as the search did, equals a value of that attribute up
// to ASCII case, as Kopano's strcasecmp and the other stores compare (src/stores/login.ts). Any
// other spelling is an unknown user, so per-name lockouts and Dovecot's %u see one name.
import { AndFilter, EqualityFilter, ExtensibleFilter, Filter, FilterParser, NotFilter, OrFilter, PresenceFilter } from 'ldapts';
import type { Entry } from 'ldapts';
import { sameLogin } from '../login';
import { stringValues } from './entry-values';
import { userFilter } from './filter-escape';

/** The login must equal (up to ASCII case) a value of `attribute` that reads parts.join(login):
 * ['', ''] for (uid=%u), ['', '@example.org'] for (mail=%u@example.org). */
export interface LoginRule {
  attribute: string;
  parts: string[];
}

/** Stands for the login while the filter is taken apart: plain letters, so it is not escaped. */
const MARK = 'PamMapiLoginMark7c1e';

/** The rules a filter template implies: one per equality item whose value holds %u (items that
 * use %u otherwise, a substring for instance, only ever find more entries: the rules decide).
 * Throws (with the reason) when %u is in no equality item, or stands for an attribute name. */
export function rulesFromFilter(template: string): LoginRule[] {
  const rules: LoginRule[] = [];
  let inexact = '';
  const walk = (f: Filter): void => {
    if (f instanceof AndFilter || f instanceof OrFilter) {
      f.filters.forEach(walk);
      return;
    }
    if (f instanceof NotFilter) {
      walk(f.filter);
      return;
    }
    if (f instanceof EqualityFilter || (f instanceof ExtensibleFilter && f.matchType !== undefined && f.matchType !== '' && !f.dnAttributes)) {
      const attribute = f instanceof EqualityFilter ? f.attribute : f.matchType as string;
      const value = Buffer.isBuffer(f.value) ? f.value.toString('utf8') : f.value;
      if (attribute.includes(MARK)) throw new Error('%u stands for an attribute name');
      if (value.includes(MARK)) rules.push({ attribute, parts: value.split(MARK) });
      return;
    }
    if (f instanceof PresenceFilter) {
      if (f.attribute.includes(MARK)) throw new Error('%u stands for an attribute name');
      return;
    }
    // Substring, approximate, ordering, or an extensible match without an attribute.
    if (JSON.stringify(f).includes(MARK)) inexact ||= f.toString().split(MARK).join('%u');
  };
  walk(FilterParser.parseString(userFilter(template, MARK)));
  if (rules.length === 0) {
    throw new Error(inexact !== '' ? `%u is only in items whose value cannot be compared exactly (${inexact})` : '%u is in no equality item (attribute=...%u...)');
  }
  return rules;
}

/** Whether the entry carries the login in one of the rules' attributes, spelled the same up to
 * ASCII case. */
export function entryHasLogin(entry: Entry, rules: readonly LoginRule[], login: string): boolean {
  return rules.some((rule) => {
    const wanted = rule.parts.join(login);
    return stringValues(entry, rule.attribute).some((v) => sameLogin(v, wanted));
  });
}

/** The login as the entry spells it (the value of the first rule that matches, without the
 * rule's fixed text around %u), or null when no rule matches. A check that names the user
 * elsewhere (a Kerberos principal) takes this, not the typed login: "ALICE" finds alice's entry,
 * and must never reach a principal ALICE that is someone else. */
export function loginAsStored(entry: Entry, rules: readonly LoginRule[], login: string): string | null {
  for (const rule of rules) {
    const wanted = rule.parts.join(login);
    const value = stringValues(entry, rule.attribute).find((v) => sameLogin(v, wanted));
    // Folding ASCII letters keeps the length, so the login sits where the rule put it.
    if (value !== undefined) return value.slice(rule.parts[0].length, rule.parts[0].length + login.length);
  }
  return null;
}
