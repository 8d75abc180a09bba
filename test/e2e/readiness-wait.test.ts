import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { waitUntilReady } from '../../scripts/readiness-wait.ts';

const servers: Server[] = [];
afterAll(() => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))));

/** A /readyz answering `status()`. */
async function probe(status: () => number): Promise<string> {
  const server = createServer((_, response) => response.writeHead(status()).end());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
}

it('waits until every service answers 200, and names the ones still not up while it waits and at the deadline', async () => {
  let asked = 0;
  const ready = await probe(() => 200);
  const late = await probe(() => (++asked >= 3 ? 200 : 503));
  const never = await probe(() => 503);
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  expect(
    await waitUntilReady(
      [
        { name: 'directory', url: ready },
        { name: 'consent', url: late },
      ],
      { deadlineMs: 60_000, reportEveryMs: 60_000, intervalMs: 10, log },
    ),
  ).toEqual([]);
  expect(asked).toBe(3);

  const notUp = await waitUntilReady(
    [
      { name: 'directory', url: ready },
      { name: 'audit', url: never },
    ],
    { deadlineMs: 300, reportEveryMs: 50, intervalMs: 20, log },
  );
  expect(notUp).toEqual(['audit']);
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line).toMatch(/^still starting after \d+ s: audit$/);
});
