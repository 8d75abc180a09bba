import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, type Sample } from '@passage/platform';
import { waitFor } from '@passage/testing';
import { Http, startGatewayLab, type GatewayLab } from './support.ts';

// The gateway's metrics on its own Prometheus port (never its public one), moved by what
// causes them: refused sign-ins, throttling, routes answered, an upstream call that fails.
let lab: GatewayLab;
let http: Http;

beforeAll(async () => {
  lab = await startGatewayLab('gateway-metrics', { METRICS_PORT: '0', HEALTH_PORT: '0', SIGN_IN_PER_MINUTE: '3' });
  http = new Http(lab.gateway.url);
});

afterAll(async () => {
  await lab?.stop();
});

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`http://127.0.0.1:${lab.gateway.metricsPort}/metrics`);
  expect(response.status).toBe(200);
  return parsePrometheusText(await response.text());
}

/** The sum of the samples with that name whose labels include these. */
function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

const signIn = (username: string, password: string) =>
  http.request('POST', '/api/session', { body: { username, password } });

describe('gateway metrics', () => {
  it('answers the kubelet on HEALTH_PORT, as every service does (the manifests probe 8081)', async () => {
    expect(lab.gateway.healthPort).toBeGreaterThan(0);
    for (const path of ['/livez', '/readyz']) {
      const response = await fetch(`http://127.0.0.1:${lab.gateway.healthPort}${path}`);
      expect({ path, status: response.status, body: await response.text() }).toEqual({ path, status: 200, body: '' });
    }
    expect((await fetch(`http://127.0.0.1:${lab.gateway.healthPort}/metrics`)).status).toBe(404);
  });

  it('serves Prometheus on METRICS_PORT and not on the public port', async () => {
    expect(lab.gateway.metricsPort).toBeGreaterThan(0);
    const samples = await scrape();
    expect(samples.length).toBeGreaterThan(0);
    expect(total(samples, 'passage_service_serving', { service: 'gateway' })).toBe(1);
    expect(total(samples, 'passage_dependency_up', { service: 'gateway', dependency: 'referrals' })).toBe(1);
    const publicPort = await fetch(`${lab.gateway.url}/metrics`);
    expect(publicPort.status).toBe(404);
    expect(publicPort.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('counts refused sign-ins by reason, throttling by gate, and each answer by route template and status', async () => {
    const before = await scrape();
    const labels = { method: 'POST', route: '/api/session', status: '401' };
    // Wrong passwords for an account that exists and one that does not: both bad credentials.
    expect((await signIn('peel-officer', 'not-the-password')).status).toBe(401);
    expect((await signIn(`nobody-${randomUUID().slice(0, 8)}`, 'not-the-password')).status).toBe(401);
    // The per-address-and-name rate limit (3 a minute here): the fourth is refused with 429.
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) statuses.push((await signIn('london-intake', 'wrong')).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const after = await scrape();
    const moved = (name: string, l: Record<string, string> = {}) => total(after, name, l) - total(before, name, l);
    expect(moved('passage_signin_failures_total', { reason: 'bad_credentials' })).toBe(5);
    expect(moved('passage_signin_failures_total', { reason: 'rate_limited' })).toBe(1);
    expect(moved('passage_signin_throttles_total', { gate: 'rate_limit' })).toBe(1);
    expect(moved('passage_http_server_requests_total', labels)).toBe(5);
    expect(moved('passage_http_server_duration_seconds_count', { method: 'POST', route: '/api/session' })).toBe(6);
    // No person in any label: not the names tried, not the address.
    const text = after.map((s) => JSON.stringify(s.labels)).join('\n');
    for (const personal of ['peel-officer', 'london-intake', 'nobody-', '127.0.0.1'])
      expect(text).not.toContain(personal);
  });

  it('counts an upstream gRPC error under its method and code, and the HTTP 404 under its route template', async () => {
    const session = await http.signIn('windsor-intake');
    const before = await scrape();
    const missing = await http.request('GET', `/api/referrals/${randomUUID()}`, { session });
    expect(missing.status).toBe(404);
    const after = await waitFor(
      scrape,
      (s) =>
        total(s, 'passage_rpc_server_calls_total', {
          method: 'passage.referrals.v1.ReferralService/Get',
          code: 'NOT_FOUND',
        }) >
        total(before, 'passage_rpc_server_calls_total', {
          method: 'passage.referrals.v1.ReferralService/Get',
          code: 'NOT_FOUND',
        }),
    );
    expect(
      total(after, 'passage_rpc_server_duration_seconds_count', { method: 'passage.referrals.v1.ReferralService/Get' }),
    ).toBeGreaterThan(0);
    const routes = after.filter(
      (s) =>
        s.name === 'passage_http_server_requests_total' && s.labels['status'] === '404' && s.labels['method'] === 'GET',
    );
    expect(routes.length).toBeGreaterThan(0);
    // The template, never the id itself.
    expect(routes.some((s) => s.labels['route']?.startsWith('/api/referrals/:'))).toBe(true);
    expect(routes.every((s) => !/[0-9a-f]{8}-[0-9a-f]{4}/.test(s.labels['route'] ?? ''))).toBe(true);
  });

  it('reports an upstream that stops answering in /readyz and passage_dependency_up, and stays ready itself', async () => {
    await lab.escalation.shutdown.run();
    const report = await waitFor(
      async () =>
        (await (await fetch(`${lab.gateway.url}/readyz`)).json()) as {
          status: string;
          dependencies: Record<string, { status: string; required: boolean }>;
        },
      (body) => body.dependencies['escalation']?.status === 'down',
      30_000,
    );
    expect(report.status).toBe('ok');
    expect(report.dependencies['escalation']).toEqual({ status: 'down', required: false });
    expect(report.dependencies['referrals']).toEqual({ status: 'up', required: false });
    expect((await fetch(`${lab.gateway.url}/readyz`)).status).toBe(200);
    const samples = await scrape();
    expect(total(samples, 'passage_dependency_up', { service: 'gateway', dependency: 'escalation' })).toBe(0);
    expect(total(samples, 'passage_service_serving', { service: 'gateway' })).toBe(1);
  });
});
