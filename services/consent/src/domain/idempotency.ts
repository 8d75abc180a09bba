import type { Violation } from './validate-grant.ts';

const idempotencyKey = /^[A-Za-z0-9_.:-]{8,128}$/;

/** What an erasure leaves in place of a request hash (a hash over a grant covers the name). */
export const erasedRequestHash = 'erased';

/** Every consent command carries one: the same for a retry, new for a new request. */
export function checkIdempotencyKey(key: string): Violation[] {
  return idempotencyKey.test(key)
    ? []
    : [{ field: 'idempotency_key', description: '8 to 128 letters, digits, or _ . : - (a UUID is ideal)' }];
}
