/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function
 * and per package. Usable as a module (the bench report) and as a CLI:
 *   node dist-bench/bench/profile-summary.js <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  name: string;
  where: string;
  selfMs: number;
  pct: number;
}

export interface ProfileSummary {
  file: string;
  wallMs: number;
  /** Sampled time excluding (idle). */
  busyMs: number;
  idleMs: number;
  top: ProfileRow[];
  byPackage: { name: string; selfMs: number; pct: number }[];
}

/** `node_modules/pg-protocol/dist/parser.js:120` → `pg-protocol/dist/parser.js:120`; Herald's own code → `dist/...`. */
function shortWhere(url: string, line: number): string {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) u = u.slice(nm + 'node_modules/'.length);
  else {
    const d = u.lastIndexOf('/dist/');
    if (d >= 0) u = 'herald ' + u.slice(d + 1);
  }
  return `${u}:${line + 1}`;
}

function packageOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8 builtins)';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? '?');
  }
  if (u.startsWith('node:')) return 'node core';
  if (u.includes('/dist/')) return 'herald (dist/' + (u.split('/dist/')[1]?.split('/')[0] ?? '') + ')';
  return 'other';
}

export function summarizeProfile(file: string, topN = 20): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i] as number;
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  const fn = new Map<string, { name: string; where: string; ms: number }>();
  const pkg = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (!n) continue;
    total += ms;
    if (n.callFrame.functionName === '(idle)') {
      idle += ms;
      continue;
    }
    const name = n.callFrame.functionName || '(anonymous)';
    const where = shortWhere(n.callFrame.url, n.callFrame.lineNumber);
    const key = `${name} ${where}`;
    const cur = fn.get(key) ?? { name, where, ms: 0 };
    cur.ms += ms;
    fn.set(key, cur);
    const k = packageOf(n);
    pkg.set(k, (pkg.get(k) ?? 0) + ms);
  }
  const busy = total - idle;
  const pct = (ms: number) => (busy > 0 ? (ms / busy) * 100 : 0);
  return {
    file,
    wallMs: (p.endTime - p.startTime) / 1000,
    busyMs: busy,
    idleMs: idle,
    top: [...fn.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, topN)
      .map((r) => ({ name: r.name, where: r.where, selfMs: r.ms, pct: pct(r.ms) })),
    byPackage: [...pkg.entries()].sort((a, b) => b[1] - a[1]).map(([name, ms]) => ({ name, selfMs: ms, pct: pct(ms) })),
  };
}

export function formatProfile(s: ProfileSummary, markdown: boolean): string {
  const lines: string[] = [];
  const head = `Profile ${s.file}: ${(s.wallMs / 1000).toFixed(1)} s wall, ${(s.busyMs / 1000).toFixed(1)} s busy (${((s.busyMs / Math.max(1, s.wallMs)) * 100).toFixed(0)}% of the main thread), ${(s.idleMs / 1000).toFixed(1)} s idle`;
  if (markdown) {
    lines.push(head, '', '| self ms | % of busy | function | location |', '|---:|---:|---|---|');
    for (const r of s.top) lines.push(`| ${r.selfMs.toFixed(0)} | ${r.pct.toFixed(1)} | \`${r.name}\` | ${r.where} |`);
    lines.push('', '| package | self ms | % of busy |', '|---|---:|---:|');
    for (const r of s.byPackage.slice(0, 12)) lines.push(`| ${r.name} | ${r.selfMs.toFixed(0)} | ${r.pct.toFixed(1)} |`);
  } else {
    lines.push(head, '  self ms   %busy  function  (location)');
    for (const r of s.top) lines.push(`  ${r.selfMs.toFixed(0).padStart(7)}  ${r.pct.toFixed(1).padStart(5)}  ${r.name}  (${r.where})`);
    lines.push('  by package:');
    for (const r of s.byPackage.slice(0, 12)) lines.push(`  ${r.selfMs.toFixed(0).padStart(7)}  ${r.pct.toFixed(1).padStart(5)}  ${r.name}`);
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist-bench/bench/profile-summary.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(formatProfile(summarizeProfile(file, Number(process.argv[3] ?? 25)), false) + '\n');
}
