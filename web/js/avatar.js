/**
 * Initials avatars: a coloured disc with one or two letters, the same for a name everywhere
 * and on every page (the colour comes from the name, not from the order people appear in).
 * Real pictures come with profile files; until then this tells authors apart at a glance.
 */

/** Up to two letters: the first of each word (`ann_lee` → "AL", `BobSmith` → "BS", `x` → "X"). */
export function initialsOf(name) {
  const text = String(name ?? '').trim();
  const words = text.split(/[\s_.-]+|(?<=[a-z0-9])(?=[A-Z])/u).filter(Boolean);
  const letters = words.map((w) => [...w][0]).slice(0, 2).join('');
  return (letters || [...text][0] || '?').toUpperCase();
}

/** A hue (0–359) from the name, case-insensitive. */
export function hueOf(name) {
  let hash = 0;
  for (const ch of String(name ?? '').toLowerCase()) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
}

/** The avatar element for `name` (decorative: the name is written next to it). */
export function avatarFor(name) {
  const el = document.createElement('span');
  el.className = 'avatar';
  el.setAttribute('aria-hidden', 'true');
  el.textContent = initialsOf(name);
  el.style.setProperty('--avatar-hue', String(hueOf(name)));
  return el;
}
