import { describe, expect, it } from 'vitest';
import {
  createLogger,
  exportedSeries,
  listenForMetrics,
  metricCatalog,
  metrics,
  parsePrometheusText,
  PassageMetrics,
  prometheusSeries,
} from '../src/index.ts';

describe('metrics', () => {
  it('exports each declared metric under the series names the dashboard and alerts are checked against', async () => {
    const source = new PassageMetrics();
    source.add('rpcCalls', { method: 'passage.x.v1.X/Do', code: 'OK' });
    source.record('rpcDuration', 0.02, { method: 'passage.x.v1.X/Do', code: 'OK' });
    const remove = source.observe(['outboxBacklog'], (observe) => observe('outboxBacklog', 3, { schema: 'x' }));
    const samples = parsePrometheusText(await source.scrape());
    expect(samples.length).toBeGreaterThan(0);
    const names = new Set(samples.map((sample) => sample.name));
    for (const series of [
      ...prometheusSeries(metricCatalog.rpcCalls),
      ...prometheusSeries(metricCatalog.rpcDuration),
      ...prometheusSeries(metricCatalog.outboxBacklog),
    ])
      expect(names).toContain(series);
    for (const name of names) expect(exportedSeries(), name).toContain(name);
    expect(samples.find((s) => s.name === 'passage_outbox_backlog')).toMatchObject({
      labels: { schema: 'x' },
      value: 3,
    });
    expect(samples.find((s) => s.name === 'passage_rpc_server_calls_total')).toMatchObject({
      labels: { method: 'passage.x.v1.X/Do', code: 'OK' },
      value: 1,
    });
    // A callback that fails (its database down) fails neither the scrape nor the other metrics.
    remove();
    source.observe(['outboxOldestAge'], () => {
      throw new Error('database down');
    });
    const after = parsePrometheusText(await source.scrape());
    expect(after.some((s) => s.name === 'passage_outbox_oldest_unpublished_age_seconds')).toBe(false);
    expect(after.some((s) => s.name === 'passage_rpc_server_calls_total')).toBe(true);
    await source.shutdown();
  });

  it('serves GET /metrics on METRICS_PORT, and nothing else there', async () => {
    const listener = await listenForMetrics('127.0.0.1', 0, createLogger('metrics-test', 'silent'));
    try {
      metrics().add('signInLockouts');
      const scrape = await fetch(`http://127.0.0.1:${listener.port}/metrics`);
      expect(scrape.status).toBe(200);
      expect(scrape.headers.get('content-type')).toMatch(/^text\/plain/);
      const samples = parsePrometheusText(await scrape.text());
      expect(samples.length).toBeGreaterThan(0);
      expect(samples.find((s) => s.name === 'passage_signin_lockouts_total')?.value).toBeGreaterThanOrEqual(1);
      expect((await fetch(`http://127.0.0.1:${listener.port}/`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${listener.port}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await listener.close();
    }
  });
});
