import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { VitePWA } from 'vite-plugin-pwa';

// The app shell is precached by a Workbox service worker; data lives in IndexedDB
// (src/offline), never in the SW's caches, so an app update never touches it.
export default defineConfig({
  plugins: [
    preact(),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false,
      workbox: {
        globPatterns: ['**/*.{js,css,html,png,svg,webmanifest}'],
        navigateFallback: '/index.html',
        // The server's own routes (GraphQL, health, status page, binders, SMS webhooks and
        // the identity provider's sign-in) must never be answered from the shell cache.
        navigateFallbackDenylist: [/^\/graphql/, /^\/healthz/, /^\/status/, /^\/print\//, /^\/sms\//, /^\/auth\//],
        cleanupOutdatedCaches: true,
        // Web push: notifications and their Kvittera action (public/push-sw.js).
        importScripts: ['/push-sw.js'],
        // Take over the page that installed it, so the very first visit already works
        // offline after a reload.
        clientsClaim: true,
        skipWaiting: true,
      },
      manifest: {
        name: 'Reserv',
        short_name: 'Reserv',
        description: 'Reservrutiner, incidenter och kontakter – även utan nät',
        lang: 'sv',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#0b3d5c',
        theme_color: '#0b3d5c',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
    }),
  ],
});
