import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startPrivateNats, startPrivatePostgres, type PrivateServer } from '../src/index.ts';

const started: PrivateServer[] = [];
afterAll(async () => {
  for (const server of started) await server.dispose();
});

describe('private servers for fault tests', () => {
  it('starts a nats-server with JetStream that keeps its streams across kill -9 and restart', async () => {
    const nats = await startPrivateNats();
    started.push(nats);
    let nc = await connect({ servers: nats.url });
    await (await jetstreamManager(nc)).streams.add({ name: 'KEEP', subjects: ['keep.>'] });
    await nc.close();

    await nats.kill();
    await expect(connect({ servers: nats.url, maxReconnectAttempts: 0, timeout: 500 })).rejects.toMatchObject({
      cause: { code: 'ECONNREFUSED' },
    });
    await nats.restart();
    nc = await connect({ servers: nats.url });
    expect((await (await jetstreamManager(nc)).streams.info('KEEP')).config.name).toBe('KEEP');
    await nc.close();
  });

  it('starts a PostgreSQL cluster of its own that keeps its data across a crash and restart', async () => {
    const postgres = await startPrivatePostgres();
    started.push(postgres);
    const query = async (sql: string) => {
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      try {
        return await client.query(sql);
      } finally {
        await client.end();
      }
    };
    await query('create table kept (n int); insert into kept values (42)');
    await postgres.kill();
    await expect(query('select 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await postgres.restart();
    expect((await query('select n from kept')).rows).toEqual([{ n: 42 }]);
  });
});
