/**
 * Installs the service worker (`/sw.js`) that opens the app from a cache of its own, so a
 * visit does not wait a round trip for the page before anything shows, and says so when a
 * newer version of the app takes this page over.
 *
 * It registers once the page has loaded: the first screen never waits on it. Browsers only
 * run service workers on secure origins (HTTPS, or this machine), so on a plain-HTTP address
 * this does nothing and every visit revalidates the page as before.
 */

import { createBanner } from './banner.js';

export function installAppCache() {
  if (!('serviceWorker' in navigator)) return;
  // Controlled at load: a worker served this page from its cache. Another one taking over
  // later is a newer version (sw.js), so the code running here is out of date.
  const servedByWorker = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (servedByWorker) createBanner().show('Parlor has been updated: reload the page to use the new version.');
  });
  const register = () => {
    navigator.serviceWorker.register('/sw.js').catch((err) => {
      console.warn('the app cache is not available:', err);
    });
  };
  if (document.readyState === 'complete') register();
  else window.addEventListener('load', register, { once: true });
}
