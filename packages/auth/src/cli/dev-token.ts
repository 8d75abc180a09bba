// dev-token: a caller token for a seeded demo user, signed with the development key.
//   pnpm dev-token london-intake
import { demoUsers } from '../demo-users.ts';
import { developmentIssuer } from '../tokens.ts';

const name = process.argv[2] ?? '';
const user = demoUsers[name];
if (!user) {
  console.error(`usage: dev-token <user>; one of ${Object.keys(demoUsers).join(', ')}`);
  process.exit(2);
}
console.log(developmentIssuer().issue(user, Number(process.env['TOKEN_TTL_SECONDS'] ?? 8 * 3600)));
