// The console's words, for the browser tests that check a French screen holds no English.
export { messages, type MessageKey } from './messages.ts';
export { labels } from './labels.ts';
