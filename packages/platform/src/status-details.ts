import * as grpc from '@grpc/grpc-js';
import { rpcErrorDetails, rpcStatus } from '@passage/contracts';
import type { FieldViolation } from './errors.ts';

/**
 * Field violations travel as the standard gRPC error model: a google.rpc.Status with a
 * google.rpc.BadRequest detail, in the binary `grpc-status-details-bin` trailer. Binary
 * metadata holds any Unicode; a text header holds printable ASCII only, and grpc-js throws
 * (ending the process) when a handler's error puts anything else in one.
 */
export const statusDetailsKey = 'grpc-status-details-bin';
const badRequestType = 'type.googleapis.com/google.rpc.BadRequest';
const errorInfoType = 'type.googleapis.com/google.rpc.ErrorInfo';
/** A reason code: what a client matches on (`consent_does_not_cover`); anything else is dropped. */
const reasonCode = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Trailers are bounded (grpc-js clients refuse more than 8 KiB of metadata by default). */
const maxViolations = 20;
const maxFieldChars = 200;
const maxDescriptionChars = 300;
const maxMessageChars = 1_000;

/**
 * Text safe to send as a status message or detail: well-formed UTF-16 (a lone surrogate
 * makes grpc-js's encodeURI throw), no control characters, and bounded in length.
 */
export function safeText(text: string, maxChars: number): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  const clean = text.toWellFormed().replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  if (clean.length <= maxChars) return clean;
  // Never cut a surrogate pair in two.
  return `${clean
    .slice(0, maxChars - 1)
    .toWellFormed()
    .replace(/[\ud800-\udbff]$/, '')}…`;
}

/** The status message of a failed call, safe for the `grpc-message` trailer. */
export function safeStatusMessage(message: string): string {
  return safeText(message, maxMessageChars);
}

/**
 * The google.rpc.Status of a failed call: its field violations (google.rpc.BadRequest) and,
 * when it has one, its reason code (google.rpc.ErrorInfo, domain "passage").
 */
export function encodeStatusDetails(
  code: number,
  message: string,
  violations: readonly FieldViolation[],
  reason = '',
): Buffer {
  const info = reasonCode.test(reason)
    ? [
        {
          typeUrl: errorInfoType,
          value: Buffer.from(rpcErrorDetails.ErrorInfo.encode({ reason, domain: 'passage', metadata: {} }).finish()),
        },
      ]
    : [];
  const badRequest = rpcErrorDetails.BadRequest.encode({
    fieldViolations: violations.slice(0, maxViolations).map((violation) => ({
      field: safeText(violation.field, maxFieldChars),
      description: safeText(violation.description, maxDescriptionChars),
    })),
  }).finish();
  return Buffer.from(
    rpcStatus.Status.encode({
      code,
      message: safeStatusMessage(message),
      details: [
        ...(violations.length > 0 ? [{ typeUrl: badRequestType, value: Buffer.from(badRequest) }] : []),
        ...info,
      ],
    }).finish(),
  );
}

/** The field violations a failed call carried, or none when it carried no (readable) details. */
export function decodeViolations(metadata: grpc.Metadata | undefined): FieldViolation[] {
  const [raw] = metadata?.get(statusDetailsKey) ?? [];
  if (!Buffer.isBuffer(raw)) return [];
  try {
    const status = rpcStatus.Status.decode(raw);
    return status.details
      .filter((detail) => detail.typeUrl === badRequestType)
      .flatMap((detail) => rpcErrorDetails.BadRequest.decode(detail.value).fieldViolations)
      .map(({ field, description }) => ({ field, description }));
  } catch {
    // Details from a peer that are not a google.rpc.Status: the status code and message still stand.
    return [];
  }
}

/** The reason code a failed call carried (google.rpc.ErrorInfo), or empty. */
export function decodeReason(metadata: grpc.Metadata | undefined): string {
  const [raw] = metadata?.get(statusDetailsKey) ?? [];
  if (!Buffer.isBuffer(raw)) return '';
  try {
    const detail = rpcStatus.Status.decode(raw).details.find((d) => d.typeUrl === errorInfoType);
    const reason = detail ? rpcErrorDetails.ErrorInfo.decode(detail.value).reason : '';
    return reasonCode.test(reason) ? reason : '';
  } catch {
    return '';
  }
}
