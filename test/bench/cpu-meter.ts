// CPU time by process group, from /proc (Linux): what each part of the system costs per
// unit of work in a benchmark. Figures are user + system time, so the kernel's work for a
// process's sockets counts to that process.
import { readdirSync, readFileSync } from 'node:fs';

const ticksPerSecond = 100; // USER_HZ on Linux

/** [user, system] ticks of a process; zeros once it is gone. */
function ticksOf(pid: number): [number, number] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(fields[11]), Number(fields[12])]; // utime, stime
  } catch {
    return [0, 0];
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

/** All busy time of the machine (every core), in [user, system] ticks. */
function machineTicks(): [number, number] {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  const [, user, nice, system, , , irq, softirq, steal] = cpu!.trim().split(/\s+/).map(Number);
  return [user! + nice!, system! + irq! + softirq! + steal!];
}

export interface CpuGroups {
  /** Named processes by pid (the services). */
  readonly pids?: Record<string, number>;
  /** Every process of these command names (postgres backends come and go). */
  readonly commands?: Record<string, string>;
}

type Snapshot = Map<string, [number, number]>;

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
    shot.set('benchmark client', [(own.user / 1e6) * ticksPerSecond, (own.system / 1e6) * ticksPerSecond]);
    shot.set('machine', machineTicks());
    return shot;
  }

  /** Milliseconds of CPU per unit between two snapshots, by group (all, and in the kernel), the machine last. */
  perUnit(before: Snapshot, after: Snapshot, units: number): Array<{ group: string; ms: number; systemMs: number }> {
    const totals = new Map<string, [number, number]>();
    for (const [key, [user, system]] of after) {
      const group = key.split('\u0000')[0]!;
      // A process born during the phase counts from zero.
      const [userBefore, systemBefore] = before.get(key) ?? [0, 0];
      const [u, s] = totals.get(group) ?? [0, 0];
      totals.set(group, [u + Math.max(0, user - userBefore), s + Math.max(0, system - systemBefore)]);
    }
    const ms = (ticks: number) => ((ticks / ticksPerSecond) * 1000) / units;
    const machine = totals.get('machine') ?? [0, 0];
    totals.delete('machine');
    return [
      ...[...totals].map(([group, [u, s]]) => ({ group, ms: ms(u + s), systemMs: ms(s) })),
      { group: 'machine (all processes)', ms: ms(machine[0] + machine[1]), systemMs: ms(machine[1]) },
    ];
  }
}
