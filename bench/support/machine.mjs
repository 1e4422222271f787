// What every bench result records about the machine it ran on.
import os from 'node:os';

/** CPU, memory, OS and Node version, the date, plus `extra` (library versions and the like). */
export function machineInfo(extra = {}) {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? null,
    total_memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    ...extra,
    date: new Date().toISOString(),
  };
}
