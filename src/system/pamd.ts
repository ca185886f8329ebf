// Reading /etc/pam.d: which service files use pam_mapi, with which arguments, and what comes
// before each pam_mapi line in the same stack.
import fs from 'fs';
import path from 'path';

export interface PamLine {
  service: string;
  lineNo: number;
  type: string;
  control: string;
  module: string;
  args: string[];
}

export interface PamFile {
  service: string;
  path: string;
  lines: PamLine[];
  /** @include / include targets, for the record. */
  includes: string[];
}

export function isPamMapi(module: string): boolean {
  return path.basename(module) === 'pam_mapi.so';
}

/** Splits a pam.conf line into words, keeping [bracketed controls] whole. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /\[[^\]]*\]|\S+/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) out.push(m[0]);
  return out;
}

export function parsePamFile(service: string, file: string, text: string): PamFile {
  const lines: PamLine[] = [];
  const includes: string[] = [];
  // Backslash-newline continues a line.
  const logical = text.replace(/\\\n/g, ' ').split('\n');
  logical.forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const w = words(line);
    if (w[0] === '@include') {
      if (w[1] !== undefined) includes.push(w[1]);
      return;
    }
    if (w.length < 3) return;
    const type = w[0].replace(/^-/, '').toLowerCase();
    if (w[1] === 'include' || w[1] === 'substack') includes.push(w[2]);
    lines.push({ service, lineNo: i + 1, type, control: w[1], module: w[2], args: w.slice(3) });
  });
  return { service, path: file, lines, includes };
}

export function readPamDir(dir: string): PamFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const files: PamFile[] = [];
  for (const name of names.sort()) {
    const file = path.join(dir, name);
    try {
      if (!fs.statSync(file).isFile()) continue;
      files.push(parsePamFile(name, file, fs.readFileSync(file, 'utf8')));
    } catch {
      // unreadable: the doctor reports files it can read
    }
  }
  return files;
}

export function usesPamMapi(f: PamFile): boolean {
  return f.lines.some((l) => isPamMapi(l.module));
}
