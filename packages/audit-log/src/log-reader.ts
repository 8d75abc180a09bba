import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { StoredEntry } from './verify-log.ts';

/**
 * What a verifier reads: every entry in seq order and every stored checkpoint note. Used by
 * the service's Verify and by the `passage audit verify` command, which reads the database
 * directly so that it need not trust the running service.
 */
export async function* storedEntries(db: pg.Pool | pg.Client, pageSize = 10_000): AsyncGenerator<StoredEntry> {
  for await (const page of scanEntries(db, pageSize)) yield* page;
}

/**
 * Every stored entry in seq order, a page at a time: one `COPY … TO STDOUT (FORMAT binary)`
 * read as it streams in (ADR 48). The rows come as the table holds their bytes — no hex
 * text to decode, no row objects from the driver — and the entries are handed over as
 * views of the received chunks, a page once it holds `pageSize` or more (whole chunks). The
 * stream reads ahead while the caller checks a page.
 */
export async function* scanEntries(db: pg.Pool | pg.Client, pageSize = 10_000): AsyncGenerator<StoredEntry[]> {
  const pooled = 'totalCount' in db ? await db.connect() : undefined;
  const client = pooled ?? (db as pg.Client);
  const stream = client.query(
    copyTo('copy (select seq, entry, leaf_hash from audit.entries order by seq) to stdout (format binary)'),
  );
  let finished = false;
  try {
    const reader = new CopyRows();
    let page: StoredEntry[] = [];
    // Not destroyed when the caller stops early: see below.
    for await (const chunk of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      reader.read(chunk, page);
      if (page.length >= pageSize) {
        yield page;
        page = [];
      }
    }
    if (!reader.ended) throw new Error('the copy of audit.entries ended before its trailer');
    finished = true;
    yield page;
  } finally {
    // Left before the end (a verifier stops at the first bad entry): the rest of the copy is
    // read and dropped, so the connection is free for the caller's next query.
    let usable = finished;
    if (!finished && !stream.errored) {
      try {
        for await (const _ of stream as AsyncIterable<Buffer>) continue;
        usable = true;
      } catch {
        usable = false;
      }
    }
    pooled?.release(!usable);
  }
}

const signature = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Rows of `COPY (seq bigint, entry bytea, leaf_hash bytea) … (FORMAT binary)`, chunk by chunk. */
class CopyRows {
  #rest: Buffer | undefined;
  #headerRead = false;
  ended = false;

  read(chunk: Buffer, into: StoredEntry[]): void {
    const b = this.#rest ? Buffer.concat([this.#rest, chunk]) : chunk;
    let at = 0;
    if (!this.#headerRead) {
      if (b.length < 19) {
        this.#rest = b;
        return;
      }
      if (!b.subarray(0, 11).equals(signature)) throw new Error('not a binary copy');
      at = 19 + b.readUInt32BE(15);
      this.#headerRead = true;
    }
    for (;;) {
      if (b.length - at < 2) break;
      const fields = b.readInt16BE(at);
      if (fields === -1) {
        this.ended = true;
        at += 2;
        break;
      }
      if (fields !== 3) throw new Error(`a copied row has ${fields} fields`);
      // seq: 4 + 8 bytes; entry: 4 + n; leaf_hash: 4 + m.
      if (b.length - at < 2 + 12 + 4) break;
      const entryLength = b.readInt32BE(at + 14);
      if (entryLength < 0) throw new Error('a copied entry is null');
      const hashAt = at + 18 + entryLength;
      if (b.length - hashAt < 4) break;
      const hashLength = b.readInt32BE(hashAt);
      if (hashLength < 0) throw new Error('a copied leaf hash is null');
      const end = hashAt + 4 + hashLength;
      if (b.length < end) break;
      const seq = b.readUInt32BE(at + 6) * 2 ** 32 + b.readUInt32BE(at + 10);
      into.push({ seq, entry: b.subarray(at + 18, hashAt), leafHash: b.subarray(hashAt + 4, end) });
      at = end;
    }
    this.#rest = at < b.length ? b.subarray(at) : undefined;
  }
}

export async function storedCheckpointNotes(db: pg.Pool | pg.Client): Promise<string[]> {
  const { rows } = await db.query<{ note: string }>('select note from audit.checkpoints order by tree_size');
  return rows.map((row) => row.note);
}
