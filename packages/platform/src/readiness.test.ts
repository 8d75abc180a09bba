import { describe, expect, it } from 'vitest';
import { Readiness } from './readiness.ts';

describe('readiness', () => {
  it('serves only while every condition holds, and tells the server each change', () => {
    const readiness = new Readiness();
    const told: boolean[] = [];
    readiness.set('feed', true);
    readiness.follow({ setServing: (serving) => told.push(serving) });
    readiness.set('log whole', true);
    readiness.set('feed', false);
    expect(readiness.ready).toBe(false);
    expect(readiness.failing()).toEqual(['feed']);
    readiness.set('log whole', false);
    readiness.set('feed', true);
    expect(readiness.failing()).toEqual(['log whole']);
    readiness.set('log whole', true);
    expect(told).toEqual([true, true, false, false, false, true]);
    expect(readiness.ready).toBe(true);
  });

  it('is ready with no condition at all', () => {
    expect(new Readiness().ready).toBe(true);
  });
});
