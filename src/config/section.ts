// Typed, validated reading of one INI section. Every key must be read by someone, so a typo
// in the config is an error instead of a silently ignored setting.
import { ConfigError } from './errors';

export type RawSection = Record<string, string>;

const YES = ['yes', 'true', 'on', '1'];
const NO = ['no', 'false', 'off', '0'];

export class SectionReader {
  private readonly unread: Set<string>;

  constructor(
    readonly file: string,
    readonly section: string,
    private readonly values: RawSection,
  ) {
    this.unread = new Set(Object.keys(values));
  }

  fail(key: string, problem: string, fix?: string): never {
    throw new ConfigError(`${this.file}: [${this.section}] ${key}: ${problem}`, fix);
  }

  /** How the section spells key (see PrefixedReader). */
  keyName(key: string): string {
    return key;
  }

  has(key: string): boolean {
    return this.optional(key) !== undefined;
  }

  /** The value, or undefined when the key is absent or empty. */
  optional(key: string): string | undefined {
    this.unread.delete(key);
    const v = this.values[key];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  string(key: string, fallback: string): string {
    return this.optional(key) ?? fallback;
  }

  required(key: string): string {
    return this.optional(key) ?? this.fail(key, 'is required');
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    const v = this.optional(key);
    if (v === undefined) return fallback;
    if (!/^[0-9]+$/.test(v)) this.fail(key, `"${v}" is not a whole number`);
    const n = Number(v);
    if (n < min || n > max) this.fail(key, `${n} is outside ${min}..${max}`);
    return n;
  }

  /** Seconds given as a decimal number, returned in milliseconds. */
  seconds(key: string, fallbackSeconds: number, maxSeconds: number, zeroAllowed = false): number {
    const v = this.optional(key);
    if (v === undefined) return fallbackSeconds * 1000;
    if (!/^[0-9]+(\.[0-9]+)?$/.test(v)) this.fail(key, `"${v}" is not a number of seconds`);
    const n = Number(v);
    // The pattern above already rules out negative numbers.
    if (n > maxSeconds || (n === 0 && !zeroAllowed)) this.fail(key, `${n} is outside ${zeroAllowed ? '[0' : '(0'}, ${maxSeconds}] seconds`);
    return Math.round(n * 1000);
  }

  octal(key: string, fallback: number): number {
    const v = this.optional(key);
    if (v === undefined) return fallback;
    if (!/^0?[0-7]{3}$/.test(v)) this.fail(key, `"${v}" is not an octal file mode like 0600`);
    return parseInt(v, 8);
  }

  /** A list separated by spaces or commas. */
  list(key: string, fallback: readonly string[]): string[] {
    const v = this.optional(key);
    if (v === undefined) return this.values[key] !== undefined ? [] : [...fallback];
    return v.split(/[\s,]+/).filter((s) => s !== '');
  }

  /** The one way every section reads a yes/no key: yes, true, on or 1; no, false, off or 0;
   * in any case. */
  boolean(key: string, fallback: boolean): boolean {
    const v = this.optional(key);
    if (v === undefined) return fallback;
    const w = v.toLowerCase();
    if (YES.includes(w)) return true;
    if (NO.includes(w)) return false;
    return this.fail(key, `"${v}" is not yes or no (also accepted: ${[...YES, ...NO].filter((x) => x !== 'yes' && x !== 'no').join(', ')})`);
  }

  choice<T extends string>(key: string, fallback: T, allowed: readonly T[]): T {
    const v = this.optional(key);
    if (v === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(v)) this.fail(key, `"${v}" is not one of ${allowed.join(', ')}`);
    return v as T;
  }

  /** Throws for the first key nobody asked for. */
  finish(): void {
    const [first] = this.unread;
    if (first !== undefined) this.fail(first, 'unknown key');
  }
}

/** The keys of one section that share a prefix, read by the code that reads the same keys
 * without it elsewhere (an ldap section's krb5_realm is a krb5 section's realm). Reads, checks and
 * errors go to the section's own reader under the prefixed name; its owner calls finish(). */
export class PrefixedReader extends SectionReader {
  constructor(
    private readonly base: SectionReader,
    private readonly prefix: string,
  ) {
    super(base.file, base.section, {});
  }

  override keyName(key: string): string {
    return this.base.keyName(`${this.prefix}${key}`);
  }

  override fail(key: string, problem: string, fix?: string): never {
    return this.base.fail(`${this.prefix}${key}`, problem, fix);
  }

  override optional(key: string): string | undefined {
    return this.base.optional(`${this.prefix}${key}`);
  }

  override list(key: string, fallback: readonly string[]): string[] {
    return this.base.list(`${this.prefix}${key}`, fallback);
  }

  override finish(): void {
    // The section's own reader does.
  }
}
