export * from './roles.ts';
export * from './tokens.ts';
export * from './authenticate.ts';
export * from './demo-users.ts';
