import { describe, expect, it } from 'vitest';
import { workerRoles } from '@passage/auth';
import { apiContract } from '@passage/contracts/descriptor';

// An agency's integration client acts as a worker of its agency (ADR 45): role system stands
// wherever the proto lets front-line workers in, and nowhere they are not.
describe('role system in the HTTP API the proto declares', () => {
  const methods = apiContract().methods.map((http) => ({
    name: `${http.service.name}/${http.method.name}`,
    roles: http.access.roles,
  }));
  // Taking over an escalated referral is a crisis-line person's decision, never a system's; the
  // names of an agency's people are for its people at the console (its system has its own staff list).
  const peopleOnly = new Set(['ReferralService/TakeOver', 'PeopleService/ListColleagues']);
  // What is the system's own business beyond a worker's: its agency's webhooks (ADR 46), which it
  // manages as the agency's supervisor does, and no front-line worker.
  const systemsOwn = (name: string): boolean => name.startsWith('WebhookService/');

  it('is allowed wherever every front-line worker is, but for the two methods that are people’s alone', () => {
    const worked = methods.filter((m) => m.roles.includes('intake_worker') && m.roles.includes('officer'));
    expect(worked.length).toBeGreaterThan(15);
    for (const method of worked.filter((m) => !peopleOnly.has(m.name)))
      expect(method.roles, method.name).toContain('system');
    for (const name of peopleOnly) expect(methods.find((m) => m.name === name)?.roles, name).not.toContain('system');
  });

  it('is never allowed where only supervisors, auditors or administrators are, nor where anyone signed in is', () => {
    const granted = methods.filter((m) => m.roles.includes('system'));
    expect(granted.length).toBeGreaterThan(0);
    for (const method of granted.filter((m) => !systemsOwn(m.name))) {
      expect(method.roles, method.name).toEqual(expect.arrayContaining(['officer', 'intake_worker']));
      expect(peopleOnly.has(method.name), method.name).toBe(false);
    }
    for (const method of methods.filter((m) => m.roles.length === 0)) expect(method.roles).not.toContain('system');
    const webhooks = methods.filter((m) => systemsOwn(m.name));
    expect(webhooks.length).toBeGreaterThan(0);
    for (const method of webhooks)
      expect([...method.roles].sort(), method.name).toEqual(['admin', 'supervisor', 'system']);
  });

  it('is a worker role wherever the services name front-line work, and the internal service role is not', () => {
    expect(workerRoles).toContain('system');
    expect(workerRoles).not.toContain('service');
  });
});
