/**
 * Typed wrapper around the `pam_client` Node addon (native/addon/pam_client.cc): a real libpam
 * client used by the tests, the demo and the CLI, plus SO_PEERCRED for the worker.
 *
 * The addon is loaded from the repository's build output. This file compiles to
 * `dist/src/pam/client.js`, so the path is computed relative to that location.
 */
import * as path from 'path';

/** The PAM calls a transaction can make, in the order given. */
export type PamStep = 'authenticate' | 'acct_mgmt' | 'setcred';

/** Items set with pam_set_item right after pam_start. */
export interface PamItems {
  /** PAM_RHOST */
  rhost?: string;
  /** PAM_RUSER */
  ruser?: string;
  /** PAM_TTY */
  tty?: string;
  /**
   * PAM_AUTHTOK. Linux-PAM only lets modules set this item; from the application side
   * pam_set_item refuses it with PAM_BAD_ITEM, and the transaction then rejects with a
   * {@link PamItemError}.
   */
  authtok?: string;
}

export interface PamTransactionOptions {
  /** PAM service name (the file name under the PAM configuration directory). */
  service: string;
  /** User name; null starts PAM with a NULL user (modules then ask for it). */
  user: string | null;
  /** Private configuration directory (pam_start_confdir); null/undefined uses the system one. */
  confDir?: string | null;
  items?: PamItems;
  /** PAM calls to run, in order. Flags are 0, or PAM_SILENT with {@link silent}. */
  steps: PamStep[];
  /**
   * Scripted conversation answers, handed out in order, one per PAM_PROMPT_ECHO_OFF /
   * PAM_PROMPT_ECHO_ON message; once they run out the conversation returns PAM_CONV_ERR
   * (what the step returns is up to the module: pam_unix turns it into PAM_AUTHTOK_ERR).
   * PAM_ERROR_MSG / PAM_TEXT_INFO messages consume no answer; other styles (radio, binary)
   * make the conversation return PAM_CONV_ERR.
   *
   * Why up front: the conversation function runs on a libuv worker thread, inside libpam,
   * while the JS thread may be busy; it cannot call back into JS. Scripted answers keep the
   * conversation synchronous and the test outcome deterministic.
   *
   * Answers are C strings to PAM: an answer containing U+0000 is truncated there. The
   * addon wipes its copies when the transaction ends.
   */
  answers?: string[];
  /** Keep running the remaining steps after a step fails (default: stop at the first failure). */
  continueOnFailure?: boolean;
  /** Pass PAM_SILENT to every step. */
  silent?: boolean;
  /**
   * "scripted" (default) uses {@link answers}; "none" starts PAM with a conversation whose
   * function pointer is NULL. Linux-PAM's pam_start accepts that; a module that tries to
   * converse then fails its own way (pam_unix: PAM_AUTHTOK_ERR; pam_echo ignores it).
   */
  conversation?: 'scripted' | 'none';
  /**
   * Install a PAM_FAIL_DELAY callback that only records the requested delay (no sleep
   * happens); the result's failDelay reports it. Otherwise libpam sleeps for real on failure,
   * which ties up a libuv thread-pool thread for that long.
   */
  recordFailDelay?: boolean;
}

export interface PamStepResult {
  step: PamStep;
  /** Linux-PAM return code. */
  code: number;
  /** Symbolic name, e.g. "PAM_AUTH_ERR"; "PAM_UNKNOWN_<n>" for codes the addon does not know. */
  name: string;
  /** pam_strerror text. */
  text: string;
}

export type PamPromptStyle = 'echo_off' | 'echo_on' | 'error' | 'info';

export interface PamPrompt {
  style: PamPromptStyle;
  message: string;
}

/**
 * What libpam passed to the PAM_FAIL_DELAY callback. Linux-PAM (1.5.2) calls it at the end of
 * every pam_authenticate, also on success, with the delay it would otherwise have slept: the
 * largest delay any module requested via pam_fail_delay, *randomized* by libpam
 * (base * (1 + x), x a pseudo-gaussian in (-0.5, 0.5) seeded by the start time in seconds).
 * So pam_unix's 2 s request arrives as roughly 1.5-2.5 s, not exactly 2000000; 0 if none.
 */
export interface PamFailDelay {
  /** The step's return code the callback was called with. */
  retval: number;
  /** The (randomized) delay in microseconds. */
  usec: number;
}

export interface PamTransactionResult {
  /** One entry per step run; empty when pam_start failed. */
  steps: PamStepResult[];
  /** Every message the conversation saw, in order (including ones after the answers ran out). */
  prompts: PamPrompt[];
  /** The last fail-delay callback (only with recordFailDelay), or null if libpam never called it. */
  failDelay: PamFailDelay | null;
  /** pam_start's return code. */
  startCode: number;
  startName: string;
  /** pam_strerror text for startCode. */
  startText: string;
}

/**
 * The rejection when libpam refuses one of {@link PamItems} (or the PAM_FAIL_DELAY callback).
 * The transaction is ended (pam_end) and no steps are run.
 */
export interface PamItemError extends Error {
  /** e.g. "PAM_AUTHTOK" */
  item: string;
  pamCode: number;
  pamName: string;
}

/** The addon's raw exports. */
interface PamClientAddon {
  runTransaction(options: PamTransactionOptions): Promise<PamTransactionResult>;
  checkModule(path: string): ModuleCheck;
  codes: Record<string, number>;
}

/** Whether a PAM module loads (dlopen with RTLD_NOW, as libpam does) and which of the three
 * PAM entry points it lacks. */
export type ModuleCheck = { loaded: true; missing: string[] } | { loaded: false; error: string };

/** Absolute path of the compiled addon, from dist/src/pam/client.js up to the repo root. */
export const addonPath: string = path.resolve(__dirname, '../../../build/Release/pam_client.node');

const addon = require(addonPath) as PamClientAddon;

/**
 * Runs one real libpam transaction (pam_start[_confdir], pam_set_item, the steps, pam_end) on
 * a libuv worker thread; any number may run concurrently (the thread pool, UV_THREADPOOL_SIZE,
 * bounds how many are inside libpam at once). Resolves even when pam_start or a step fails;
 * rejects with a TypeError for bad options, or with a {@link PamItemError}.
 */
export async function runPamTransaction(
  options: PamTransactionOptions,
): Promise<PamTransactionResult> {
  // async: a TypeError the addon throws synchronously for bad options becomes a rejection.
  return addon.runTransaction(options);
}

/** Linux-PAM return codes by name (PAM_SUCCESS, PAM_AUTH_ERR, ...), as compiled into the addon. */
export const pamCodes: Readonly<Record<string, number>> = Object.freeze({ ...addon.codes });

export function checkModule(path: string): ModuleCheck {
  return addon.checkModule(path);
}
