/**
 * Client-side routes: the address bar is the open room (or the admin panel).
 *
 * `/` is the lobby, `/room/<slug>` a persistent room, `/invite/<token>` an invite to redeem and
 * `/admin` the admin panel.
 * `/room/<CODE>` is also the share link of an ephemeral room and `/room/pm:<id>:<id>` a private
 * conversation; callers tell them apart (room-names.js). Whisper tabs have no address.
 * The server answers every such path with the app shell, so these work as bookmarks and after
 * a reload. This module only parses and writes `location`; what a route shows is up to callers.
 */

import { roomKind, codeOf } from './room-names.js';

/** The admin panel's address. */
export const ADMIN_PATH = '/admin';
const LOBBY_ROUTE = Object.freeze({ name: 'lobby' });
const ADMIN_ROUTE = Object.freeze({ name: 'admin' });

/**
 * Parses a pathname into `{name: 'lobby'}`, `{name: 'room', slug}`, `{name: 'invite', token}`
 * or `{name: 'admin'}`.
 */
export function parseRoute(pathname) {
  if (pathname === ADMIN_PATH) return ADMIN_ROUTE;
  const [, kind, value, ...rest] = pathname.split('/');
  if (rest.length || !value) return LOBBY_ROUTE;
  let decoded;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    return LOBBY_ROUTE;
  }
  if (kind === 'room') {
    const slug = decoded.toLowerCase();
    return slug === 'lobby' ? LOBBY_ROUTE : { name: 'room', slug };
  }
  if (kind === 'invite') return { name: 'invite', token: decoded };
  return LOBBY_ROUTE;
}

/** The route in the address bar now. */
export const currentRoute = () => parseRoute(location.pathname);

/** The path of a room (`/` for the lobby), or null for a whisper tab (it has none). */
export function roomUrl(slug) {
  switch (roomKind(slug)) {
    case 'lobby': return '/';
    case 'whisper': return null;
    case 'ephemeral': return `/room/${codeOf(slug)}`;
    // `:` needs no escaping in a path segment; `pm:3:7` reads better than `pm%3A3%3A7`.
    case 'pm': return `/room/${encodeURIComponent(slug).replaceAll('%3A', ':')}`;
    default: return `/room/${encodeURIComponent(slug)}`;
  }
}

/**
 * Shows `path` in the address bar without loading anything. `replace` overwrites the current
 * entry (redirects such as a redeemed invite must not come back on "Back").
 */
export function setUrl(path, { replace = false } = {}) {
  if (location.pathname === path) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
}

/** Calls `handler(route)` when the user goes back or forward. */
export function onRouteChange(handler) {
  window.addEventListener('popstate', () => handler(currentRoute()));
}
