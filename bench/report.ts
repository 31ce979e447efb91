/** Writes a run's results: latest.json (every number) and latest.md (the table for people). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResults, EngineResult, Figure } from './figures.js';
import { round } from './stats.js';

function number(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const r = round(value, 3);
  return Math.abs(r) >= 1000 ? Math.round(r).toLocaleString('en-US') : String(r);
}

function withUnit(value: number, unit: Figure['unit']): string {
  return `${number(value)} ${unit}`;
}

function trailkeepCell(figure: Figure): string {
  const l = figure.latency?.trailkeep;
  return l === undefined
    ? withUnit(figure.value, figure.unit)
    : `p95 ${number(l.p95)} ms (p50 ${number(l.p50)}, p99 ${number(l.p99)})`;
}

function baselineCell(figure: Figure): string {
  if (figure.baseline === undefined) return '';
  const l = figure.latency?.baseline;
  const value =
    l === undefined
      ? withUnit(figure.baseline.value, figure.unit)
      : `p95 ${number(l.p95)} ms (p50 ${number(l.p50)})`;
  return `${value}: ${figure.baseline.label}`;
}

function verdict(figure: Figure): string {
  if (figure.targets === undefined) return '';
  return figure.targets.every((t) => t.pass) ? 'pass' : '**FAIL**';
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function engineSection(engine: EngineResult): string[] {
  const lines = [`## ${engine.engine} ${engine.version}`, ''];
  if (engine.error !== undefined) {
    lines.push(`The run failed: ${engine.error}`, '');
  }
  const settings = Object.entries(engine.settings)
    .filter(([key]) => key !== 'directory')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const dataset = Object.entries(engine.dataset)
    .map(([k, v]) => `${k}: ${typeof v === 'number' ? number(v) : v}`)
    .join(', ');
  lines.push(
    `Settings: ${settings}. Data set: ${dataset}. ${Math.round(engine.seconds)} s; load average at the end ${engine.loadAtEnd.map((l) => l.toFixed(1)).join(' / ')}.`,
    '',
    '| figure | Trailkeep | baseline (same run) | ratio | target | result |',
    '| --- | --- | --- | ---: | --- | --- |',
  );
  for (const f of engine.figures) {
    const ratio = f.ratio === undefined ? '' : `${number(f.ratio)}x`;
    const targets = (f.targets ?? [])
      .map((t) => `${t.text}${t.pass ? '' : ' (missed)'}`)
      .join('; ');
    lines.push(
      `| ${escape(f.label)} | ${trailkeepCell(f)} | ${escape(baselineCell(f))} | ${ratio} | ${escape(targets)} | ${verdict(f)} |`,
    );
  }
  const checks = engine.figures.flatMap((f) => f.targets ?? []);
  const missed = checks.filter((t) => !t.pass).length;
  lines.push('', `${checks.length - missed} of ${checks.length} target checks hold.`, '');
  return lines;
}

export function markdown(results: BenchResults): string {
  const m = results.machine;
  const lines = [
    '# Trailkeep benchmark results',
    '',
    `Run ${results.started_at} to ${results.finished_at}: ${number(results.options.events)} events` +
      `${results.options.quick ? ' (quick mode)' : ''}, seed ${results.options.seed}.`,
    '',
    `Machine: ${m.cpus} cores (${m.cpuModel}), ${m.memoryGb} GB memory, ${m.platform}, Node ${m.node}; ` +
      `load average ${m.loadAtStart.toFixed(1)} when the run started (a shared machine: other work ran alongside).`,
    '',
    'Latencies are p95 with p50 and p99 beside; ratios compare medians (p50) for latencies and plain ' +
      'values otherwise. See docs/performance.md for what each figure and baseline means.',
    '',
  ];
  for (const engine of results.engines) lines.push(...engineSection(engine));
  return `${lines.join('\n')}\n`;
}

export function writeResults(out: string, results: BenchResults): { json: string; md: string } {
  mkdirSync(out, { recursive: true });
  const json = join(out, 'latest.json');
  const md = join(out, 'latest.md');
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(md, markdown(results));
  return { json, md };
}
