// Generates packages/contracts from proto/ with buf + ts-proto, plus the binary descriptor
// set that gRPC server reflection serves. With --check, generates into a scratch folder and
// fails when the committed code differs: generated code is committed, never hand-edited.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { consoleApi } from './gen-console-api.ts';

const root = new URL('..', import.meta.url).pathname;
const contracts = join(root, 'packages/contracts/src');
const generatedDirs = ['gen', 'descriptor.binpb'];
// The console's typed API, from the same descriptor set.
const consoleApiFile = join(root, 'packages/console/src/api/generated.ts');
const check = process.argv.includes('--check');
const option = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
// --proto DIR --out DIR: generate from another proto tree into DIR, leaving the repo as it is
// (a test adds a field to a scratch copy and looks at what comes out).
const protoDir = option('--proto') ?? join(root, 'proto');
const outOnly = option('--out');

function generate(outDir: string): void {
  const buf = join(root, 'node_modules/.bin/buf');
  execFileSync(buf, ['generate', '--template', 'buf.gen.yaml', '-o', outDir], {
    cwd: protoDir,
    stdio: 'inherit',
  });
  execFileSync(buf, ['build', '-o', join(outDir, 'descriptor.binpb')], {
    cwd: protoDir,
    stdio: 'inherit',
  });
  writeFileSync(join(outDir, 'console-api.ts'), consoleApi(readFileSync(join(outDir, 'descriptor.binpb'))));
  execFileSync(
    join(root, 'node_modules/.bin/prettier'),
    [
      '--write',
      '--log-level',
      'warn',
      '--config',
      join(root, '.prettierrc.json'),
      join(outDir, 'gen'),
      join(outDir, 'console-api.ts'),
    ],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => statSync(join(dir, name)).isFile())
    .sort();
}

if (outOnly) {
  generate(outOnly);
  console.log(`generated into ${outOnly}`);
  process.exit(0);
}

const scratch = mkdtempSync(join(tmpdir(), 'passage-gen-'));
try {
  generate(scratch);
  const produced = scratch;
  if (!check) {
    for (const entry of generatedDirs) rmSync(join(contracts, entry), { recursive: true, force: true });
    for (const entry of generatedDirs) cpSync(join(produced, entry), join(contracts, entry), { recursive: true });
    cpSync(join(produced, 'console-api.ts'), consoleApiFile);
    console.log('contracts regenerated');
  } else {
    const stale: string[] = [];
    const want = filesUnder(join(produced, 'gen'));
    const have = filesUnder(join(contracts, 'gen'));
    for (const name of new Set([...want, ...have])) {
      const a = join(produced, 'gen', name);
      const b = join(contracts, 'gen', name);
      if (!want.includes(name) || !have.includes(name) || !readFileSync(a).equals(readFileSync(b))) stale.push(name);
    }
    if (!readFileSync(join(produced, 'descriptor.binpb')).equals(readFileSync(join(contracts, 'descriptor.binpb')))) {
      stale.push('descriptor.binpb');
    }
    if (!readFileSync(join(produced, 'console-api.ts')).equals(readFileSync(consoleApiFile))) {
      stale.push(relative(root, consoleApiFile));
    }
    if (stale.length > 0) {
      console.error(`generated contracts are stale (${stale.join(', ')}); run \`pnpm gen\` and commit the result`);
      process.exit(1);
    }
    console.log(`contracts up to date (${relative(root, contracts)})`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
