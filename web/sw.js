/*
 * The app's service worker: opens the app without waiting on the network.
 *
 * Why: a reload otherwise waits one round trip for the page's `304` before anything else can
 * start, 150 ms on a phone. The page carries the whole app (src/web/assets.rs); this worker
 * keeps it in a cache of its own and answers the app's addresses (`/`, `/room/…`, `/invite/…`,
 * `/admin`) from it. Nothing else goes through it: the API, the gateway, uploaded files and
 * every other path reach the server as before.
 *
 * Updates: the server writes the page's version into this script as it serves it, so a new
 * build is a new worker. The browser checks this script on every visit; a new one caches the
 * new page, takes over the open pages and drops the old cache. A page opened from the old
 * cache sees the change and offers a reload (app-cache.js). A server that could not bundle the
 * app serves this script as it is written here (`dev`): it caches nothing and removes itself.
 */
const VERSION = 'dev';

const CACHE = `parlor-app-${VERSION}`;
const PAGE = '/';

/** The app's own addresses (router.js), all answered with the same page. */
function isAppAddress(pathname) {
  return pathname === '/' || pathname === '/admin' || /^\/(room|invite)\/[^/]+$/.test(pathname);
}

self.addEventListener('install', (event) => {
  if (VERSION === 'dev') {
    event.waitUntil(self.skipWaiting());
    return;
  }
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.add(PAGE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== CACHE && name.startsWith('parlor-app-')) await caches.delete(name);
    }
    if (VERSION === 'dev') await self.registration.unregister();
  })());
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (VERSION === 'dev' || request.mode !== 'navigate' || request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !isAppAddress(url.pathname)) return;
  event.respondWith(
    caches.open(CACHE)
      .then((cache) => cache.match(PAGE))
      .then((page) => page || fetch(request)),
  );
});
