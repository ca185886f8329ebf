/** A configuration problem, worded for the administrator: it names the file, section and key. */
export class ConfigError extends Error {
  constructor(
    message: string,
    /** The edit that fixes it, when there is a likely one (the doctor prints it). */
    readonly fix?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}
