import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { agencyEvent, startAuditLab, type AuditLab } from '@passage/audit/testing';
import { testTls } from '@passage/platform/testing';
import { waitUntil } from '@passage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateNames } from '../src/commands/certs.ts';
import { run } from '../src/main.ts';

// The passage command against a real audit service, Postgres and NATS.
const mainScript = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let lab: AuditLab;
let env: NodeJS.ProcessEnv;
const events = 25;

beforeAll(async () => {
  lab = await startAuditLab('cli', {
    config: { AUDIT_ORIGIN: 'passage.test/cli', AUDIT_CHECKPOINT_EVERY: '10', AUDIT_CHECKPOINT_SECONDS: '0.3' },
  });
  for (let i = 0; i < events; i += 1) {
    const { subject, envelope } = agencyEvent(lab.topology, `agency-${i}`, 'london');
    await lab.publish(envelope, subject);
  }
  await waitUntil(async () => {
    const { rows } = await lab.sql.query<{ n: string | null }>('select max(tree_size) as n from audit.checkpoints');
    return Number(rows[0]?.n ?? 0) === events;
  });
  env = {
    DATABASE_URL: lab.db.url,
    AUDIT_ADDRESS: lab.service!.address,
    AUDIT_VERIFIER_KEY: lab.service!.verifierKey,
    PASSAGE_TOKEN: lab.token('auditor'),
    // Its own certificate: the audit service speaks only mutual TLS.
    ...testTls('cli').env,
  };
});

afterAll(async () => {
  await lab?.stop();
});

async function passage(...args: string[]): Promise<{ code: number; out: string }> {
  return passageWith(env, ...args);
}

async function passageWith(settings: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await run(args, settings, (line) => lines.push(line));
  return { code, out: lines.join('\n') };
}

describe('passage audit', () => {
  it('verifies the log from the command line, as a process of its own', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [mainScript, 'audit', 'verify'], {
      env: { ...process.env, ...env },
    });
    expect(stdout).toMatch(new RegExp(`^OK: ${events} entries, \\d+ checkpoint signatures verified`));
  });

  it('proves an entry against the signed checkpoint', async () => {
    const { code, out } = await passage('audit', 'prove', '7');
    expect(code).toBe(0);
    expect(out).toContain(`OK: entry 7 is in the log signed at ${events} entries`);
    await expect(passage('audit', 'prove', String(events))).rejects.toThrow(
      `seq ${events} is not yet under a signed checkpoint`,
    );
  });

  it('names the sequence number of a byte changed in the database, and the entries cut off after a saved checkpoint', async () => {
    const saved = join(mkdtempSync(join(tmpdir(), 'passage-cli-')), 'checkpoint.note');
    writeFileSync(saved, `${(await passage('audit', 'checkpoint')).out}\n`);
    expect((await passage('audit', 'verify', '--checkpoint', saved)).code).toBe(0);

    const tamper = async (statement: string) => {
      await lab.sql.query('begin');
      await lab.sql.query('set local session_replication_role = replica');
      await lab.sql.query(statement);
      await lab.sql.query('commit');
    };
    await tamper('update audit.entries set entry = set_byte(entry, 30, get_byte(entry, 30) # 4) where seq = 11');
    const flipped = await passage('audit', 'verify');
    expect(flipped.code).toBe(1);
    expect(flipped.out).toMatch(/^FAILED at seq 11\n/);
    await tamper('update audit.entries set entry = set_byte(entry, 30, get_byte(entry, 30) # 4) where seq = 11');
    expect((await passage('audit', 'verify')).code).toBe(0);

    await tamper(`delete from audit.entries where seq >= ${events - 4}`);
    await tamper(`delete from audit.checkpoints where tree_size > ${events - 4}`);
    const truncated = await passage('audit', 'verify', '--checkpoint', saved, '--json');
    expect(truncated.code).toBe(1);
    expect(JSON.parse(truncated.out)).toMatchObject({ ok: false, firstBadSeq: events - 4 });
  });
});

describe('passage report', () => {
  it('prints the hand-off report as a table, CSV or JSON, and refuses an unknown grouping', async () => {
    const table = await passage('report', 'handoff', '--by', 'region', '--since', '2026-01-01');
    expect(table.code).toBe(0);
    expect(table.out.split('\n')[0]).toMatch(/^region\s+referrals\s+ack p50/);
    const csv = await passage('report', 'handoff', '--by', 'agency', '--csv');
    expect(csv.out.split('\n')[0]).toMatch(/^agency,referrals,acknowledge_count,/);
    // Loop closure beside the hand-off times; a hidden count reads x.
    expect(csv.out.split('\n')[0]).toMatch(
      /,closed,closure_rate,declined,decline_rate,resent,resend_rate,accept_anywhere_count,.*,after_hours,/,
    );
    expect(csv.out.split('\n').slice(1).join('\n')).toMatch(/^[^,]+,\d+,/m);
    const json = JSON.parse((await passage('report', 'handoff', '--json')).out) as { groupBy: string };
    expect(json.groupBy).toBe('agency');
    await expect(passage('report', 'handoff', '--by', 'colour')).rejects.toThrow(
      /^groupBy: one of agency, region, priority, month/,
    );
  });

  it('prints the consent and statistics reports', async () => {
    expect((await passage('report', 'consent')).out).toContain('accesses denied: 0');
    const stats = await passage('report', 'stats', '--rows', 'region', '--columns', 'need');
    expect(stats.out).toContain('x: suppressed');
  });
});

describe('passage over mutual TLS', () => {
  it('refuses to call the audit service without its certificate outside development, naming the settings', async () => {
    const { GRPC_TLS_CA_FILE: _ca, GRPC_TLS_CERT_FILE: _cert, GRPC_TLS_KEY_FILE: _key, ...bare } = env;
    await expect(passageWith(bare, 'report', 'consent')).rejects.toThrow(
      /GRPC_TLS_CA, GRPC_TLS_CERT, GRPC_TLS_KEY: not set — outside PASSAGE_ENV=development/,
    );
    await expect(
      passageWith({ ...bare, GRPC_TLS_CA_FILE: env['GRPC_TLS_CA_FILE'] }, 'report', 'consent'),
    ).rejects.toThrow(/GRPC_TLS_CERT, GRPC_TLS_KEY: not set, while GRPC_TLS_CA is/);
    // Plaintext in development: the service, on mutual TLS, does not answer it.
    await expect(passageWith({ ...bare, PASSAGE_ENV: 'development' }, 'report', 'consent')).rejects.toThrow(
      /UNAVAILABLE|unavailable|No connection established|Connection dropped/i,
    );
  });

  it("certs dev makes a CA and a certificate for every party; with another CA's certificates the command gets no answer", async () => {
    const out = mkdtempSync(join(tmpdir(), 'passage-certs-'));
    const made = await passageWith({}, 'certs', 'dev', '--out', out, '--hosts', 'passage.example,audit.passage.svc');
    expect(made.code).toBe(0);
    expect(certificateNames.length).toBeGreaterThan(0);
    for (const name of ['ca', ...certificateNames]) expect(existsSync(join(out, `${name}.crt`))).toBe(true);
    expect(made.out).toContain(`GRPC_TLS_CERT_FILE=${join(out, 'cli.crt')}`);
    const stranger = {
      ...env,
      GRPC_TLS_CA_FILE: join(out, 'ca.crt'),
      GRPC_TLS_CERT_FILE: join(out, 'cli.crt'),
      GRPC_TLS_KEY_FILE: join(out, 'cli.key'),
    };
    await expect(passageWith(stranger, 'report', 'consent')).rejects.toMatchObject({ code: 'unavailable' });
    // The same command with the certificate the service's CA issued is answered.
    expect((await passage('report', 'consent')).code).toBe(0);
    await expect(passageWith({}, 'certs', 'dev')).rejects.toThrow('certs dev: give the folder to write to: --out DIR');
  });
});
