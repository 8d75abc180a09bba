/** Sign when N entries have arrived since the last checkpoint, or T seconds have passed with any. */
export interface CheckpointPolicy {
  readonly everyEntries: number;
  readonly everyMs: number;
}

export function checkpointDue(
  policy: CheckpointPolicy,
  state: { readonly size: number; readonly lastSize: number; readonly lastAtMs: number; readonly nowMs: number },
): boolean {
  if (state.size <= state.lastSize) return false;
  return state.size - state.lastSize >= policy.everyEntries || state.nowMs - state.lastAtMs >= policy.everyMs;
}
