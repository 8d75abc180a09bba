export * from './timer-plan.ts';
