import { ConfigError } from '@passage/platform';
import { NoteSigner } from './checkpoint.ts';

/** The development signing key: fixed, so demo checkpoints verify across restarts; never in production. */
export const developmentAuditSeed = Buffer.alloc(32, 0x61);

export interface SigningKeySettings {
  readonly AUDIT_SIGNING_KEY?: string | undefined;
  readonly AUDIT_ORIGIN: string;
  readonly PASSAGE_ENV?: string | undefined;
}

/** AUDIT_SIGNING_KEY (base64 of a 32-byte Ed25519 seed); the development key only in development. */
export function checkpointSigner(settings: SigningKeySettings): NoteSigner {
  if (settings.AUDIT_SIGNING_KEY) {
    const seed = Buffer.from(settings.AUDIT_SIGNING_KEY, 'base64');
    if (seed.length !== 32) throw new ConfigError(['AUDIT_SIGNING_KEY: base64 of a 32-byte Ed25519 seed']);
    if (settings.PASSAGE_ENV !== 'development' && seed.equals(developmentAuditSeed))
      throw new ConfigError(['AUDIT_SIGNING_KEY is the published development key: outside development use your own']);
    return new NoteSigner(settings.AUDIT_ORIGIN, seed);
  }
  if (settings.PASSAGE_ENV === 'development') return new NoteSigner(settings.AUDIT_ORIGIN, developmentAuditSeed);
  throw new ConfigError(['AUDIT_SIGNING_KEY is required outside development (base64 of a 32-byte Ed25519 seed)']);
}
