/** A configuration problem, worded for the administrator: it names the file, section and key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
