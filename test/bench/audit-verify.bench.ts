// `pnpm bench:audit-verify`: `passage audit verify` over a million entries, as an auditor runs
// it (the command in its own process), beside the machine's own limits measured in the same
// run: SHA-256 over the same number of leaf-sized and node-sized buffers, and a raw scan of the
// entries table through the same driver. Then where verify's time goes, stage by stage, in
// this process. Prints figures; asserts nothing.
//
// BENCH_AUDIT_VERIFY_DB=<database url> reuses a log seeded earlier (it is then left in place),
// which saves the seeding while working on verify.
import { execFile } from 'node:child_process';
import { hash as oneShotHash } from 'node:crypto';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  NoteVerifier,
  canonicalEntrySeq,
  decodeEntry,
  leafHash,
  scanEntries,
  storedCheckpointNotes,
} from '@passage/audit-log';
import { createTestDatabase, createTestNats, type TestDatabase } from '@passage/testing';
import { auditOn } from './audit-service.ts';
import { seedLog } from '@passage/audit/testing';
import { reportTarget } from './summary.ts';

const logEntries = Number(process.env['BENCH_AUDIT_ENTRIES'] ?? 1_000_000);
const reuse = process.env['BENCH_AUDIT_VERIFY_DB'];
const root = fileURLToPath(new URL('../../', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
const fmt = (n: number) => n.toLocaleString('en-CA');

console.log(
  `machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

let db: TestDatabase | undefined;
let url: string;
let verifierKey: string;
if (reuse) {
  url = reuse;
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const notes = await storedCheckpointNotes(pool);
  await pool.end();
  // The key the notes are signed with is the one the seeding run printed.
  verifierKey = process.env['BENCH_AUDIT_VERIFIER_KEY'] ?? '';
  if (!verifierKey || notes.length === 0) throw new Error('BENCH_AUDIT_VERIFY_DB needs BENCH_AUDIT_VERIFIER_KEY');
} else {
  db = await createTestDatabase('benchauditverify');
  url = db.url;
  const nats = await createTestNats('benchauditverify');
  const service = await auditOn(db.url, nats.url, nats.namespace);
  await service.shutdown.run(); // the schema and its migrations, then out of the way
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const seedBegan = performance.now();
  await seedLog(pool, logEntries, 'BENCH_REFERRALS');
  console.log(`appended ${fmt(logEntries)} entries in ${((performance.now() - seedBegan) / 1000).toFixed(1)} s`);
  // The service signs a checkpoint over the whole log, as it would have along the way.
  const rerun = await auditOn(db.url, nats.url, nats.namespace);
  while (
    (await pool.query<{ n: string | null }>('select max(tree_size) as n from audit.checkpoints')).rows[0]!.n !==
    String(logEntries)
  ) {
    await sleep(200);
  }
  await rerun.shutdown.run();
  verifierKey = rerun.verifierKey;
  await pool.end();
  await nats.cleanup();
  if (process.env['BENCH_AUDIT_KEEP']) {
    console.log(`kept: BENCH_AUDIT_VERIFY_DB=${db.url} BENCH_AUDIT_VERIFIER_KEY='${verifierKey}'`);
    db = undefined;
  }
}

try {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows: sizes } = await client.query<{ n: number; bytes: string; checkpoints: number }>(
    `select count(*)::int as n, sum(length(entry))::text as bytes,
            (select count(*)::int from audit.checkpoints) as checkpoints from audit.entries`,
  );
  const entries = sizes[0]!.n;
  const meanBytes = Math.round(Number(sizes[0]!.bytes) / entries);
  console.log(`${fmt(entries)} entries, ${meanBytes} bytes each on average, ${sizes[0]!.checkpoints} checkpoints`);

  // The command as an auditor runs it, in its own process, start-up included.
  const began = performance.now();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['packages/cli/src/main.ts', 'audit', 'verify', '--json'],
    { cwd: root, env: { ...process.env, DATABASE_URL: url, AUDIT_VERIFIER_KEY: verifierKey }, maxBuffer: 1 << 20 },
  );
  const commandMs = performance.now() - began;
  const result = JSON.parse(stdout) as { ok: boolean; treeSize: number; checkpointsChecked: number; seconds: number };
  if (!result.ok || result.treeSize !== entries) throw new Error(`verify did not pass: ${stdout}`);
  // What the command times: from its connection to its verdict (the process's start-up is the row below).
  const verifyMs = result.seconds * 1000;

  // Ceiling 1: the table read through the same driver and query as verify, nothing done with the rows.
  let scanned = 0;
  let scanBegan = performance.now();
  for await (const page of scanEntries(client)) scanned += page.length;
  const scanMs = performance.now() - scanBegan;

  // Ceiling 2: SHA-256 of as many entry-sized buffers (leaves) and 65-byte buffers (nodes) as the tree has.
  const leaf = Buffer.alloc(meanBytes + 1, 0x61);
  const node = Buffer.alloc(65, 0x62);
  const hashBegan = performance.now();
  for (let i = 0; i < entries; i += 1) oneShotHash('sha256', leaf, 'buffer');
  for (let i = 1; i < entries; i += 1) oneShotHash('sha256', node, 'buffer');
  const hashMs = performance.now() - hashBegan;

  // Where verify's time goes: each stage alone over the same rows, read once more.
  const pages: { entry: Buffer }[][] = [];
  scanBegan = performance.now();
  for await (const page of scanEntries(client)) pages.push(page);
  const rescanMs = performance.now() - scanBegan;
  const stage = (run: () => void): number => {
    const cpu = process.cpuUsage();
    run();
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1000;
  };
  const decodeMs = stage(() => {
    for (const page of pages) for (const row of page) decodeEntry(row.entry);
  });
  const canonicalMs = stage(() => {
    for (const page of pages) for (const row of page) canonicalEntrySeq(row.entry);
  });
  const leavesMs = stage(() => {
    for (const page of pages) for (const row of page) leafHash(row.entry);
  });
  const notes = await storedCheckpointNotes(client);
  const signaturesMs = stage(() => {
    const verifier = new NoteVerifier(verifierKey);
    for (const note of notes) verifier.open(note);
  });
  await client.end();

  const verifyRate = rate(entries, verifyMs);
  const lines: [string, string][] = [
    ['machine', `${availableParallelism()} cores`],
    ['entries / checkpoints', `${fmt(entries)} / ${fmt(notes.length)}`],
    [
      `\`passage audit verify\`: ${fmt(result.checkpointsChecked)} signatures, every entry and node`,
      `${(verifyMs / 1000).toFixed(2)} s — ${fmt(verifyRate)} entries/s`,
    ],
    ['the same command with its process start-up', `${(commandMs / 1000).toFixed(2)} s`],
    [
      'ceiling: raw scan of audit.entries (the binary copy verify reads, rows split, nothing checked)',
      `${(scanMs / 1000).toFixed(2)} s — ${fmt(rate(scanned, scanMs))} rows/s`,
    ],
    [
      `ceiling: SHA-256, ${fmt(entries)} leaves of ${meanBytes + 1} B + ${fmt(entries - 1)} nodes of 65 B`,
      `${(hashMs / 1000).toFixed(2)} s — ${fmt(rate(entries, hashMs))} entries/s`,
    ],
    [
      'ceiling: scan + hashing, one after the other',
      `${((scanMs + hashMs) / 1000).toFixed(2)} s — ${fmt(rate(entries, scanMs + hashMs))} entries/s`,
    ],
    ['verify ÷ (scan + hashing)', `${((100 * (scanMs + hashMs)) / verifyMs).toFixed(0)} %`],
    ['target', `≥ 200,000 entries/s: ${verifyRate >= 200_000 ? 'met' : '**missed**'}`],
    ['stage: scan, wall time', `${(rescanMs / 1000).toFixed(2)} s`],
    ['stage: canonical check on the bytes, CPU', `${(canonicalMs / 1000).toFixed(2)} s`],
    ['stage: canonical check by decoding and re-encoding (before ADR 48), CPU', `${(decodeMs / 1000).toFixed(2)} s`],
    ['stage: leaf hashes, CPU', `${(leavesMs / 1000).toFixed(2)} s`],
    [`stage: ${fmt(notes.length)} checkpoint signatures, CPU`, `${(signaturesMs / 1000).toFixed(3)} s`],
  ];
  console.log('\n| audit verify | value |\n| --- | ---: |');
  for (const [measure, value] of lines) console.log(`| ${measure} | ${value} |`);
  reportTarget({
    bench: 'audit-verify',
    measure: `\`passage audit verify\`, ${fmt(entries)} entries (its own time)`,
    value: verifyRate,
    unit: 'entries/s',
    target: '≥ 200,000 entries/s',
    met: verifyRate >= 200_000,
  });
} finally {
  await db?.drop();
}
