export * from './vocabulary.ts';
export * from './evaluate.ts';
