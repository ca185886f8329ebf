// bench/chart.svg: auths/s and p99 latency against clients, one line per module, at the largest
// user count of the run. Plain SVG written here, log scales on both axes.
import fs from 'fs';
import { MODULES, ModuleName } from './options';
import { pointOf, Results } from './results';
import { LABELS } from './stacks';

const COLORS: Record<ModuleName, string> = {
  pam_permit: '#9e9e9e', node_floor: '#616161', mapi_file: '#2e7d32', mapi_zarafa: '#1565c0', mapi_ldap: '#6a1b9a', pam_mysql: '#e65100', pam_ldap: '#c62828',
  pam_sss: '#ad1457', mapi_krb5: '#00838f', pam_krb5: '#00838f',
};
const DASH: Record<ModuleName, string> = {
  pam_permit: '2 4', node_floor: '2 4', mapi_file: '', mapi_zarafa: '', mapi_ldap: '', pam_mysql: '7 4', pam_ldap: '7 4', pam_sss: '7 4',
  mapi_krb5: '', pam_krb5: '7 4',
};
const PANEL_W = 440;
const PANEL_H = 300;
const M = { left: 70, right: 20, top: 40, bottom: 50 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Ticks 1, 2, 5 × 10^k covering [lo, hi], and the decades around them. */
function logTicks(lo: number, hi: number): { min: number; max: number; ticks: number[] } {
  const min = 10 ** Math.floor(Math.log10(lo));
  const max = 10 ** Math.ceil(Math.log10(hi));
  const ticks: number[] = [];
  for (let d = min; d < max * 1.001; d *= 10) for (const f of [1, 2, 5]) if (d * f <= max * 1.001) ticks.push(d * f);
  return { min, max, ticks };
}

function label(v: number, unit: string): string {
  if (unit === 'µs') return v >= 1000 ? `${v / 1000} ms` : `${v} µs`;
  return v >= 1000 ? `${v / 1000}k` : String(v);
}

interface Series {
  module: ModuleName;
  points: Array<[number, number]>;
}

function panel(x0: number, title: string, unit: string, clients: number[], series: Series[]): string {
  const values = series.flatMap((s) => s.points.map(([, v]) => v)).filter((v) => v > 0);
  const { min, max, ticks } = logTicks(Math.min(...values), Math.max(...values));
  const w = PANEL_W - M.left - M.right;
  const h = PANEL_H - M.top - M.bottom;
  const lc = (c: number): number => Math.log2(c);
  const cMin = lc(Math.min(...clients));
  const cSpan = Math.max(1e-9, lc(Math.max(...clients)) - cMin);
  const X = (c: number): number => x0 + M.left + (clients.length === 1 ? w / 2 : ((lc(c) - cMin) / cSpan) * w);
  const Y = (v: number): number => M.top + h - ((Math.log10(v) - Math.log10(min)) / (Math.log10(max) - Math.log10(min))) * h;
  const out: string[] = [`<text x="${x0 + PANEL_W / 2}" y="22" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  for (const t of ticks) {
    out.push(`<line x1="${x0 + M.left}" x2="${x0 + M.left + w}" y1="${Y(t).toFixed(1)}" y2="${Y(t).toFixed(1)}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${x0 + M.left - 6}" y="${(Y(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${esc(label(t, unit))}</text>`);
  }
  for (const c of clients) {
    out.push(`<line x1="${X(c).toFixed(1)}" x2="${X(c).toFixed(1)}" y1="${M.top}" y2="${M.top + h}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${X(c).toFixed(1)}" y="${M.top + h + 16}" text-anchor="middle" font-size="11">${c}</text>`);
  }
  out.push(`<rect x="${x0 + M.left}" y="${M.top}" width="${w}" height="${h}" fill="none" stroke="#616161"/>`);
  out.push(`<text x="${x0 + M.left + w / 2}" y="${M.top + h + 36}" text-anchor="middle" font-size="12">clients (threads; pam_mysql: processes)</text>`);
  for (const s of series) {
    const pts = s.points.filter(([, v]) => v > 0).map(([c, v]) => `${X(c).toFixed(1)},${Y(v).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${COLORS[s.module]}" stroke-width="2" stroke-dasharray="${DASH[s.module]}" points="${pts.join(' ')}"/>`);
    for (const p of pts) {
      const [cx, cy] = p.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${COLORS[s.module]}"/>`);
    }
  }
  return out.join('\n');
}

export function chartSvg(r: Results): string {
  const users = Math.max(...r.levels.map((l) => l.users));
  const clients = r.options.clients;
  // Only modules measured at this user count (the Kerberos rows are at the least: bench/krb5.ts).
  const modules = MODULES.filter((m) => r.options.modules.includes(m) && r.points.some((p) => p.module === m && p.users === users));
  const series = (f: (m: ModuleName, c: number) => number | undefined): Series[] => modules.map((m) => ({
    module: m,
    points: clients.map((c) => [c, f(m, c) ?? 0] as [number, number]),
  }));
  const rate = series((m, c) => pointOf(r, m, users, c)?.load.authsPerS);
  const p99 = series((m, c) => pointOf(r, m, users, c)?.load.p99);
  const width = 2 * PANEL_W;
  const legendY = PANEL_H + 10;
  const legend = modules.map((m, i) => {
    const x = 20 + (i % 3) * 290;
    const y = legendY + Math.floor(i / 3) * 20;
    return `<line x1="${x}" x2="${x + 28}" y1="${y}" y2="${y}" stroke="${COLORS[m]}" stroke-width="2" stroke-dasharray="${DASH[m]}"/>`
      + `<text x="${x + 34}" y="${y + 4}" font-size="12">${esc(LABELS[m])}</text>`;
  });
  const height = legendY + Math.ceil(modules.length / 3) * 20 + 24;
  const note = `${users.toLocaleString('en-US')} users, ${r.options.seconds} s per point, every ${r.options.wrongEvery}th password wrong; ${r.facts.find(([k]) => k === 'CPU')?.[1] ?? ''}, ${r.facts.find(([k]) => k === 'nproc')?.[1] ?? '?'} cores`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    panel(0, 'Whole PAM transactions per second (higher is better)', '', clients, rate),
    panel(PANEL_W, '99th percentile latency (lower is better)', 'µs', clients, p99),
    ...legend,
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle" font-size="11" fill="#616161">${esc(note)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

export function writeChart(r: Results, file: string): void {
  fs.writeFileSync(file, chartSvg(r));
}
