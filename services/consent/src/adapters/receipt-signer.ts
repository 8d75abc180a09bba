import { privateKeyFromSeed, rawPublicKey, signJws } from '@passage/crypto';
import type { ReceiptSigner } from '../app/ports.ts';

/** Signs receipts with Ed25519 ("kid:base64 seed" from RECEIPT_SIGNING_KEY). */
export function receiptSigner(setting: string): ReceiptSigner {
  const separator = setting.indexOf(':');
  const keyId = setting.slice(0, separator);
  const seed = Buffer.from(setting.slice(separator + 1), 'base64');
  if (separator < 1 || seed.length !== 32) {
    throw new Error('RECEIPT_SIGNING_KEY is "<key id>:<base64 of a 32-byte Ed25519 seed>"');
  }
  const key = privateKeyFromSeed(seed);
  return {
    keyId,
    publicKey: rawPublicKey(key).toString('base64'),
    sign: (payload) => signJws(payload, key, keyId, 'consent-receipt+jws'),
  };
}

/** Development only: a fixed key so receipts verify across restarts on a developer machine. */
export const developmentReceiptKey = `dev-receipts:${Buffer.alloc(32, 0x33).toString('base64')}`;
