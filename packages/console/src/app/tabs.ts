/**
 * The console's other open tabs in this browser (ADR 35): a sign-out (or a quick exit) in one
 * tab locks them all at once, so no tab left open behind keeps showing the inbox. The server
 * refuses the ended session too; this only spares the other tabs the wait for their next call.
 * BroadcastChannel where there is one, else the storage event of a localStorage key.
 */
const channelName = 'passage.session';
const storageKey = 'passage.signed-out';

type Message = 'signed-out';

const channel = typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel(channelName);

/** Tells every other tab of the console in this browser that the session ended. */
export function tellOtherTabs(message: Message): void {
  if (channel) channel.postMessage(message);
  else localStorage.setItem(storageKey, String(Date.now()));
}

/** Calls `handler` when another tab says the session ended; returns how to stop listening. */
export function onOtherTabs(handler: (message: Message) => void): () => void {
  const fromChannel = (event: MessageEvent) => {
    if (event.data === 'signed-out') handler('signed-out');
  };
  const fromStorage = (event: StorageEvent) => {
    if (event.key === storageKey) handler('signed-out');
  };
  channel?.addEventListener('message', fromChannel);
  window.addEventListener('storage', fromStorage);
  return () => {
    channel?.removeEventListener('message', fromChannel);
    window.removeEventListener('storage', fromStorage);
  };
}
