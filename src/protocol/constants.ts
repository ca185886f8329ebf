// The wire protocol's numbers, read from the same JSON file the C header is generated from.
import spec from './constants.json';

export const PROTOCOL_VERSION: number = spec.version;
export const HEADER_SIZE: number = spec.headerSize;
export const MAX_PAYLOAD: number = spec.maxPayload;
export const MAX_ARGS: number = spec.maxArgs;
/** The system user (and group) the worker runs as, which the module trusts besides root. */
export const WORKER_USER: string = spec.workerUser;
export const LIMITS = spec.limits;
export const MessageType = spec.messages;
export const Field = spec.fields;
export const Op = spec.ops;
export const Result = spec.results;
/** Where the module's password came from (pam_get_authtok), or why there is none. */
export const PasswordFrom = spec.passwordFrom;
export const LogLevel = spec.logLevels;
export const ErrorCode = spec.errors;
/** The module's transport arguments (worker=, timeout=): defaults and bounds the shim uses too. */
export const MODULE_TRANSPORT = spec.module;

export type ResultName = keyof typeof spec.results;
export type LogLevelName = keyof typeof spec.logLevels;
export type PasswordFromName = keyof typeof spec.passwordFrom;
export type ErrorName = keyof typeof spec.errors;

export function nameOf<T extends Record<string, number>>(table: T, value: number): keyof T | undefined {
  return (Object.keys(table) as Array<keyof T>).find((k) => table[k] === value);
}
