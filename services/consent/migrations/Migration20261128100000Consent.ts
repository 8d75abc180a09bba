import { Migration } from '@mikro-orm/migrations';
import { subjectKeyTableSql } from '@passage/crypto';
import { eventTablesSql } from '@passage/events';

export class Migration20261128100000Consent extends Migration {
  override up(): void {
    this.addSql(`create table "consent".consents (
      id uuid primary key,
      subject_ref uuid not null,
      captured_by jsonb not null,
      method text not null,
      interpreter_language text not null default '',
      language text not null,
      granted_at timestamptz not null,
      expires_at timestamptz not null,
      revoked_at timestamptz,
      scopes jsonb not null,
      receipt_name bytea,
      notes bytea,
      expiry_published_at timestamptz
    )`);
    this.addSql('create index consents_by_subject on "consent".consents (subject_ref)');
    this.addSql('create index consents_to_expire on "consent".consents (expires_at) where expiry_published_at is null');
    this.addSql(`create table "consent".changes (
      seq bigserial primary key,
      subject_ref uuid not null,
      consent_id uuid,
      change text not null,
      scope_ids jsonb not null,
      actor jsonb not null,
      at timestamptz not null,
      reason text not null
    )`);
    this.addSql('create index changes_by_subject on "consent".changes (subject_ref, seq)');
    this.addSql(`create table "consent".erasures (
      subject_ref uuid primary key,
      actor jsonb not null,
      reason text not null,
      erased_at timestamptz not null
    )`);
    this.addSql(`create table "consent".agencies (
      agency_id text primary key,
      kind text not null,
      name_en text not null,
      name_fr text not null,
      version bigint not null
    )`);
    this.addSql(subjectKeyTableSql('consent'));
    for (const sql of eventTablesSql('consent')) this.addSql(sql);
  }
}
