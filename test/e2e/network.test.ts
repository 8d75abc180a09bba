import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { demoUsers, developmentIssuer } from '@passage/auth';
import { audit as apb, consent as cpb, referrals as pb } from '@passage/contracts';
import { bearerMetadata, callUnary } from '@passage/platform';
import { healthStatus, plaintextCredentials, waitFor } from '@passage/testing';
import {
  repositoryRoot,
  startNetworkAsPnpmStart,
  stopStartedNetworks,
  type StartedNetwork,
} from './started-network.ts';

// The network exactly as `pnpm start` runs it, on a database and NATS namespace of this test's own.
const root = repositoryRoot;
let started: StartedNetwork;
let network: StartedNetwork['process'];
let db: StartedNetwork['db'];
let ports: StartedNetwork['ports'];
const as = (user: keyof typeof demoUsers) => bearerMetadata(developmentIssuer().issue(demoUsers[user]!));

// Six processes, the console build check and (first time) the certificates: more than a minute on a busy machine.
beforeAll(async () => {
  started = await startNetworkAsPnpmStart('network');
  ({ process: network, db, ports } = started);
}, 360_000);

afterAll(async () => {
  await stopStartedNetworks();
});

it('serves a hand-off end to end through the processes pnpm start runs, then stops cleanly on Ctrl-C', async () => {
  const { gateway, ...grpcPorts } = ports;
  const { credentials } = started;
  for (const port of Object.values(grpcPorts)) {
    expect(await healthStatus(`127.0.0.1:${port}`, '', credentials)).toBe('SERVING');
    // Mutual TLS only: a plaintext client gets no answer.
    expect(await healthStatus(`127.0.0.1:${port}`, '', plaintextCredentials()).catch(() => 'refused')).toBe('refused');
  }
  expect((await fetch(`http://127.0.0.1:${gateway}/api/openapi.json`)).status).toBe(200);
  const consent = new cpb.ConsentServiceClient(`127.0.0.1:${ports.consent}`, credentials);
  const referrals = new pb.ReferralServiceClient(`127.0.0.1:${ports.referrals}`, credentials);
  const auditClient = new apb.AuditServiceClient(`127.0.0.1:${ports.audit}`, credentials);
  try {
    const { subjectRef } = await callUnary(
      consent.grant.bind(consent),
      {
        idempotencyKey: randomUUID(),
        subjectRef: '',
        method: cpb.CaptureMethod.CAPTURE_METHOD_VERBAL,
        interpreterLanguage: '',
        language: 'fr',
        expiresAt: new Date(Date.now() + 86_400_000),
        scopes: [
          {
            id: '',
            recipientAgencyIds: ['pact-ottawa'],
            recipientKinds: [],
            purposes: ['referral'],
            categories: ['needs', 'safe_contact'],
            doNotContact: true,
            revokedAt: undefined,
          },
        ],
        receiptName: '',
        notes: '',
      },
      as('crisis-counsellor'),
    );
    const { referral } = await callUnary(
      referrals.send.bind(referrals),
      {
        idempotencyKey: randomUUID(),
        subjectRef,
        fromAgency: 'ontario-ht-crisis-line',
        toAgency: 'pact-ottawa',
        priority: pb.Priority.PRIORITY_URGENT,
        needs: ['counselling', 'safety_planning'],
        language: 'fr',
        interpreterNeeded: false,
        packet: [{ category: 'needs', content: 'Synthétique : soutien en français', withheld: false }],
      },
      as('crisis-counsellor'),
    );
    const step = { idempotencyKey: randomUUID(), referralId: referral!.id, expectedVersion: 0 };
    await callUnary(referrals.accept.bind(referrals), step, as('pact-intake'));
    const view = await callUnary(
      referrals.get.bind(referrals),
      { referralId: referral!.id, purpose: '' },
      as('pact-intake'),
    );
    expect(view.referral).toMatchObject({ state: pb.State.STATE_ACCEPTED, doNotContact: true });
    expect(view.packet[0]).toMatchObject({
      category: 'needs',
      content: 'Synthétique : soutien en français',
      withheld: false,
    });

    // The auditor sees who read the person's data, the hand-off, and a log that verifies.
    const log = await waitFor(
      () => callUnary(auditClient.accessLog.bind(auditClient), { subjectRef, range: undefined }, as('auditor')),
      (found) => found.records.length > 0,
      15_000,
    );
    expect(log.records[0]).toMatchObject({
      actorUser: 'pact-intake',
      actorAgency: 'pact-ottawa',
      outcome: 'granted',
      categories: ['needs'],
      referralId: referral!.id,
    });
    const handoff = await callUnary(
      auditClient.handoffReport.bind(auditClient),
      { groupBy: 'agency', range: undefined },
      as('auditor'),
    );
    expect(handoff.rows.find((row) => row.group === 'pact-ottawa')).toMatchObject({
      referrals: 1,
      accept: { count: 1 },
    });
    const consents = await callUnary(auditClient.consentReport.bind(auditClient), { range: undefined }, as('auditor'));
    expect(consents.consents).toContainEqual(
      expect.objectContaining({ agencyId: 'ontario-ht-crisis-line', method: 'verbal', granted: 1 }),
    );
    const { stdout } = await promisify(execFile)(process.execPath, ['packages/cli/src/main.ts', 'audit', 'verify'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: db.url, PASSAGE_ENV: 'development' },
    });
    expect(stdout).toMatch(/^OK: \d+ entries, [1-9]\d* checkpoint signatures verified/);
  } finally {
    consent.close();
    referrals.close();
    auditClient.close();
  }

  // pnpm demo, against this network's gateway: the story, step by step, and its output checked.
  const { stdout } = await promisify(execFile)(process.execPath, ['scripts/demo.ts'], {
    cwd: root,
    env: { ...process.env, GATEWAY_URL: `http://127.0.0.1:${ports.gateway}` },
  });
  for (const line of [
    /^1\. Constable Dana Peel \(demo\) signs in\.$/m,
    /^2\. Consent recorded .* sent to the London coalition, urgent/m,
    /^3\. .* closes it: STATE_CLOSED\.$/m,
    /^4\. An after-hours call to the crisis line: Match suggests Walk With Me/m,
    /^5\. A French-speaking person in Ottawa: Match suggests PACT-Ottawa .* « Synthétique : hébergement sûr »\.$/m,
    /^6\. .* withdrawn \(consent_revoked\)\.$/m,
    /^7\. The hand-off report, by receiving agency:$/m,
    /^ {3}london-coalition +\d+ referrals?, \d+ acknowledged/m,
    /^8\. Audit log verified: OK — \d+ entries, [1-9]\d* signed checkpoints\.$/m,
    /^Demo complete\.$/m,
  ]) {
    expect(stdout).toMatch(line);
  }

  network.child.kill('SIGINT');
  const { code } = await network.exited();
  expect(code).toBe(0);
  for (const name of ['directory', 'consent', 'referrals', 'audit'])
    expect(network.output()).toContain(`${name} exited (0)`);
});
