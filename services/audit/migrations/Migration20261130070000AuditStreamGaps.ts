import { Migration } from '@mikro-orm/migrations';

/**
 * Stream gaps (docs/adr/0020-audit-log-whole-or-says-not.md). A gap entry starts a new
 * reading of its stream: a stream's position is the stream_seq of its latest entry (found by
 * seq, not by the largest stream_seq, which a recreated stream starts below) or of a parked
 * event parked since its latest gap entry, so a parked event records the log's size.
 */
export class Migration20261130070000AuditStreamGaps extends Migration {
  override up(): void {
    this.addSql('create index entries_by_stream_and_seq on "audit".entries (stream, seq)');
    this.addSql(
      `create index entries_stream_gaps on "audit".entries (stream, seq) where action = 'audit.v1.stream_gap'`,
    );
    this.addSql('alter table "audit".parked_events add column log_size bigint not null default 0');
  }
}
