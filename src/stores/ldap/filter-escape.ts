// Puts a user name into the configured search filter as data, never as filter syntax.
// RFC 4515 section 3: in a filter value, `*` `(` `)` `\` and NUL must be written as \XX.
// Nothing else is escaped: ldapts decodes each \XX as one character, so escaping the bytes of
// a UTF-8 letter would turn "jürgen" into "jÃ¼rgen"; UTF-8 is allowed in values as it is.

const SPECIAL: Readonly<Record<string, string>> = { '*': '\\2a', '(': '\\28', ')': '\\29', '\\': '\\5c', '\0': '\\00' };

export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (c) => SPECIAL[c]);
}

/** The placeholder for the escaped login in `filter`. */
export const LOGIN_PLACEHOLDER = '%u';

/** The filter with every %u replaced by the escaped login. split/join, not replace(), so a `$`
 * in the login is not read as a replacement pattern. */
export function userFilter(template: string, login: string): string {
  return template.split(LOGIN_PLACEHOLDER).join(escapeFilterValue(login));
}
