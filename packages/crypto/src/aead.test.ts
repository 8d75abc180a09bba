import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { open, seal } from './aead.ts';
import { KekConfigError, keyRingFromEnv, newKekSetting, parseKeyRing } from './keyring.ts';

describe('AES-256-GCM sealing', () => {
  const key = randomBytes(32);

  it('round-trips, with a fresh nonce each time', () => {
    const a = seal(key, Buffer.from('synthetic'), 'subject:1|field:identity');
    const b = seal(key, Buffer.from('synthetic'), 'subject:1|field:identity');
    expect(a.equals(b)).toBe(false);
    expect(open(key, a, 'subject:1|field:identity').toString()).toBe('synthetic');
  });

  it('refuses a ciphertext moved to another subject or field, or changed in any byte', () => {
    const sealed = seal(key, Buffer.from('synthetic'), 'subject:1|field:identity');
    expect(() => open(key, sealed, 'subject:2|field:identity')).toThrow();
    expect(() => open(key, sealed, 'subject:1|field:contact')).toThrow();
    for (let i = 1; i < sealed.length; i++) {
      const tampered = Buffer.from(sealed);
      tampered[i] = tampered[i]! ^ 0x01;
      expect(() => open(key, tampered, 'subject:1|field:identity')).toThrow();
    }
    expect(() => open(randomBytes(32), sealed, 'subject:1|field:identity')).toThrow();
  });
});

describe('PASSAGE_KEK', () => {
  it('parses the current key first and older keys after it', () => {
    const ring = parseKeyRing(`${newKekSetting('k2')},${newKekSetting('k1')}`);
    expect(ring.current.id).toBe('k2');
    expect(ring.get('k1').key).toHaveLength(32);
    expect(() => ring.get('k0')).toThrow(/unknown KEK "k0"/);
  });

  it('says what is wrong with a bad setting', () => {
    expect(() => parseKeyRing('k1:c2hvcnQ=')).toThrow(/32 bytes/);
    expect(() => parseKeyRing('nocolon')).toThrow(/expected "<key id>:<base64 key>"/);
    expect(() => parseKeyRing(`${newKekSetting('k1')},${newKekSetting('k1')}`)).toThrow(/repeats/);
  });

  it('refuses to run without a KEK outside development', () => {
    expect(() => keyRingFromEnv({})).toThrow(KekConfigError);
    expect(() => keyRingFromEnv({ PASSAGE_ENV: 'production' })).toThrow(/PASSAGE_KEK is required outside development/);
    expect(keyRingFromEnv({ PASSAGE_ENV: 'development' }).current.id).toBe('dev-insecure');
  });
});
