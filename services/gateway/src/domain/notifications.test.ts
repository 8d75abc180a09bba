import { describe, expect, it } from 'vitest';
import {
  emailKinds,
  mailText,
  nextParties,
  noticeFor,
  retryDelayMs,
  shortReference,
  turnedOffFor,
  type ReferralEventFacts,
  type ReferralParties,
} from './notifications.ts';

const referralId = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

function event(over: Partial<ReferralEventFacts>): ReferralEventFacts {
  return {
    referralId,
    event: 'sent',
    fromAgency: 'peel-regional-police',
    toAgency: 'london-coalition',
    priority: 'urgent',
    actorUser: 'peel-officer',
    actorAgency: 'peel-regional-police',
    version: 1,
    assignedUser: '',
    authorAgency: '',
    ...over,
  };
}

const parties = (over: Partial<ReferralParties> = {}): ReferralParties => ({
  referralId,
  fromAgency: 'peel-regional-police',
  toAgency: 'london-coalition',
  sentBy: 'peel-officer',
  assignedUser: '',
  version: 1,
  ...over,
});

describe('who a referral event notifies', () => {
  it('a new urgent referral: the receiving desk, and the assigned worker when there is one', () => {
    expect(noticeFor(event({}), parties())).toEqual({
      kind: 'urgent_referral',
      referralId,
      recipients: [{ to: 'desk', agencyId: 'london-coalition' }],
    });
    expect(noticeFor(event({}), parties({ assignedUser: 'london-intake' }))?.recipients).toEqual([
      { to: 'desk', agencyId: 'london-coalition' },
      { to: 'person', userId: 'london-intake' },
    ]);
  });

  it('a standard referral notifies nobody; other hand-off steps neither', () => {
    expect(noticeFor(event({ priority: 'standard' }), parties())).toBeUndefined();
    for (const name of ['acknowledged', 'accepted', 'closed', 'withdrawn', 'contact_recorded'])
      expect(noticeFor(event({ event: name }), parties())).toBeUndefined();
  });

  it('an escalation: the receiving desk and worker', () => {
    const notice = noticeFor(
      event({ event: 'escalated', actorUser: 'escalation-service', actorAgency: 'passage-system' }),
      parties({ assignedUser: 'london-intake' }),
    );
    expect(notice?.kind).toBe('escalated');
    expect(notice?.recipients).toEqual([
      { to: 'desk', agencyId: 'london-coalition' },
      { to: 'person', userId: 'london-intake' },
    ]);
  });

  it('a decline: the person who sent it', () => {
    const notice = noticeFor(
      event({ event: 'declined', actorUser: 'london-intake', actorAgency: 'london-coalition' }),
      parties(),
    );
    expect(notice).toEqual({ kind: 'declined', referralId, recipients: [{ to: 'person', userId: 'peel-officer' }] });
    // Unknown sender: nobody to tell.
    expect(noticeFor(event({ event: 'declined' }), parties({ sentBy: '' }))).toBeUndefined();
  });

  it('a message: the other side — never its author', () => {
    const fromReceiver = event({
      event: 'message_posted',
      authorAgency: 'london-coalition',
      actorUser: 'london-intake',
      actorAgency: 'london-coalition',
    });
    expect(noticeFor(fromReceiver, parties())?.recipients).toEqual([{ to: 'person', userId: 'peel-officer' }]);
    const fromSender = event({ event: 'message_posted', authorAgency: 'peel-regional-police' });
    expect(noticeFor(fromSender, parties())?.recipients).toEqual([{ to: 'desk', agencyId: 'london-coalition' }]);
    expect(noticeFor(fromSender, parties({ assignedUser: 'london-intake' }))?.recipients).toEqual([
      { to: 'person', userId: 'london-intake' },
    ]);
    // Whoever wrote is never told of their own message.
    const selfAssigned = event({
      event: 'message_posted',
      authorAgency: 'london-coalition',
      actorUser: 'peel-officer',
    });
    expect(noticeFor(selfAssigned, parties())).toBeUndefined();
  });
});

describe("the referral's parties", () => {
  it('the sent event names the sender; a newer version moves the assignment, an older one does not', () => {
    const sent = nextParties(undefined, event({}));
    expect(sent).toMatchObject({ sentBy: 'peel-officer', assignedUser: '', version: 1 });
    const assigned = nextParties(sent, event({ event: 'acknowledged', version: 3, assignedUser: 'london-intake' }));
    expect(assigned).toMatchObject({ sentBy: 'peel-officer', assignedUser: 'london-intake', version: 3 });
    const late = nextParties(assigned, event({ event: 'acknowledged', version: 2, assignedUser: '' }));
    expect(late.assignedUser).toBe('london-intake');
    // A message carries no assignment: nothing changes.
    expect(nextParties(assigned, event({ event: 'message_posted', version: 0, assignedUser: undefined }))).toEqual(
      assigned,
    );
  });
});

describe('e-mail choices and words', () => {
  it('every kind by default; what a person turns off stays off', () => {
    expect(emailKinds([])).toEqual(['urgent_referral', 'escalated', 'declined', 'message']);
    expect(turnedOffFor(['declined'])).toEqual(['urgent_referral', 'escalated', 'message']);
    expect(emailKinds(turnedOffFor(['declined', 'message']))).toEqual(['declined', 'message']);
  });

  it('a reference and a link only, in the language asked, with a neutral subject', () => {
    const en = mailText('urgent_referral', referralId, 'R-7K3M-Q9', 'https://console.example/', 'en');
    expect(en.subject).toBe('Passage R-7K3M-Q9: An urgent referral is waiting');
    expect(en.text).toContain('Reference: R-7K3M-Q9');
    // Before the referral's reference has reached the gateway: the end of its id.
    expect(shortReference(referralId)).toBe('2E3F4A5B');
    expect(mailText('urgent_referral', referralId, '', 'https://console.example/', 'en').subject).toBe(
      'Passage 2E3F4A5B: An urgent referral is waiting',
    );
    expect(en.text).toContain(`https://console.example/referrals/${referralId}`);
    const fr = mailText('declined', referralId, 'R-7K3M-Q9', 'https://console.example', 'fr');
    expect(fr.subject).toContain('refusée');
    const both = mailText('message', referralId, 'R-7K3M-Q9', 'https://console.example', 'both');
    expect(both.subject).toContain('A new message on a referral / Un nouveau message');
    for (const text of [en, fr, both].flatMap((m) => [m.subject, m.text]))
      expect(text).not.toMatch(/traffick|exploit|victim|traite|police|crisis/i);
  });

  it('a failed e-mail waits longer each time, five minutes at most', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(retryDelayMs(30)).toBe(300_000);
  });
});
