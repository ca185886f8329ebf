// The pam.d baseline: the service files that used pam_mapi when the administrator said "this
// is right" (pam-mapi doctor --save-baseline), kept byte for byte so a file an upgrade deleted
// can be put back exactly (--restore).
import crypto from 'crypto';
import fs from 'fs';
import path from 'path';
import { readPamDir, usesPamMapi } from './pamd';
import { SystemRoot } from './root';

export interface BaselineEntry {
  sha256: string;
  /** The file's bytes, base64. */
  content: string;
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

export function saveBaseline(root: SystemRoot): Baseline {
  const services: Record<string, BaselineEntry> = {};
  for (const f of readPamDir(root.pamDir).filter(usesPamMapi)) {
    const bytes = fs.readFileSync(f.path);
    services[f.service] = { sha256: sha256(bytes), content: bytes.toString('base64') };
  }
  const baseline: Baseline = { savedAt: new Date().toISOString(), services };
  fs.mkdirSync(root.stateDir, { recursive: true, mode: 0o755 });
  const file = baselinePath(root);
  fs.writeFileSync(`${file}.new`, JSON.stringify(baseline, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(`${file}.new`, file);
  return baseline;
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
