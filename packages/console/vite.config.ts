import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is static files the gateway serves at /; in `vite` dev mode the API is proxied
// to a gateway on GATEWAY_URL (pnpm start's default port).
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022' },
  server: {
    proxy: { '/api': process.env['GATEWAY_URL'] ?? 'http://127.0.0.1:8080' },
  },
});
