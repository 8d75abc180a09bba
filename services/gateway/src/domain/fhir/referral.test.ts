import { describe, expect, it } from 'vitest';
import { organizationIdOf } from '@passage/vocabulary/directory-ids';
import { r4Problems } from '../../../test/fhir-validation.ts';
import {
  referralServiceRequest,
  referralStates,
  referralTask,
  statesOfTaskStatus,
  type ReferralFacts,
  type ReferralReading,
  type ReferralState,
} from './referral.ts';

const id = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const subjectRef = '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';
const at = (minutes: number) => new Date(Date.UTC(2026, 11, 3, 14, minutes));

function referral(over: Partial<ReferralFacts> = {}): ReferralFacts {
  return {
    id,
    reference: 'R-7K3M-Q9',
    subjectRef,
    fromAgency: 'peel-regional-police',
    toAgency: 'london-coalition',
    takenOverBy: '',
    priority: 'urgent',
    state: 'sent',
    reason: '',
    needs: ['counselling', 'shelter'],
    doNotContact: false,
    assignedUser: '',
    previousReferralId: '',
    escalated: false,
    afterHours: false,
    sentAt: at(0),
    ...over,
  };
}

/** A referral that reached `state`, with the times and codes a referral in it has. */
function inState(state: ReferralState): ReferralFacts {
  const times: Partial<ReferralFacts> = {
    acknowledged: { acknowledgedAt: at(5) },
    accepted: { acknowledgedAt: at(5), acceptedAt: at(10) },
    in_contact: { acknowledgedAt: at(5), acceptedAt: at(10), contactAt: at(20) },
    closed: {
      acknowledgedAt: at(5),
      acceptedAt: at(10),
      contactAt: at(20),
      closedAt: at(40),
      reason: 'services_provided',
    },
    declined: { acknowledgedAt: at(5), declinedAt: at(8), reason: 'no_capacity' },
    withdrawn: { withdrawnAt: at(3), reason: 'person_withdrew' },
    sent: {},
  }[state];
  return referral({ state, ...times });
}

const reading: ReferralReading = {
  packet: [
    { category: 'needs', content: 'Synthetic: a safe place tonight', withheld: false },
    { category: 'safe_contact', content: '', withheld: true },
  ],
  note: '',
  consentIds: ['0193a1b2-0000-7000-8000-00000000c0de'],
};

describe('a referral as a Task', () => {
  it.each([
    ['sent', 'requested', 'active'],
    ['acknowledged', 'received', 'active'],
    ['accepted', 'accepted', 'active'],
    ['in_contact', 'in-progress', 'active'],
    ['closed', 'completed', 'completed'],
    ['declined', 'rejected', 'revoked'],
    ['withdrawn', 'cancelled', 'revoked'],
  ] as const)('%s: Task %s, ServiceRequest %s, both valid R4', (state, taskStatus, requestStatus) => {
    const task = referralTask(inState(state), reading);
    const request = referralServiceRequest(inState(state), reading);
    expect(task.status).toBe(taskStatus);
    expect(task.businessStatus.coding?.[0]).toEqual({ system: 'urn:passage:referral-state', code: state });
    expect(request.status).toBe(requestStatus);
    expect(r4Problems(task)).toEqual([]);
    expect(r4Problems(request)).toEqual([]);
  });

  it('maps every Passage state, and finds the states back from each Task status', () => {
    expect(referralStates).toHaveLength(7);
    expect(referralStates.flatMap((state) => statesOfTaskStatus(referralTask(inState(state)).status))).toEqual(
      referralStates,
    );
    expect(statesOfTaskStatus('on-hold')).toEqual([]);
  });

  it('gives the outcome of a closed referral as its output, with the first contact', () => {
    const task = referralTask(inState('closed'));
    expect(task.output).toEqual([
      {
        type: { coding: [{ system: 'urn:passage:task-output', code: 'first-contact' }] },
        valueDateTime: at(20).toISOString(),
      },
      {
        type: {
          coding: [
            {
              system: 'http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes',
              code: 'resulting-activity',
              display: 'Resulting Activity',
            },
          ],
        },
        valueCodeableConcept: { coding: [{ system: 'urn:passage:close-outcome', code: 'services_provided' }] },
      },
    ]);
    expect(task.executionPeriod).toEqual({ start: at(10).toISOString(), end: at(40).toISOString() });
    expect(task.lastModified).toBe(at(40).toISOString());
    expect(referralTask(inState('accepted')).output).toBeUndefined();
  });

  it('says why a referral was declined or withdrawn, by code', () => {
    expect(referralTask(inState('declined')).statusReason).toEqual({
      coding: [{ system: 'urn:passage:decline-reason', code: 'no_capacity' }],
    });
    expect(referralTask(inState('withdrawn')).statusReason).toEqual({
      coding: [{ system: 'urn:passage:withdraw-reason', code: 'person_withdrew' }],
    });
    expect(referralTask(inState('closed')).statusReason).toBeUndefined();
  });

  it('is owned by the receiving agency, the crisis line that took it over, or the assigned worker', () => {
    expect(referralTask(referral()).owner).toEqual({
      reference: `Organization/${organizationIdOf('london-coalition')}`,
    });
    const takenOver = referral({ escalated: true, takenOverBy: 'ontario-ht-crisis-line', takenOverAt: at(30) });
    expect(referralTask(takenOver).owner).toEqual({
      reference: `Organization/${organizationIdOf('ontario-ht-crisis-line')}`,
    });
    expect(referralTask(takenOver).meta?.tag?.map((t) => t.code)).toEqual(['escalated', 'taken-over']);
    // The request still names the agency it was sent to.
    expect(referralServiceRequest(takenOver).performer).toEqual([
      { reference: `Organization/${organizationIdOf('london-coalition')}` },
    ]);
    const assigned = referralTask(referral({ assignedUser: 'london-intake', assignedAt: at(7) }));
    expect(assigned.owner).toEqual({
      type: 'PractitionerRole',
      identifier: { system: 'urn:passage:user', value: 'london-intake' },
    });
    expect(assigned.requester).toEqual({ reference: `Organization/${organizationIdOf('peel-regional-police')}` });
    expect(r4Problems(assigned)).toEqual([]);
  });

  it('carries the packet as consent allowed it: words where allowed, masked where withheld, nothing without a read', () => {
    const task = referralTask(referral(), { ...reading, note: 'Synthetic note of ours' });
    expect(task.input).toEqual([
      {
        type: { coding: [{ system: 'urn:passage:data-category', code: 'needs' }] },
        valueString: 'Synthetic: a safe place tonight',
      },
      {
        type: { coding: [{ system: 'urn:passage:data-category', code: 'safe_contact' }] },
        valueCodeableConcept: {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'masked', display: 'Masked' },
          ],
        },
      },
    ]);
    expect(task.note).toEqual([{ text: 'Synthetic note of ours' }]);
    expect(r4Problems(task)).toEqual([]);
    const metadata = referralTask(referral());
    expect(metadata.input).toBeUndefined();
    expect(metadata.note).toBeUndefined();
  });
});

describe('a referral as a ServiceRequest', () => {
  it('flags do-not-contact as the SDOH CC IG does, and names the consents and the declined referral it replaces', () => {
    const request = referralServiceRequest(
      referral({ doNotContact: true, previousReferralId: '0193a1b2-0000-7000-8000-0000000000aa' }),
      reading,
    );
    expect(request.orderDetail).toEqual([
      {
        coding: [
          {
            system: 'http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes',
            code: 'contacting-subject-prohibited',
            display: 'Contacting Subject Prohibited',
          },
        ],
      },
    ]);
    expect(request.supportingInfo).toEqual([{ reference: 'Consent/0193a1b2-0000-7000-8000-00000000c0de' }]);
    expect(request.replaces).toEqual([{ reference: 'ServiceRequest/0193a1b2-0000-7000-8000-0000000000aa' }]);
    expect(request.category?.map((c) => c.coding?.[0]?.code)).toEqual(['counselling', 'shelter']);
    expect(request.subject).toEqual({
      type: 'Patient',
      identifier: { system: 'urn:passage:subject', value: subjectRef },
    });
    expect(request.identifier).toEqual([{ system: 'urn:passage:referral-reference', value: 'R-7K3M-Q9' }]);
    expect(request.priority).toBe('urgent');
    expect(referralServiceRequest(referral({ priority: 'standard' })).priority).toBe('routine');
    expect(referralServiceRequest(referral()).orderDetail).toBeUndefined();
    expect(r4Problems(request)).toEqual([]);
  });

  it('from metadata alone (the bulk export): no subject, needs, reference or packet, and still valid', () => {
    const metadata = referral({ reference: '', subjectRef: '', needs: [], afterHours: true });
    const request = referralServiceRequest(metadata);
    expect(request.subject).toEqual({
      extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'masked' }],
    });
    expect(request.category).toBeUndefined();
    expect(request.identifier).toBeUndefined();
    expect(request.supportingInfo).toBeUndefined();
    const task = referralTask(metadata);
    expect(task.for).toBeUndefined();
    expect(task.meta?.tag).toEqual([{ system: 'urn:passage:referral-flag', code: 'after-hours' }]);
    expect(JSON.stringify([task, request])).not.toContain(subjectRef);
    expect(r4Problems(request)).toEqual([]);
    expect(r4Problems(task)).toEqual([]);
  });
});
