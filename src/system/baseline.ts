// The pam.d baseline: the service files that used pam_mapi when the administrator said "this
// is right" (pam-mapi doctor --save-baseline), kept byte for byte so a file an upgrade deleted
// can be put back exactly (--restore).
//
// The baseline remembers: saving it again (as every install and upgrade does) adds the files
// that newly use pam_mapi and changes nothing it already knows, so a stanza an upgrade deleted
// or rewrote stays recorded, the doctor keeps failing on it and --restore can still bring it
// back. Only the administrator's explicit --save-baseline SERVICE (take the file as it is now)
// and --forget SERVICE (drop it) change what is known.
import crypto from 'crypto';
import fs from 'fs';
import path from 'path';
import { readPamDir, usesPamMapi } from './pamd';
import { SystemRoot } from './root';

export interface BaselineEntry {
  sha256: string;
  /** The file's bytes, base64. */
  content: string;
  /** When this file was recorded (absent in baselines saved before entries had their own time). */
  recordedAt?: string;
}

export interface Baseline {
  savedAt: string;
  services: Record<string, BaselineEntry>;
}

export function baselinePath(root: SystemRoot): string {
  return path.join(root.stateDir, 'pam.d-baseline.json');
}

export function loadBaseline(root: SystemRoot): Baseline | null {
  try {
    return JSON.parse(fs.readFileSync(baselinePath(root), 'utf8')) as Baseline;
  } catch {
    return null;
  }
}

export function sha256(data: Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** When an entry was recorded, for the doctor's messages. */
export function recordedAt(baseline: Baseline, service: string): string {
  return baseline.services[service]?.recordedAt ?? baseline.savedAt;
}

export interface SaveResult {
  baseline: Baseline;
  /** Recorded by this save. */
  added: string[];
  /** Known before and no longer in pam.d as recorded: kept, so the doctor still reports them. */
  kept: string[];
}

function writeBaseline(root: SystemRoot, baseline: Baseline): void {
  fs.mkdirSync(root.stateDir, { recursive: true, mode: 0o755 });
  const file = baselinePath(root);
  // 0644: the worker, running as its own user, reads it at start; it holds copies of
  // /etc/pam.d files, which everyone may read anyway.
  fs.writeFileSync(`${file}.new`, JSON.stringify(baseline, null, 2) + '\n', { mode: 0o644 });
  fs.renameSync(`${file}.new`, file);
}

/** Records the pam.d files that use pam_mapi. Without `only`: every such file the baseline does
 * not know yet, and nothing it knows is changed or dropped (what install and upgrade run). With
 * `only`: those services' files as they are now, replacing what was recorded (the administrator
 * saying "this change is right"); each must use pam_mapi. */
export function saveBaseline(root: SystemRoot, only: readonly string[] = []): SaveResult {
  const now = new Date().toISOString();
  const before = loadBaseline(root);
  // A baseline that exists but cannot be read is not replaced: it may be all that remembers a
  // deleted stanza.
  if (before === null && fs.existsSync(baselinePath(root))) throw new Error(`cannot read ${baselinePath(root)}: move it away to start a new baseline`);
  const services: Record<string, BaselineEntry> = { ...(before?.services ?? {}) };
  const using = readPamDir(root.pamDir).filter(usesPamMapi);
  const added: string[] = [];
  for (const name of only) {
    if (!using.some((f) => f.service === name)) {
      throw new Error(`${path.join(root.pamDir, name)} does not use pam_mapi: nothing to record (to drop "${name}" from the baseline: pam-mapi doctor --forget ${name})`);
    }
  }
  for (const f of using) {
    if (only.length > 0 ? !only.includes(f.service) : services[f.service] !== undefined) continue;
    const bytes = fs.readFileSync(f.path);
    services[f.service] = { sha256: sha256(bytes), content: bytes.toString('base64'), recordedAt: now };
    added.push(f.service);
  }
  const kept = Object.keys(services).filter((name) => {
    const file = path.join(root.pamDir, name);
    return !fs.existsSync(file) || sha256(fs.readFileSync(file)) !== services[name].sha256;
  });
  const baseline: Baseline = { savedAt: now, services: Object.fromEntries(Object.entries(services).sort(([a], [b]) => a.localeCompare(b))) };
  writeBaseline(root, baseline);
  return { baseline, added, kept };
}

/** Drops a service from the baseline: the administrator removed its stanza on purpose. */
export function forgetService(root: SystemRoot, service: string): Baseline {
  const baseline = loadBaseline(root);
  if (baseline?.services[service] === undefined) throw new Error(`no recorded stanza for "${service}" (saved services: ${Object.keys(baseline?.services ?? {}).join(', ') || 'none'})`);
  const services = { ...baseline.services };
  delete services[service];
  const after: Baseline = { savedAt: new Date().toISOString(), services };
  writeBaseline(root, after);
  return after;
}

/** Puts a recorded service file back; what it replaces is kept beside it. Returns that copy's path. */
export function restoreService(root: SystemRoot, service: string): { restored: string; keptCopy: string | null } {
  const baseline = loadBaseline(root);
  const entry = baseline?.services[service];
  if (entry === undefined) throw new Error(`no recorded stanza for "${service}" (saved services: ${Object.keys(baseline?.services ?? {}).join(', ') || 'none'})`);
  const target = path.join(root.pamDir, service);
  let keptCopy: string | null = null;
  if (fs.existsSync(target)) {
    keptCopy = `${target}.pam-mapi-replaced-${new Date().toISOString().replace(/[:.]/g, '')}`;
    fs.copyFileSync(target, keptCopy);
  }
  fs.mkdirSync(root.pamDir, { recursive: true });
  fs.writeFileSync(target, Buffer.from(entry.content, 'base64'), { mode: 0o644 });
  return { restored: target, keptCopy };
}
