// What a store gets from the worker: its log, its time budget, and file reading (for keys and
// CA certificates named in the config).
import fs from 'fs';
import { Fields, Level, Logger } from '../log/logger';

export interface StoreContext {
  log(level: Level, event: string, fields?: Fields): void;
  storeTimeoutMs: number;
  readFile(path: string): Buffer;
}

export function storeContext(logger: Logger, storeName: string, storeTimeoutMs: number): StoreContext {
  return {
    log: (level, event, fields) => logger.log(level, event, { store: storeName || 'default', ...fields }),
    storeTimeoutMs,
    readFile: (path) => fs.readFileSync(path),
  };
}
