import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The viewer is served by `trailkeep serve` under a CSP without 'unsafe-inline': everything the
 * page needs is an external file (module script, stylesheet), never an inline tag or attribute.
 * For development, `npx vite --config web/vite.config.ts` proxies /api to a running server
 * (TRAILKEEP_API, default http://127.0.0.1:8080).
 */
export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Keep the stylesheet a file even when small: the CSP forbids inline styles.
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    // Not published: a source map hands anyone the viewer's source with its comments. The
    // server also refuses *.map paths should a development build end up in web/dist.
    sourcemap: false,
  },
  server: {
    proxy: { '/api': process.env.TRAILKEEP_API ?? 'http://127.0.0.1:8080' },
  },
});
