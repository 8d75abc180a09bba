/**
 * A referral's short reference, the one people read out on the phone and type into search:
 * "R-7K3M-Q9". Six symbols of Crockford's base 32 (no I, L, O or U; when read back, I and L
 * count as 1 and O as 0), so 2^30 references. Each referral gets the next number of a
 * sequence at sending; the number goes through a fixed bijection of [0, 2^30) before it is
 * written, so consecutive referrals do not get neighbouring references, and two referrals
 * never share one (ADR 38). Pure: no clock, no randomness.
 *
 * Here, with the receipt reference below, so that every part of the network that shows or
 * finds a reference (referrals, consent receipts, notifications, the audit log's access
 * search, the console) writes and reads it by the same rule.
 */
const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const bits = 30;
const mask = 2 ** bits - 1;
/** How many references there are: numbers 1 … capacity - 1 have one. */
export const referenceCapacity = 2 ** bits;

const m1 = 0x2545f491 & mask; // odd
const m2 = 0x1b873593 & mask; // odd

/** The inverse of an odd number modulo 2^30 (Newton's iteration). */
function inverse(odd: number): number {
  let x = odd;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(odd, x)) & mask;
  return x & mask;
}
const i1 = inverse(m1);
const i2 = inverse(m2);

/** x ^ (x >>> s) over 30 bits is its own inverse when s ≥ 15. */
const fold = (x: number, s: number): number => (x ^ (x >>> s)) & mask;

export function scramble(n: number): number {
  let x = n & mask;
  x = fold(x, 16);
  x = Math.imul(x, m1) & mask;
  x = fold(x, 15);
  x = Math.imul(x, m2) & mask;
  return fold(x, 16);
}

export function unscramble(n: number): number {
  let x = n & mask;
  x = fold(x, 16);
  x = Math.imul(x, i2) & mask;
  x = fold(x, 15);
  x = Math.imul(x, i1) & mask;
  return fold(x, 16);
}

/** The reference of the referral numbered `n` (1 … 2^30 - 1). */
export function formatReference(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n >= referenceCapacity) throw new RangeError(`no reference for ${n}`);
  let x = scramble(n);
  let symbols = '';
  for (let i = 0; i < 6; i++) {
    symbols = alphabet[x & 31]! + symbols;
    x >>>= 5;
  }
  return `R-${symbols.slice(0, 4)}-${symbols.slice(4)}`;
}

/**
 * The number behind a reference as someone typed it ("r-7k3m-q9", "R 7K3M Q9", "7K3MQ9",
 * an O for a 0); undefined when it cannot be one.
 */
export function parseReference(text: string): number | undefined {
  const typed = text.trim().toUpperCase();
  // "R-" or "R " before the symbols is the prefix; without a separator, R is one only as a 7th symbol.
  const prefixed = /^R[\s\-–—]/.test(typed);
  let symbols = (prefixed ? typed.slice(2) : typed).replace(/[\s\-–—]/g, '');
  if (!prefixed && symbols.length === 7 && symbols.startsWith('R')) symbols = symbols.slice(1);
  if (symbols.length !== 6) return undefined;
  let x = 0;
  for (const raw of symbols) {
    const symbol = raw === 'O' ? '0' : raw === 'I' || raw === 'L' ? '1' : raw;
    const value = alphabet.indexOf(symbol);
    if (value < 0) return undefined;
    x = x * 32 + value;
  }
  const n = unscramble(x);
  return n === 0 ? undefined : n;
}

/**
 * The reference printed on a consent receipt: the last eight hexadecimal digits of the
 * consent's id, in capitals. One rule, so that a person's receipt finds the referrals sent
 * under it and their access log.
 */
export function receiptReference(consentId: string): string {
  return consentId.replace(/-/g, '').slice(-8).toUpperCase();
}

/** A receipt reference as typed: eight hexadecimal digits, any case, spaces and dashes ignored. */
export function parseReceiptReference(text: string): string | undefined {
  const symbols = text.toUpperCase().replace(/[\s-]/g, '');
  return /^[0-9A-F]{8}$/.test(symbols) ? symbols : undefined;
}
