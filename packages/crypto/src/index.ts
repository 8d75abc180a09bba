export * from './keyring.ts';
export { seal, open } from './aead.ts';
export * from './subject-crypto.ts';
export * from './sql-key-store.ts';
export * from './key-store.ts';
export { rotateKek } from './rotate.ts';
export * from './jws.ts';
