/**
 * Theme setting: light or dark.
 *
 * By default the theme follows `prefers-color-scheme` (and keeps following it live). Pressing
 * `#theme-toggle` pins the opposite of what is shown and stores the choice in localStorage.
 * The effective theme is always written to `<html data-theme>`; app.css holds the palettes
 * (plus a media-query fallback that paints the right theme before this module runs).
 */

const STORAGE_KEY = 'parlor.theme';
const THEMES = ['light', 'dark'];

const systemDark = window.matchMedia('(prefers-color-scheme: dark)');

/** The stored choice, or null when following the system. */
function storedTheme() {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return THEMES.includes(value) ? value : null;
  } catch {
    return null; // storage disabled (private mode, sandbox)
  }
}

function storeTheme(theme) {
  try {
    localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    // Not persisted; the choice still holds for this page.
  }
}

/** The theme currently in effect. */
export function currentTheme() {
  return storedTheme() ?? (systemDark.matches ? 'dark' : 'light');
}

function apply(button) {
  const theme = currentTheme();
  document.documentElement.dataset.theme = theme;
  const next = theme === 'dark' ? 'light' : 'dark';
  const label = `Switch to ${next} theme`;
  button.title = label;
  button.setAttribute('aria-label', label);
  button.setAttribute('aria-pressed', String(theme === 'dark'));
  const icon = button.querySelector('#theme-icon');
  if (icon) icon.textContent = theme === 'dark' ? '☀️' : '🌙';
}

/** Applies the theme and wires the toggle button. Call once at boot. */
export function initTheme(button) {
  apply(button);
  button.addEventListener('click', () => {
    storeTheme(currentTheme() === 'dark' ? 'light' : 'dark');
    apply(button);
  });
  systemDark.addEventListener('change', () => apply(button));
  // Another tab changed the setting.
  window.addEventListener('storage', (event) => {
    if (event.key === STORAGE_KEY) apply(button);
  });
}
