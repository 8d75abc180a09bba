import { readFileSync } from 'node:fs';
import {
  NoteVerifier,
  checkpointSigner,
  leafHash,
  storedCheckpointNotes,
  scanEntries,
  verifyInclusion,
  verifyLog,
} from '@passage/audit-log';
import { callUnary, databaseClient } from '@passage/platform';
import { UsageError, auditConnection, databaseUrl } from '../connection.ts';
import { formatRows } from '../output.ts';

export interface AuditFlags {
  readonly checkpoint?: string | undefined;
  readonly key?: string | undefined;
  readonly json?: boolean | undefined;
  readonly as?: string | undefined;
  readonly 'require-signed'?: boolean | undefined;
}

/**
 * The key checkpoints must be signed with: --key or AUDIT_VERIFIER_KEY, handed to the
 * auditor outside the system; in development the development key.
 */
function verifierKey(env: NodeJS.ProcessEnv, flags: AuditFlags): string {
  const given = flags.key ?? env['AUDIT_VERIFIER_KEY'];
  if (given) return given;
  if (env['PASSAGE_ENV'] === 'development') {
    return checkpointSigner({
      AUDIT_ORIGIN: env['AUDIT_ORIGIN'] ?? 'passage.ontario/audit',
      PASSAGE_ENV: 'development',
    }).verifierKey;
  }
  throw new UsageError('give the log verifier key: --key <name+id+key> or AUDIT_VERIFIER_KEY');
}

/** Recomputes the tree from the database and checks every signature: trusts no running service. */
export async function auditVerify(
  env: NodeJS.ProcessEnv,
  flags: AuditFlags,
  print: (line: string) => void,
): Promise<number> {
  const savedNote = flags.checkpoint ? readFileSync(flags.checkpoint, 'utf8') : undefined;
  const key = verifierKey(env, flags);
  const db = databaseClient(databaseUrl(env));
  await db.connect();
  try {
    const started = performance.now();
    const verified = await verifyLog({
      entries: scanEntries(db),
      checkpointNotes: await storedCheckpointNotes(db),
      verifierKey: key,
      savedNote,
    });
    const seconds = (performance.now() - started) / 1000;
    const tail = verified.unsignedTail;
    // Nothing vouches for the unsigned tail: with --require-signed it is a failure, not a footnote.
    const result =
      flags['require-signed'] && verified.ok && tail && tail.entries > 0
        ? {
            ...verified,
            ok: false,
            firstBadSeq: verified.treeSize - tail.entries,
            problem:
              `${tail.entries} entries (${tail.bytes} bytes) from seq ${verified.treeSize - tail.entries} on are under no ` +
              'signed checkpoint: they could have been changed or removed without a trace (a clean stop of the ' +
              'audit service signs them)',
          }
        : verified;
    if (flags.json) {
      print(
        JSON.stringify(
          {
            ...result,
            latest: result.latest && { ...result.latest, rootHash: result.latest.rootHash.toString('base64') },
            seconds,
          },
          null,
          2,
        ),
      );
    } else if (result.ok) {
      const latest = result.latest
        ? `; latest signed checkpoint: ${result.latest.treeSize} entries, root ${result.latest.rootHash.toString('base64')}`
        : '';
      const against = savedNote ? '; consistent with the saved checkpoint' : '';
      print(
        `OK: ${result.treeSize} entries, ${result.checkpointsChecked} checkpoint signatures verified${against}${latest} (${seconds.toFixed(1)} s)`,
      );
      const signed = result.signed ?? { entries: 0, bytes: 0 };
      const unsigned = result.unsignedTail ?? { entries: 0, bytes: 0 };
      print(`  under signature: ${signed.entries} entries (${signed.bytes} bytes)`);
      print(
        `  unsigned tail:   ${unsigned.entries} entries (${unsigned.bytes} bytes)${unsigned.entries > 0 ? ' — not yet covered by a checkpoint; verify cannot vouch for them' : ''}`,
      );
    } else {
      print(result.firstBadSeq === undefined ? 'FAILED' : `FAILED at seq ${result.firstBadSeq}`);
      print(`  ${result.problem ?? ''}`);
    }
    return result.ok ? 0 : 1;
  } finally {
    await db.end();
  }
}

/** The latest signed checkpoint, to keep outside the system for a later `audit verify --checkpoint`. */
export async function auditCheckpoint(env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<number> {
  const db = databaseClient(databaseUrl(env));
  await db.connect();
  try {
    const notes = await storedCheckpointNotes(db);
    const latest = notes.at(-1);
    if (!latest) throw new UsageError('the log has no checkpoint yet');
    print(latest.trimEnd());
    return 0;
  } finally {
    await db.end();
  }
}

/** Proves one entry is in the log, against the latest checkpoint, verified here. */
export async function auditProve(
  env: NodeJS.ProcessEnv,
  seqText: string | undefined,
  flags: AuditFlags,
  print: (line: string) => void,
): Promise<number> {
  const seq = Number(seqText);
  if (seqText === undefined || !Number.isSafeInteger(seq) || seq < 0)
    throw new UsageError('usage: passage audit prove SEQ');
  const verifier = new NoteVerifier(verifierKey(env, flags));
  const { client, metadata } = auditConnection(env, flags.as);
  try {
    const latest = await callUnary(client.latestCheckpoint.bind(client), {}, metadata);
    if (!latest.checkpoint) throw new UsageError('the log has no checkpoint yet');
    const checkpoint = verifier.open(latest.checkpoint.note);
    if (seq >= checkpoint.treeSize) {
      throw new UsageError(
        `seq ${seq} is not yet under a signed checkpoint (it covers 0 to ${checkpoint.treeSize - 1})`,
      );
    }
    const proof = await callUnary(client.inclusionProof.bind(client), { seq, treeSize: checkpoint.treeSize }, metadata);
    const leaf = leafHash(proof.entry);
    const ok = verifyInclusion(seq, checkpoint.treeSize, leaf, proof.path, checkpoint.rootHash);
    const summary = {
      ok,
      seq,
      treeSize: checkpoint.treeSize,
      rootHash: checkpoint.rootHash.toString('base64'),
      leafHash: leaf.toString('hex'),
      path: proof.path.map((h) => h.toString('hex')),
      entry: JSON.parse(proof.entry.toString('utf8')) as unknown,
    };
    if (flags.json) print(JSON.stringify(summary, null, 2));
    else {
      print(proof.entry.toString('utf8'));
      print(`leaf hash ${summary.leafHash}; audit path of ${summary.path.length} hashes`);
      print(
        ok
          ? `OK: entry ${seq} is in the log signed at ${checkpoint.treeSize} entries (root ${summary.rootHash})`
          : `FAILED: the proof for entry ${seq} does not lead to the signed root`,
      );
    }
    return ok ? 0 : 1;
  } finally {
    client.close();
  }
}

export interface GapFlags {
  readonly stream?: string | undefined;
  readonly json?: boolean | undefined;
  readonly as?: string | undefined;
}

/** Each stream the log reads, and any stopped at a gap: what `acknowledge-gap` acts on. */
export async function auditStatus(
  env: NodeJS.ProcessEnv,
  flags: GapFlags,
  print: (line: string) => void,
): Promise<number> {
  const { client, metadata } = auditConnection(env, flags.as);
  try {
    const { streams } = await callUnary(client.ingestStatus.bind(client), {}, metadata);
    const stopped = streams.filter((s) => s.state === 'stopped');
    if (flags.json) print(JSON.stringify({ streams }, null, 2));
    else {
      print(
        formatRows(
          streams.map((s) => ({ stream: s.stream, state: s.state, detail: s.detail })),
          ['stream', 'state', 'detail'],
          'table',
        ),
      );
      for (const s of stopped)
        print(`to record the gap and read ${s.stream} again: passage audit acknowledge-gap --stream ${s.stream}`);
    }
    return stopped.length === 0 ? 0 : 1;
  } finally {
    client.close();
  }
}

/**
 * An administrator's acknowledgement of a stream's gap, as the status shows it now: the audit
 * service writes it into the log as an entry, then reads the stream again from its first event.
 */
export async function auditAcknowledgeGap(
  env: NodeJS.ProcessEnv,
  flags: GapFlags,
  print: (line: string) => void,
): Promise<number> {
  if (!flags.stream) throw new UsageError('usage: passage audit acknowledge-gap --stream STREAM');
  const { client, metadata } = auditConnection(env, flags.as ?? 'admin');
  try {
    const { streams } = await callUnary(client.ingestStatus.bind(client), {}, metadata);
    const slot = streams.find((s) => s.stream === flags.stream);
    if (!slot) throw new UsageError(`--stream: one of ${streams.map((s) => s.stream).join(', ')}`);
    if (slot.state !== 'stopped' || !slot.gap) {
      throw new UsageError(`stream ${slot.stream} is not stopped at a gap (it is ${slot.state})`);
    }
    print(`gap: ${slot.detail}`);
    const recorded = await callUnary(
      client.acknowledgeGap.bind(client),
      { stream: slot.stream, lastStoredSeq: slot.gap.lastStoredSeq, firstSeq: slot.gap.firstSeq },
      metadata,
    );
    if (flags.json) print(JSON.stringify({ stream: slot.stream, gap: slot.gap, ...recorded }, null, 2));
    else {
      print(
        `recorded as entry ${recorded.seq} of the audit log; reading ${slot.stream} again after seq ${recorded.resumeAfterSeq}`,
      );
    }
    return 0;
  } finally {
    client.close();
  }
}
