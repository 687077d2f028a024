/*
 * Top self-time functions of a V8 CPU profile, for the README's "where the time goes":
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx test/bench/run.ts --quick --only process
 *   node --import tsx test/bench/profile-summary.ts /tmp/prof/*.cpuprofile [top=25]
 * Several files may be given (Node writes one per thread); the busiest is summarised.
 * (run.ts passes its Node flags to every figure's child, so each figure writes its own profile.)
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { ROOT } from './common.ts';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const files = args.filter((a) => a.endsWith('.cpuprofile'));
const top = Number(args.find((a) => /^\d+$/.test(a)) ?? 25);
if (!files.length) {
  process.stderr.write('usage: node --import tsx test/bench/profile-summary.ts FILE.cpuprofile… [top]\n');
  process.exit(2);
}
// Node writes one profile per thread (tsx's loader thread too): keep the one with the most samples.
const prof = files
  .map((f) => JSON.parse(readFileSync(f, 'utf8')) as Profile)
  .sort((a, b) => b.samples.length - a.samples.length)[0]!;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (n: Node): string => {
  const url = n.callFrame.url.replace(/^file:\/\//, '');
  const short = url.startsWith(ROOT) ? relative(ROOT, url) : url || '(native)';
  return `${n.callFrame.functionName || '(anonymous)'} ${short}:${n.callFrame.lineNumber + 1}`;
};
const agg = new Map<string, number>();
for (const [id, us] of self) agg.set(where(byId.get(id)!), (agg.get(where(byId.get(id)!)) ?? 0) + us);
const byFile = new Map<string, number>();
for (const [id, us] of self) {
  const url = byId.get(id)!.callFrame.url.replace(/^file:\/\//, '');
  const key = url.startsWith(ROOT) ? relative(ROOT, url) : url ? url.replace(/.*node_modules\//, 'node_modules/') : byId.get(id)!.callFrame.functionName;
  byFile.set(key, (byFile.get(key) ?? 0) + us);
}
const pct = (us: number) => ((100 * us) / total).toFixed(1).padStart(5) + '%';
process.stdout.write(`total ${(total / 1e6).toFixed(2)} s sampled\n\ntop functions (self time)\n`);
for (const [k, us] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(us)}  ${k}\n`);
process.stdout.write('\nby file (self time)\n');
for (const [k, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 15)) process.stdout.write(`${pct(us)}  ${k}\n`);
