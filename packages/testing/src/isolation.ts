import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { sharedServers } from './servers.ts';

/** A database of its own for one test file, dropped by `drop()`. */
export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const { adminDatabaseUrl } = await sharedServers();
  const name = `t_${label
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  await adminQuery(adminDatabaseUrl, `create database "${name}"`);
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => adminQuery(adminDatabaseUrl, `drop database if exists "${name}" with (force)`),
  };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** NATS for one test file: the shared server, with stream and subject names of its own. */
export interface TestNats {
  readonly url: string;
  readonly namespace: string;
  /** Deletes the streams this namespace created. */
  cleanup(): Promise<void>;
}

export async function createTestNats(label = 'test'): Promise<TestNats> {
  const { natsUrl } = await sharedServers();
  const namespace = `t${label
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(0, 20)}${randomBytes(4).toString('hex')}`;
  return {
    url: natsUrl,
    namespace,
    async cleanup() {
      const nc = await connect({ servers: natsUrl });
      try {
        const jsm = await jetstreamManager(nc);
        const prefix = `${namespace.toUpperCase()}_`;
        for await (const stream of jsm.streams.list()) {
          if (stream.config.name.startsWith(prefix)) await jsm.streams.delete(stream.config.name);
        }
      } finally {
        await nc.close();
      }
    },
  };
}
