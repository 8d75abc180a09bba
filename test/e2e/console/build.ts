import { buildConsole } from '../../../scripts/console-build.ts';

// The `browser` project's global set-up (vitest.config.ts): the console the gateway serves is
// built once, before any browser test file opens it, when its sources are newer than the last
// build (pnpm test and test:console have built it already: then nothing happens).
export default function buildTheConsole(): void {
  if (!buildConsole()) throw new Error('the web console did not build (see above)');
}
