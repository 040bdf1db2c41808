/*
 * Applies the cached look before the first paint: a classic (not module) script, loaded
 * synchronously in <head> before the stylesheets, so a reload never flashes the default theme.
 *
 * Reads the preferences preferences.js last applied (localStorage `parlor.prefs`, kept for
 * accounts too) and sets `data-theme` (the theme in effect: "system" becomes Daylight when the
 * device is light, Midnight Purple when it is dark), `data-theme-choice`, `data-font-size` and
 * `data-density` on <html>, the attributes themes.css styles. Anything unreadable falls back
 * to the defaults. preferences.js takes over once the app has loaded.
 */
(function () {
  var THEMES = ['midnight-purple', 'crimson-noir', 'ocean-deep', 'ember', 'neon-green', 'cyberpunk',
    'rose-gold', 'arctic', 'daylight', 'midnight-blue', 'system'];
  var root = document.documentElement;
  var prefs = {};
  try {
    prefs = JSON.parse(localStorage.getItem('parlor.prefs') || 'null') || {};
    // The light/dark toggle this replaced kept its choice here.
    if (!prefs.theme && localStorage.getItem('parlor.theme') === 'light') prefs.theme = 'daylight';
  } catch (e) {
    prefs = {}; // storage disabled, or not ours
  }
  var choice = THEMES.indexOf(prefs.theme) >= 0 ? prefs.theme : 'midnight-purple';
  var theme = choice;
  if (choice === 'system') {
    var light = window.matchMedia && window.matchMedia('(prefers-color-scheme: light)').matches;
    theme = light ? 'daylight' : 'midnight-purple';
  }
  var size = prefs.font_size;
  root.setAttribute('data-theme', theme);
  root.setAttribute('data-theme-choice', choice);
  root.setAttribute('data-font-size', String(size >= 12 && size <= 20 && size % 1 === 0 ? size : 15));
  root.setAttribute('data-density', prefs.density === 'compact' ? 'compact' : 'comfortable');
}());
