import { Migration } from '@mikro-orm/migrations';
import { eventTablesSql } from '@passage/events';

export class Migration20261128000000Directory extends Migration {
  override up(): void {
    this.addSql(`create table "directory".agencies (
      id text primary key,
      kind text not null,
      listing jsonb not null,
      version integer not null,
      updated_at timestamptz not null default now()
    )`);
    for (const sql of eventTablesSql('directory')) this.addSql(sql);
  }
}
