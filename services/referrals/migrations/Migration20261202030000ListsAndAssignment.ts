import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 17, items 4 and 5 (docs/adr/0038-search-references-assignment.md):
 * - reference_no: the number behind a referral's short reference ("R-7K3M-Q9"), from a sequence
 *   of its own, unique; existing referrals are numbered in the order they were sent.
 * - receipt_refs: the references of the consent receipts behind the referral, kept as they were
 *   at sending (grants shrink as scopes end; the person's receipt does not change).
 * - assigned_user / assigned_at: the worker of the receiving agency who has the referral; the
 *   transitions' assigned_user: whom an assignment named.
 */
export class Migration20261202030000ListsAndAssignment extends Migration {
  override up(): void {
    this.addSql('alter table "referrals".referrals add column reference_no bigint');
    this.addSql('create sequence "referrals".reference_numbers owned by "referrals".referrals.reference_no');
    this.addSql(`update "referrals".referrals r set reference_no = numbered.n
      from (select id, nextval('"referrals".reference_numbers') as n
              from (select id from "referrals".referrals order by sent_at, id) ordered) numbered
      where numbered.id = r.id`);
    this.addSql('alter table "referrals".referrals alter column reference_no set not null');
    this.addSql('create unique index referrals_reference on "referrals".referrals (reference_no)');
    this.addSql(`alter table "referrals".referrals add column receipt_refs text[] not null default '{}'`);
    this.addSql(`update "referrals".referrals set receipt_refs = array(
      select distinct upper(right(replace(g->>'consentId', '-', ''), 8)) from jsonb_array_elements(grants) g)`);
    this.addSql('create index referrals_receipt_refs on "referrals".referrals using gin (receipt_refs)');
    this.addSql(`alter table "referrals".referrals add column assigned_user text not null default ''`);
    this.addSql('alter table "referrals".referrals add column assigned_at timestamptz');
    // On an assigned or unassigned transition: the worker (null on every other transition).
    this.addSql('alter table "referrals".transitions add column assigned_user text');
    // My referrals and the caseload: a receiving agency's open referrals by worker.
    this.addSql(`create index referrals_assigned on "referrals".referrals (to_agency, assigned_user)
      where state in ('sent', 'acknowledged', 'accepted', 'in_contact')`);
    this.addSql('create index referrals_inbox_sent on "referrals".referrals (to_agency, sent_at desc, id desc)');
    this.addSql('create index referrals_outbox_sent on "referrals".referrals (from_agency, sent_at desc, id desc)');
  }
}
