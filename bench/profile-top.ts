/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`): the functions with the most self time, and
 * the source files they live in; with a focus, only the samples taken inside a function of that
 * name (say `ingestEvents`), so one code path can be read apart from the rest of the run.
 * Usage: node --import tsx bench/profile-top.ts FILE.cpuprofile [N] [FOCUS]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function topFunctions(profile: Profile, count: number, focus?: string): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const inFocus = (id: number): boolean => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (byId.get(at)?.callFrame.functionName === focus) return true;
    }
    return false;
  };
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    if (node === undefined) return;
    if (focus !== undefined && !inFocus(id)) return;
    total += dt;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/(node_modules\/|src\/|bench\/|dist\/)/, '$1') || '(native)';
    const key = `${functionName || '(anonymous)'}  ${file}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    files.set(file, (files.get(file) ?? 0) + dt);
  });
  const pct = (us: number): string => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const scope = focus === undefined ? '' : ` inside ${focus}`;
  const lines = [
    `total ${(total / 1e6).toFixed(1)} s of samples${scope}`,
    '',
    'self time by function:',
  ];
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, count)) {
    lines.push(`${pct(us)}  ${key}`);
  }
  lines.push('', 'self time by file:');
  for (const [file, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, count)) {
    lines.push(`${pct(us)}  ${file}`);
  }
  return lines;
}

const [file, n, focus] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: profile-top FILE.cpuprofile [N]\n');
  process.exitCode = 2;
} else {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  process.stdout.write(`${topFunctions(profile, Number(n ?? 30), focus).join('\n')}\n`);
}
