// Writes deploy/nats/authorization.conf: what `pnpm passage nats config` prints, the NATS
// users and permissions computed from the services' declared access (@passage/events). With
// --check, fails when the committed file differs, so a change of what a service publishes or
// consumes cannot leave the deployment's permissions behind (docs/adr/0027-nats-credentials.md).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const file = join(root, 'deploy/nats/authorization.conf');
const printed = `${execFileSync(process.execPath, [join(root, 'packages/cli/src/main.ts'), 'nats', 'config'], {
  cwd: root,
  encoding: 'utf8',
}).trimEnd()}\n`;

if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(file, 'utf8');
  } catch {
    // missing: stale
  }
  if (committed !== printed) {
    console.error(`${relative(root, file)} is stale; run \`pnpm gen\` and commit the result`);
    process.exit(1);
  }
  console.log(`NATS authorization up to date (${relative(root, file)})`);
} else {
  writeFileSync(file, printed);
  console.log(`${relative(root, file)} regenerated`);
}
