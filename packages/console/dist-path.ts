import { fileURLToPath } from 'node:url';

/** Where `vite build` writes the console; the gateway serves this folder. */
export const consoleDist: string = fileURLToPath(new URL('./dist', import.meta.url));
