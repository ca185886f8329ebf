// Login names compare as Kopano compares them (strcasecmp): ignoring the case of ASCII letters
// only, so "JÜRGEN" is not "jürgen" in any store.

export function foldLogin(login: string): string {
  return login.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

export function sameLogin(a: string, b: string): boolean {
  return foldLogin(a) === foldLogin(b);
}
