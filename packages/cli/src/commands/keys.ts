import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../connection.ts';
import { newDeploymentKeys } from '../keys.ts';

/**
 * `passage keys new (--env DIR | --files DIR) [--label L] [--origin O]`: every key a deployment
 * needs (keys.ts), written — never printed — as one env file per process (`DIR/consent.env`,
 * for `--env-file` or a Kubernetes secretGenerator's envs), or as one file per setting
 * (`DIR/consent/PASSAGE_KEK`, to mount as a Secret and name in `PASSAGE_KEK_FILE`). Files are
 * readable by their owner only; a file that exists is never overwritten.
 */
export function keysNew(
  flags: {
    readonly env?: string | undefined;
    readonly files?: string | undefined;
    readonly label?: string | undefined;
    readonly origin?: string | undefined;
  },
  print: (line: string) => void,
): number {
  if (Boolean(flags.env) === Boolean(flags.files)) {
    throw new UsageError(
      'keys new: give one of --env DIR (an env file per process) or --files DIR (a file per setting)',
    );
  }
  if (flags.label !== undefined && !/^[A-Za-z0-9._-]+$/.test(flags.label)) {
    throw new UsageError('keys new: --label is letters, digits, dots, dashes and underscores (it goes into key ids)');
  }
  const keys = newDeploymentKeys({ label: flags.label, origin: flags.origin });
  const dir = resolve((flags.env ?? flags.files)!);
  const planned: { path: string; body: string }[] = [];
  for (const [process, settings] of Object.entries(keys) as [string, Record<string, string>][]) {
    if (flags.env) {
      const body = Object.entries(settings)
        .map(([name, value]) => `${name}=${value}\n`)
        .join('');
      planned.push({ path: join(dir, `${process}.env`), body });
    } else {
      for (const [name, value] of Object.entries(settings))
        planned.push({ path: join(dir, process, name), body: value });
    }
  }
  const existing = planned.filter(({ path }) => existsSync(path)).map(({ path }) => path);
  if (existing.length > 0) {
    throw new UsageError(`keys new: ${existing.join(', ')} exist; keys are never overwritten — give an empty folder`);
  }
  for (const { path, body } of planned) {
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(path, body, { mode: 0o600, flag: 'wx' });
  }
  print(
    `wrote ${planned.length} files to ${dir} (owner-only; they hold private keys: keep them out of logs and version control)`,
  );
  print(
    flags.env
      ? `each process reads its own: e.g. consent with --env-file ${join(dir, 'consent.env')}`
      : `mount each process's folder as a Secret and set <NAME>_FILE, e.g. PASSAGE_KEK_FILE=/run/secrets/passage/PASSAGE_KEK`,
  );
  print(`public, for auditors (passage audit verify): AUDIT_VERIFIER_KEY=${keys.cli.AUDIT_VERIFIER_KEY}`);
  return 0;
}
