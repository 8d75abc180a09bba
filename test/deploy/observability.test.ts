import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { exportedSeries, metricCatalog, prometheusSeries } from '@passage/platform';

// deploy/observability: the Prometheus alert rules and the Grafana dashboard may refer only to
// series the code exports, with labels the metric carries; the list is metricCatalog, the one
// the instruments are made from (packages/platform/src/metrics.ts).

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(`${root}${path}`, 'utf8');

interface Rule {
  readonly alert: string;
  readonly expr: string;
}
const rules = (parse(read('deploy/observability/alerts.yaml')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (group) => group.rules,
);
const dashboard = JSON.parse(read('deploy/observability/dashboard.json')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};
const expressions: [string, string][] = [
  ...rules.map((rule) => [`alert ${rule.alert}`, rule.expr] as [string, string]),
  ...dashboard.panels.flatMap((panel) =>
    panel.targets.map((target) => [`panel ${panel.title}`, target.expr] as [string, string]),
  ),
];

/** Prometheus's own series, which no code of ours declares. */
const builtIn = new Set(['up']);
/** Labels Prometheus adds to every scraped series. */
const targetLabels = ['job', 'instance'];

const labelsOf = new Map<string, readonly string[]>(
  Object.values(metricCatalog).flatMap((declaration) => {
    const extra = declaration.kind === 'histogram' ? ['le'] : [];
    const names = prometheusSeries(declaration);
    return names.map((name) => [name, [...declaration.attributes, ...extra, ...targetLabels]] as const);
  }),
);

describe('deploy/observability', () => {
  it('has the alerts the runbook names, each with an expression', () => {
    const names = rules.map((rule) => rule.alert);
    expect(names.length).toBeGreaterThan(0);
    for (const name of [
      'PassageServiceNotServing',
      'PassageOutboxBacklogGrowing',
      'PassageConsumerLagging',
      'PassageEventsParked',
      'PassageAuditCheckpointStale',
    ])
      expect(names).toContain(name);
    for (const rule of rules) expect(rule.expr.trim(), rule.alert).not.toBe('');
  });

  it('refers only to series the code exports, and only to labels they carry', () => {
    const exported = exportedSeries();
    expect(expressions.length).toBeGreaterThan(10);
    const referenced = new Set<string>();
    for (const [where, expr] of expressions) {
      const selectors = [...expr.matchAll(/\b((?:passage_|up\b)[a-z_]*)(\{[^}]*\})?/g)];
      expect(selectors.length, where).toBeGreaterThan(0);
      for (const [, name, matchers] of selectors) {
        if (builtIn.has(name!)) continue;
        referenced.add(name!);
        expect(exported.has(name!), `${where}: ${name} is not a series the code exports`).toBe(true);
        for (const [, label] of (matchers ?? '').matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g))
          expect(labelsOf.get(name!), `${where}: ${name} has no label ${label}`).toContain(label);
      }
      // Labels grouped by must be ones the referenced series carry (or a histogram's le).
      for (const [, list] of expr.matchAll(/\bby\s*\(([^)]*)\)/g)) {
        const names = [...expr.matchAll(/\b(passage_[a-z_]*)/g)].map((m) => m[1]!);
        for (const label of list!.split(',').map((l) => l.trim()))
          expect(
            names.some((name) => labelsOf.get(name)?.includes(label)),
            `${where}: no series here carries ${label}`,
          ).toBe(true);
      }
    }
    // The dashboard shows every metric the code declares.
    const shown = new Set(
      dashboard.panels.flatMap((panel) =>
        panel.targets.flatMap((target) => [...target.expr.matchAll(/\b(passage_[a-z_]*)/g)].map((m) => m[1]!)),
      ),
    );
    for (const declaration of Object.values(metricCatalog))
      expect(
        [...shown].some((name) => name === declaration.name || name.startsWith(`${declaration.name}_`)),
        `the dashboard shows ${declaration.name}`,
      ).toBe(true);
  });
});
