/** The machine a run measured, printed first and kept with the results. */
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import type { MachineInfo } from './figures.js';

export function describeMachine(): MachineInfo {
  const cores = cpus();
  return {
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${platform()} ${release()}`,
    loadAtStart: loadavg()[0] ?? 0,
  };
}
