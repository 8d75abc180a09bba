import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('logger', () => {
  it('redacts personal-data fields wherever they appear, keeping ids', () => {
    const { lines, stream } = capture();
    const log = createLogger('test', 'info', stream);
    log.info(
      {
        referralId: 'r-1',
        name: 'Synthetic Person',
        contact: { phone: '+1-555-0199', email: 'someone@example.org' },
        packet: { identity: { name: 'Synthetic Person' } },
        request: { subject: { address: '1 Example Street' } },
      },
      'referral sent',
    );
    const line = lines.join('');
    expect(line).toContain('"referralId":"r-1"');
    expect(line).not.toMatch(/Synthetic Person|555-0199|someone@example|Example Street/);
    expect(JSON.parse(line)).toMatchObject({ service: 'test', msg: 'referral sent' });
  });
});
