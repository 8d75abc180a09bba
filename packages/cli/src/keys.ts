import { randomBytes } from 'node:crypto';
import { NoteSigner } from '@passage/audit-log';
import { TokenIssuer } from '@passage/auth';
import { newKekSetting } from '@passage/crypto';

/**
 * Every key a Passage deployment needs, fresh, as the settings take them (docs/operations.md,
 * "Keys"), grouped by the process that reads them. The one generator of keys: `passage keys new`
 * and the Kubernetes dev overlay's Secrets (scripts/k8s-dev-secrets.ts) both use it.
 *
 * - SERVICE_TOKEN_KEY (gateway, escalation): "<key id>:<base64 32-byte Ed25519 seed>", signs caller tokens;
 * - AUTH_PUBLIC_KEYS (every service that verifies them): both issuers' "<key id>:<base64 public key>", comma-separated;
 * - RECEIPT_SIGNING_KEY (consent): "<key id>:<base64 32-byte Ed25519 seed>", signs consent receipts (JWS);
 * - PASSAGE_KEK (consent, referrals, one each): "<key id>:<base64 of 32 random bytes>", wraps the data keys;
 * - AUDIT_SIGNING_KEY (audit): base64 of a 32-byte Ed25519 seed, signs checkpoints as AUDIT_ORIGIN;
 * - AUDIT_VERIFIER_KEY (the command line, auditors): its public half, "<origin>+<id>+<key>" — not a secret.
 */
/** A NATS user's password that nats-server can read from its environment (see @passage/events). */
export { newNatsPassword } from '@passage/events';

export interface DeploymentKeys {
  readonly directory: { readonly AUTH_PUBLIC_KEYS: string };
  readonly consent: {
    readonly AUTH_PUBLIC_KEYS: string;
    readonly PASSAGE_KEK: string;
    readonly RECEIPT_SIGNING_KEY: string;
  };
  readonly referrals: { readonly AUTH_PUBLIC_KEYS: string; readonly PASSAGE_KEK: string };
  readonly audit: { readonly AUTH_PUBLIC_KEYS: string; readonly AUDIT_SIGNING_KEY: string };
  readonly escalation: { readonly AUTH_PUBLIC_KEYS: string; readonly SERVICE_TOKEN_KEY: string };
  readonly gateway: { readonly SERVICE_TOKEN_KEY: string };
  /** Public: for `passage audit verify` and anyone checking the log. */
  readonly cli: { readonly AUDIT_VERIFIER_KEY: string };
}

/** The settings that hold a private key or secret (AUTH_PUBLIC_KEYS and AUDIT_VERIFIER_KEY do not). */
export const secretKeySettings = [
  'SERVICE_TOKEN_KEY',
  'RECEIPT_SIGNING_KEY',
  'PASSAGE_KEK',
  'AUDIT_SIGNING_KEY',
] as const;

/**
 * `label` goes into every key id (a date by default), so that a rotated key is told apart from
 * the one before it in AUTH_PUBLIC_KEYS, PASSAGE_KEK and receipts; `origin`: AUDIT_ORIGIN.
 */
export function newDeploymentKeys(options: { readonly label?: string; readonly origin?: string } = {}): DeploymentKeys {
  const label = options.label ?? `${new Date().toISOString().slice(0, 10)}-${randomBytes(2).toString('hex')}`;
  const seedSetting = (kid: string, seed: Buffer) => `${kid}:${seed.toString('base64')}`;
  const gatewaySeed = randomBytes(32);
  const escalationSeed = randomBytes(32);
  const gateway = new TokenIssuer(`gateway-${label}`, gatewaySeed);
  const escalation = new TokenIssuer(`escalation-${label}`, escalationSeed);
  const authPublicKeys = `${gateway.publicKeySetting},${escalation.publicKeySetting}`;
  const auditSeed = randomBytes(32);
  const verifierKey = new NoteSigner(options.origin ?? 'passage.ontario/audit', auditSeed).verifierKey;
  return {
    directory: { AUTH_PUBLIC_KEYS: authPublicKeys },
    consent: {
      AUTH_PUBLIC_KEYS: authPublicKeys,
      PASSAGE_KEK: newKekSetting(`kek-consent-${label}`),
      RECEIPT_SIGNING_KEY: seedSetting(`receipts-${label}`, randomBytes(32)),
    },
    referrals: { AUTH_PUBLIC_KEYS: authPublicKeys, PASSAGE_KEK: newKekSetting(`kek-referrals-${label}`) },
    audit: { AUTH_PUBLIC_KEYS: authPublicKeys, AUDIT_SIGNING_KEY: auditSeed.toString('base64') },
    escalation: {
      AUTH_PUBLIC_KEYS: authPublicKeys,
      SERVICE_TOKEN_KEY: seedSetting(`escalation-${label}`, escalationSeed),
    },
    gateway: { SERVICE_TOKEN_KEY: seedSetting(`gateway-${label}`, gatewaySeed) },
    cli: { AUDIT_VERIFIER_KEY: verifierKey },
  };
}
