import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The UI is built into dist/ and served by the Herald server at `/`
 * (src/api/static-ui.ts). `npm run dev -w packages/web` serves it with hot
 * reload and proxies the API to a Herald on port 8080.
 */
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline scripts or data: URLs for scripts: the server's CSP allows 'self' only.
    assetsInlineLimit: 0,
    // One bundle (React + recharts + the app, ~200 KB gzipped) is simpler to serve than a split one.
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: { '/v1': 'http://127.0.0.1:8080', '/healthz': 'http://127.0.0.1:8080' },
  },
});
