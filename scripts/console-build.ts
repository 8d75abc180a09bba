// Builds the web console (packages/console → dist/, which the gateway serves) when its
// sources are newer than the last build; `pnpm start` and `pnpm test` call it.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const consoleDir = fileURLToPath(new URL('../packages/console/', import.meta.url));

function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

function builtAt(): number {
  try {
    return statSync(join(consoleDir, 'dist', 'index.html')).mtimeMs;
  } catch {
    return 0;
  }
}

/** True when a build ran and succeeded or none was needed; false when the build failed. */
export function buildConsole({ force = false } = {}): boolean {
  const sources = Math.max(
    ...['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((p) => newest(join(consoleDir, p))),
  );
  if (!force && builtAt() > sources) return true;
  console.log('building the web console (packages/console)…');
  const result = spawnSync(
    process.execPath,
    [join(consoleDir, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'],
    {
      cwd: consoleDir,
      stdio: 'inherit',
    },
  );
  return result.status === 0;
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) process.exit(buildConsole({ force: true }) ? 0 : 1);
