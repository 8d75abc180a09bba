import { describe, expect, it } from 'vitest';
import { scimFailure } from './scim.ts';

describe('SCIM failure log', () => {
  it('names the route, the method and the error’s kind, never its message or the request’s path', () => {
    // As Postgres would answer a value it refuses: the message quotes the value.
    const error = Object.assign(new Error('invalid input: "Synthetic Person <synthetic@example.test>"'), {
      code: '22021',
      detail: 'Key (email)=(synthetic@example.test)',
    });
    const logged = scimFailure(error, 'PUT', '/scim/v2/Users/:id');
    expect(logged).toEqual({ method: 'PUT', route: '/scim/v2/Users/:id', error: { name: 'Error', code: '22021' } });
    expect(JSON.stringify(logged)).not.toContain('example.test');
    expect(scimFailure('thrown text', 'GET', undefined)).toEqual({
      method: 'GET',
      route: 'unmatched',
      error: { name: 'string', code: '' },
    });
  });
});
