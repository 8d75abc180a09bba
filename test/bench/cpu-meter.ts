// CPU time by process group, from /proc (Linux): what each part of the system costs per
// unit of work in a benchmark. Figures are user + system time, so the kernel's work for a
// process's sockets counts to that process.
import { readdirSync, readFileSync } from 'node:fs';

const ticksPerSecond = 100; // USER_HZ on Linux

function ticksOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime
  } catch {
    return 0; // gone
  }
}

function pidsNamed(command: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === command) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** All busy time of the machine (every core), in ticks. */
function machineTicks(): number {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  const [, user, nice, system, , , irq, softirq, steal] = cpu!.trim().split(/\s+/).map(Number);
  return user! + nice! + system! + irq! + softirq! + steal!;
}

export interface CpuGroups {
  /** Named processes by pid (the services). */
  readonly pids?: Record<string, number>;
  /** Every process of these command names (postgres backends come and go). */
  readonly commands?: Record<string, string>;
}

type Snapshot = Map<string, number>;

/**
 * Snapshots before and after a phase; `perUnit` gives each group's CPU milliseconds per
 * unit of work, this process ('benchmark client') and the whole machine included. A
 * process of a command group that ends during the phase loses its ticks (postgres backends
 * are pooled, so they live through a phase).
 */
export class CpuMeter {
  readonly #groups: CpuGroups;

  constructor(groups: CpuGroups) {
    this.#groups = groups;
  }

  snapshot(): Snapshot {
    const shot: Snapshot = new Map();
    for (const [name, pid] of Object.entries(this.#groups.pids ?? {})) shot.set(name, ticksOf(pid));
    for (const [name, command] of Object.entries(this.#groups.commands ?? {})) {
      for (const pid of pidsNamed(command)) shot.set(`${name}\u0000${pid}`, ticksOf(pid));
    }
    const own = process.cpuUsage();
    shot.set('benchmark client', ((own.user + own.system) / 1e6) * ticksPerSecond);
    shot.set('machine', machineTicks());
    return shot;
  }

  /** Milliseconds of CPU per unit between two snapshots, by group, the machine last. */
  perUnit(before: Snapshot, after: Snapshot, units: number): Array<{ group: string; ms: number }> {
    const totals = new Map<string, number>();
    for (const [key, ticks] of after) {
      const group = key.split('\u0000')[0]!;
      // A process born during the phase counts from zero.
      const delta = ticks - (before.get(key) ?? 0);
      totals.set(group, (totals.get(group) ?? 0) + Math.max(0, delta));
    }
    const machine = totals.get('machine') ?? 0;
    totals.delete('machine');
    return [
      ...[...totals].map(([group, ticks]) => ({ group, ms: ((ticks / ticksPerSecond) * 1000) / units })),
      { group: 'machine (all processes, kernel included)', ms: ((machine / ticksPerSecond) * 1000) / units },
    ];
  }
}
