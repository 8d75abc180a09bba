import { describe, expect, it } from 'vitest';
import {
  durableConsumer,
  familyDurable,
  serviceAccess,
  serviceNames,
  subjectWithin,
  webhookConsumerPrefix,
} from './access.ts';
import { natsInboxPrefix, natsPermissions, renderNatsAuthorization } from './permissions.ts';
import { Topology } from './topology.ts';

const events = /^(?!\$JS\.|_INBOX\.)/;
const eventSubjects = (subjects: readonly string[]) => subjects.filter((subject) => events.test(subject));

describe('NATS permissions from the declared access', () => {
  const t = new Topology();

  it('lets each service publish only the events its outbox writes', () => {
    expect(eventSubjects(natsPermissions('directory', t).publish.allow)).toEqual(['directory.v1.agency_upserted']);
    expect(eventSubjects(natsPermissions('consent', t).publish.allow)).toEqual([
      'consent.v1.granted',
      'consent.v1.amended',
      'consent.v1.revoked',
      'consent.v1.expired',
      'consent.v1.police_access',
      'consent.v1.subject_erased',
      'audit.v1.access',
      'audit.v1.parked_event_replayed',
    ]);
    expect(eventSubjects(natsPermissions('referrals', t).publish.allow)).toEqual([
      'referral.v1.*.*.*',
      'audit.v1.access',
      'audit.v1.parked_event_replayed',
    ]);
    // Escalation's outbox carries only the audit of replays of what it parked.
    expect(eventSubjects(natsPermissions('escalation', t).publish.allow)).toEqual(['audit.v1.parked_event_replayed']);
    // The gateway's outbox: its administration of people's accounts and integration clients
    // (ADR 30, ADR 45), the clients' token requests and calls (ADR 45), webhooks (ADR 46), its FHIR export (ADR 44).
    expect(eventSubjects(natsPermissions('gateway', t).publish.allow)).toEqual([
      'audit.v1.admin_action',
      'audit.v1.client_token',
      'audit.v1.client_call',
      'audit.v1.webhook_changed',
      'audit.v1.access',
    ]);
    for (const service of ['audit'] as const) {
      expect(eventSubjects(natsPermissions(service, t).publish.allow), service).toEqual([]);
    }
  });

  it('lets the audit service read every stream through consumers of its own, and take no durable', () => {
    const audit = natsPermissions('audit', t);
    for (const stream of ['REFERRALS', 'CONSENT', 'DIRECTORY', 'AUDIT']) {
      expect(audit.publish.allow).toContain(`$JS.API.STREAM.MSG.GET.${stream}`);
      expect(audit.publish.allow).toContain(`$JS.API.CONSUMER.MSG.NEXT.${stream}.*`);
    }
    const durables = serviceNames.flatMap((s) => serviceAccess[s].durables.map((d) => d.name));
    expect(durables.length).toBeGreaterThan(0);
    for (const durable of durables) {
      expect(audit.publish.deny.some((subject) => subject.endsWith(`.${durable}`))).toBe(true);
    }
  });

  it("gives the gateway its feeds' filters and its own durable consumer only, and no other service's", () => {
    const gateway = natsPermissions('gateway', t).publish;
    expect(gateway.allow.filter((subject) => subject.includes('CONSUMER.CREATE'))).toEqual([
      // Its notifications (ADR 40).
      '$JS.API.CONSUMER.CREATE.REFERRALS.gateway-notifications.referral.v1.>',
      '$JS.API.CONSUMER.CREATE.REFERRALS.*.referral.v1.>',
      '$JS.API.CONSUMER.CREATE.CONSENT.*.consent.v1.police_access',
    ]);
    expect(gateway.deny).toEqual(
      expect.arrayContaining([
        '$JS.API.CONSUMER.MSG.NEXT.REFERRALS.escalation-referrals',
        '$JS.API.CONSUMER.CREATE.CONSENT.referrals-consent-changes.>',
        '$JS.ACK.REFERRALS.escalation-referrals.>',
      ]),
    );
  });

  it("names a webhook subscription's durable consumer, its filter one of an agency's feeds", () => {
    const received = t.referralsTo('london-coalition');
    expect(familyDurable(t, webhookConsumerPrefix, 'a1b2', received)).toEqual({
      name: 'gateway-webhook-a1b2',
      stream: 'REFERRALS',
      filterSubject: 'referral.v1.*.london-coalition.>',
    });
    // The gateway's user may pull from any consumer name on REFERRALS but another service's durable.
    const gateway = natsPermissions('gateway', t).publish.allow;
    expect(gateway).toContain('$JS.API.CONSUMER.CREATE.REFERRALS.*.referral.v1.>');
    expect(gateway).toContain('$JS.API.CONSUMER.DELETE.REFERRALS.*');
    expect(() => familyDurable(t, webhookConsumerPrefix, 'a1b2', t.consent('granted'))).toThrow(/not a filter/);
    expect(() => familyDurable(t, webhookConsumerPrefix, 'a.b', received)).toThrow(/cannot end/);
    expect(() => familyDurable(t, 'other-', 'a1b2', received)).toThrow(/no durable consumer family/);
  });

  it('tells whether a filter falls under a pattern, token by token', () => {
    expect(subjectWithin('referral.v1.*.london.>', 'referral.v1.>')).toBe(true);
    expect(subjectWithin('referral.v1.peel.*.sent', 'referral.v1.*.*.*')).toBe(true);
    expect(subjectWithin('referral.v1.>', 'referral.v1.*.*.*')).toBe(false);
    expect(subjectWithin('referral.v1', 'referral.v1.>')).toBe(false);
    expect(subjectWithin('consent.v1.granted', 'referral.v1.>')).toBe(false);
    expect(subjectWithin('referral.v1.a.b', 'referral.v1.*.*.*')).toBe(false);
  });

  it("names a durable consumer's stream and filter, and grants it to its owner only", () => {
    expect(durableConsumer(t, 'escalation-referrals')).toEqual({
      name: 'escalation-referrals',
      stream: 'REFERRALS',
      filterSubject: 'referral.v1.>',
    });
    const pull = '$JS.API.CONSUMER.MSG.NEXT.REFERRALS.escalation-referrals';
    const owners = serviceNames.filter((service) => natsPermissions(service, t).publish.allow.includes(pull));
    expect(owners).toEqual(['escalation']);
  });

  it('keeps every user to its own inbox, and prefixes streams and subjects with a namespace', () => {
    const ns = new Topology('t1');
    const referrals = natsPermissions('referrals', ns);
    expect(referrals.subscribe.allow).toEqual([`${natsInboxPrefix('referrals')}.>`]);
    expect(referrals.publish.allow).toContain('$JS.API.STREAM.CREATE.T1_REFERRALS');
    expect(referrals.publish.allow).toContain('t1.referral.v1.*.*.*');
    expect(referrals.publish.allow).toContain(
      '$JS.API.CONSUMER.CREATE.T1_CONSENT.referrals-consent-changes.t1.consent.v1.>',
    );
  });

  it('renders one user per service and the admin, passwords from the environment only', () => {
    const text = renderNatsAuthorization(t);
    const users = [...text.matchAll(/user: "([a-z]+)"\n\s+password: \$([A-Z_]+)\n/g)].map((m) => [m[1], m[2]]);
    expect(users).toEqual([...serviceNames, 'admin'].map((user) => [user, `${user.toUpperCase()}_NATS_PASSWORD`]));
    expect(renderNatsAuthorization(new Topology('t1'))).toMatch(
      /^# Generated by `pnpm passage nats config --namespace t1`/,
    );
  });
});
