// `node scripts/image-size.ts [image]`: how big the production image is. Prints the image's
// size when Podman or Docker knows the image (default passage:0.1.0), and always the size of
// what deploy/Containerfile copies into it, measured by building that file tree here
// (scripts/production-tree.sh on a clean copy of HEAD) plus the Node binary.
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildConsole } from './console-build.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const image = process.argv[2] ?? 'passage:0.1.0';
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** Bytes of the files under `path`, each file once however many hard links it has (as du counts). */
function treeBytes(path: string, seen = new Set<string>()): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) {
      const inner = treeBytes(full, seen);
      bytes += inner.bytes;
      files += inner.files;
    } else if (entry.isFile()) {
      const stat = lstatSync(full);
      const inode = `${stat.dev}:${stat.ino}`;
      if (seen.has(inode)) continue;
      seen.add(inode);
      bytes += stat.size;
      files++;
    }
  }
  return { bytes, files };
}

for (const engine of ['podman', 'docker']) {
  const inspect = spawnSync(engine, ['image', 'inspect', '--format', '{{.Size}}', image], { encoding: 'utf8' });
  if (inspect.error || inspect.status !== 0) continue;
  console.log(`image ${image} (${engine}): ${mb(Number(inspect.stdout.trim()))}`);
  break;
}

if (!buildConsole()) {
  console.error('the web console did not build (see above)');
  process.exit(1);
}
const tree = mkdtempSync(join(tmpdir(), 'passage-image-tree-'));
try {
  execFileSync('sh', ['-c', `git archive HEAD | tar -x -C '${tree}'`], { cwd: root, stdio: 'inherit' });
  execFileSync('sh', [join(root, 'scripts/production-tree.sh'), tree, join(root, 'packages/console/dist')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const app = treeBytes(tree);
  const modules = treeBytes(join(tree, 'node_modules'));
  const nodeBinary = lstatSync(realpathSync(join(root, 'node_modules/node/bin/node'))).size;
  console.log(
    `production tree (/app): ${mb(app.bytes)} in ${app.files} files, of which node_modules ${mb(modules.bytes)}`,
  );
  console.log(`Node ${process.version} binary: ${mb(nodeBinary)}`);
  console.log(`added to the base image: ${mb(app.bytes + nodeBinary)}`);
} finally {
  rmSync(tree, { recursive: true, force: true });
}
