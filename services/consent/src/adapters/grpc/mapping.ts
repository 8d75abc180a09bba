import { consent as pb } from '@passage/contracts';
import {
  receiptVersion,
  type Actor,
  type CaptureMethod,
  type Change,
  type ConsentRecord,
} from '../../domain/consent.ts';
import type { RawGrant } from '../../domain/validate-grant.ts';
import type { EvaluationResult, IssuedReceipt } from '../../app/consent-use-cases.ts';

const methodToWire: Record<CaptureMethod, pb.CaptureMethod> = {
  verbal: pb.CaptureMethod.CAPTURE_METHOD_VERBAL,
  written: pb.CaptureMethod.CAPTURE_METHOD_WRITTEN,
  electronic: pb.CaptureMethod.CAPTURE_METHOD_ELECTRONIC,
  via_interpreter: pb.CaptureMethod.CAPTURE_METHOD_VIA_INTERPRETER,
};

export function methodFromWire(method: pb.CaptureMethod): string {
  const entry = Object.entries(methodToWire).find(([, wire]) => wire === method);
  return entry?.[0] ?? '';
}

export function grantFromWire(request: pb.GrantRequest): RawGrant {
  return {
    subjectRef: request.subjectRef,
    method: methodFromWire(request.method),
    interpreterLanguage: request.interpreterLanguage,
    language: request.language,
    expiresAt: request.expiresAt,
    scopes: request.scopes,
    receiptName: request.receiptName,
    notes: request.notes,
  };
}

const actorToWire = (actor: Actor): pb.Actor => ({ agencyId: actor.agencyId, userId: actor.userId, role: actor.role });

export function consentToWire(record: ConsentRecord, notes = ''): pb.ConsentRecord {
  return {
    id: record.id,
    subjectRef: record.subjectRef,
    capturedBy: actorToWire(record.capturedBy),
    method: methodToWire[record.method],
    interpreterLanguage: record.interpreterLanguage,
    language: record.language,
    grantedAt: record.grantedAt,
    expiresAt: record.expiresAt,
    revokedAt: record.revokedAt,
    scopes: record.scopes.map((s) => ({
      id: s.id,
      recipientAgencyIds: [...s.recipientAgencyIds],
      recipientKinds: [...s.recipientKinds],
      purposes: [...s.purposes],
      categories: [...s.categories],
      doNotContact: s.doNotContact,
      revokedAt: s.revokedAt,
      proposedAt: s.proposedAt,
      proposedBy: s.proposedBy && actorToWire(s.proposedBy),
      confirmedAt: s.confirmedAt,
      confirmedBy: s.confirmedBy && actorToWire(s.confirmedBy),
      addedAt: s.addedAt,
      addedBy: s.addedBy && actorToWire(s.addedBy),
      addedInVersion: s.addedInVersion,
      addedMethod: s.addedMethod && methodToWire[s.addedMethod],
    })),
    notes,
    receiptVersion: receiptVersion(record),
  };
}

export function changeToWire(change: Change): pb.HistoryEntry {
  return {
    change: change.change,
    consentId: change.consentId,
    scopeIds: [...change.scopeIds],
    actor: actorToWire(change.actor),
    at: change.at,
    reason: change.reason,
  };
}

export function receiptToWire(receipt: IssuedReceipt): pb.ReceiptResponse {
  return {
    language: receipt.language,
    text: receipt.text,
    receiptJson: JSON.stringify(receipt.json),
    receiptJws: receipt.jws,
    signingKeyId: receipt.signingKeyId,
    signingPublicKey: receipt.signingPublicKey,
    version: receipt.version,
    latestVersion: receipt.latestVersion,
  };
}

export function evaluationToWire(result: EvaluationResult): pb.EvaluateResponse {
  return {
    allowed: [...result.allowed].map(([category, grants]) => ({
      category,
      consentIds: [...new Set(grants.map((g) => g.consentId))],
      scopeIds: grants.map((g) => g.scopeId),
      grants: grants.map((g) => ({ consentId: g.consentId, scopeId: g.scopeId })),
    })),
    doNotContact: result.doNotContact,
    recipientKind: result.recipientKind,
    evaluatedAt: result.evaluatedAt,
  };
}
