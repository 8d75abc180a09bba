import { describe, expect, it } from 'vitest';
import { organizationIdOf } from '@passage/vocabulary/directory-ids';
import { r4Problems } from '../../../test/fhir-validation.ts';
import { consentResource, receiptReference, type ConsentFacts, type ConsentScopeFacts } from './consent.ts';

const consentId = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f9f3a';
const grantedAt = new Date('2026-12-01T15:00:00Z');
const now = new Date('2026-12-03T15:00:00Z');

function scope(over: Partial<ConsentScopeFacts> = {}): ConsentScopeFacts {
  return {
    id: '0193a1b2-0000-7000-8000-000000000001',
    recipientAgencyIds: ['london-coalition'],
    recipientKinds: [],
    purposes: ['referral'],
    categories: ['needs', 'safe_contact'],
    doNotContact: false,
    ...over,
  };
}

function consent(over: Partial<ConsentFacts> = {}): ConsentFacts {
  return {
    id: consentId,
    subjectRef: '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
    recordedBy: 'peel-regional-police',
    grantedAt,
    expiresAt: new Date('2026-12-31T15:00:00Z'),
    scopes: [scope()],
    ...over,
  };
}

describe('a consent as a FHIR Consent', () => {
  it('is a privacy consent of the person, kept by the recording agency, found by its receipt reference', () => {
    const resource = consentResource(consent(), now);
    expect(resource).toMatchObject({
      id: consentId,
      status: 'active',
      identifier: [{ system: 'urn:passage:receipt-reference', value: '2E3F9F3A' }],
      scope: { coding: [{ code: 'patient-privacy' }] },
      patient: { identifier: { system: 'urn:passage:subject', value: '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f' } },
      organization: [{ reference: `Organization/${organizationIdOf('peel-regional-police')}` }],
      dateTime: grantedAt.toISOString(),
    });
    expect(receiptReference(consentId)).toBe('2E3F9F3A');
    expect(resource.provision.type).toBe('deny');
    expect(resource.provision.period).toEqual({ start: grantedAt.toISOString(), end: '2026-12-31T15:00:00.000Z' });
    expect(r4Problems(resource)).toEqual([]);
  });

  it('has one permit per scope: its agencies and kinds as recipients, its purposes, its categories', () => {
    const resource = consentResource(
      consent({
        scopes: [
          scope(),
          scope({
            id: '0193a1b2-0000-7000-8000-000000000002',
            recipientAgencyIds: [],
            recipientKinds: ['shelter'],
            purposes: ['referral', 'safety_planning'],
            categories: ['identity'],
          }),
        ],
      }),
      now,
    );
    const provisions = resource.provision.provision ?? [];
    expect(provisions).toHaveLength(2);
    expect(provisions[0]).toEqual({
      id: '0193a1b2-0000-7000-8000-000000000001',
      type: 'permit',
      period: { start: grantedAt.toISOString(), end: undefined },
      actor: [
        {
          role: {
            coding: [
              {
                system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
                code: 'IRCP',
                display: 'information recipient',
              },
            ],
          },
          reference: { reference: `Organization/${organizationIdOf('london-coalition')}` },
        },
      ],
      purpose: [{ system: 'urn:passage:purpose', code: 'referral' }],
      code: [
        { coding: [{ system: 'urn:passage:data-category', code: 'needs' }] },
        { coding: [{ system: 'urn:passage:data-category', code: 'safe_contact' }] },
      ],
    });
    expect(provisions[1]?.actor?.[0]?.reference).toEqual({
      type: 'Group',
      identifier: { system: 'urn:passage:agency-kind', value: 'shelter' },
    });
    expect(provisions[1]?.purpose?.map((p) => p.code)).toEqual(['referral', 'safety_planning']);
    expect(r4Problems(resource)).toEqual([]);
  });

  it('denies direct contact under a do-not-contact scope, coded contacting-subject-prohibited', () => {
    const resource = consentResource(consent({ scopes: [scope({ doNotContact: true })] }), now);
    expect(resource.provision.provision?.[0]?.provision).toEqual([
      {
        type: 'deny',
        action: [
          {
            coding: [
              {
                system: 'http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes',
                code: 'contacting-subject-prohibited',
                display: 'Contacting Subject Prohibited',
              },
            ],
          },
        ],
      },
    ]);
    expect(r4Problems(resource)).toEqual([]);
  });

  it('ends a revoked scope’s permit at its revocation, and leaves out a police scope not yet confirmed', () => {
    const revokedAt = new Date('2026-12-02T10:00:00Z');
    const confirmedAt = new Date('2026-12-02T09:00:00Z');
    const police = { recipientAgencyIds: ['peel-regional-police'], purposes: ['investigation'] };
    const resource = consentResource(
      consent({
        scopes: [
          scope({ revokedAt }),
          scope({ id: 'proposed', ...police, proposedAt: grantedAt }),
          scope({ id: 'confirmed', ...police, proposedAt: grantedAt, confirmedAt }),
        ],
      }),
      now,
    );
    const provisions = resource.provision.provision ?? [];
    expect(provisions.map((p) => p.id)).toEqual(['0193a1b2-0000-7000-8000-000000000001', 'confirmed']);
    expect(provisions[0]?.period).toEqual({ start: grantedAt.toISOString(), end: revokedAt.toISOString() });
    expect(provisions[1]?.period?.start).toBe(confirmedAt.toISOString());
    expect(r4Problems(resource)).toEqual([]);
  });

  it('is inactive once revoked or past its expiry', () => {
    const revokedAt = new Date('2026-12-02T12:00:00Z');
    const revoked = consentResource(consent({ revokedAt }), now);
    expect(revoked.status).toBe('inactive');
    expect(revoked.provision.period?.end).toBe(revokedAt.toISOString());
    expect(consentResource(consent({ expiresAt: now }), now).status).toBe('inactive');
    expect(consentResource(consent({ expiresAt: new Date(now.getTime() + 1) }), now).status).toBe('active');
    expect(r4Problems(revoked)).toEqual([]);
  });
});
