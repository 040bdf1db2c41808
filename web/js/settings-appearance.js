/**
 * The settings panel's "Appearance & chat" tab, for everyone: the ten themes as swatches plus
 * "Follow the system", the text size (12–20 px), the 12- or 24-hour clock, Enter-to-send,
 * density and notification sounds. Each control applies its change at once through
 * preferences.js (which saves an account's on the server), and follows changes made elsewhere
 * (another device, another tab). Each swatch carries its theme's `data-theme`, so themes.css
 * paints it in that theme's own colours. Motion follows the device's "reduce motion" setting
 * (themes.css), which the tab only mentions.
 */

import { h } from './dom.js';
import { THEMES, FONT_SIZES, preferences, changePreferences, onPreferences } from './preferences.js';

/** A group of radio buttons for preference `key`; `options`: [{value, label, hint?}]. */
function radioGroup(key, legend, options, className = 'prefs-choices') {
  const inputs = [];
  const group = h('fieldset', { className, id: `prefs-${key}` }, h('legend', { text: legend }));
  for (const option of options) {
    const input = h('input', {
      type: 'radio', name: `prefs-${key}`, value: option.value, id: `prefs-${key}-${option.value}`,
      on: { change: () => changePreferences({ [key]: option.value }) },
    });
    inputs.push(input);
    group.append(h('label', { className: 'prefs-choice', for: input.id }, input,
      ...(option.content ?? [h('span', { text: option.label })])));
  }
  const sync = () => { for (const input of inputs) input.checked = input.value === preferences()[key]; };
  return { group, sync };
}

/** A switch (a checkbox with `role="switch"`) for boolean preference `key`. */
function switchRow(key, label, hint) {
  const input = h('input', {
    type: 'checkbox', role: 'switch', id: `prefs-${key.replaceAll('_', '-')}`,
    on: { change: () => changePreferences({ [key]: input.checked }) },
  });
  const note = h('p', { className: 'hint', id: `${input.id}-hint`, text: hint });
  input.setAttribute('aria-describedby', note.id);
  const row = h('div', { className: 'prefs-switch' },
    h('label', { className: 'prefs-switch-label', for: input.id }, input, h('span', { text: label })), note);
  return { row, note, sync: () => { input.checked = preferences()[key]; } };
}

/** The swatch of `theme` (`data-theme` scopes its colours) with its name. */
function swatch(theme, label) {
  return [
    h('span', { className: 'theme-swatch', dataset: { theme }, 'aria-hidden': 'true' },
      h('span', { className: 'theme-swatch-surface' },
        h('span', { className: 'theme-swatch-text', text: 'Aa' }),
        h('span', { className: 'theme-swatch-accent' }))),
    h('span', { className: 'theme-name', text: label }),
  ];
}

export function createAppearanceTab() {
  const where = h('p', { className: 'hint prefs-where', id: 'prefs-where' });
  const themes = radioGroup('theme', 'Theme', [
    ...THEMES.map(({ value, label }) => ({ value, content: swatch(value, label) })),
    {
      value: 'system',
      content: [
        h('span', { className: 'theme-swatch theme-swatch-system', 'aria-hidden': 'true' },
          h('span', { className: 'theme-swatch-half', dataset: { theme: 'daylight' } }),
          h('span', { className: 'theme-swatch-half', dataset: { theme: 'midnight-purple' } })),
        h('span', { className: 'theme-name', text: 'Follow the system' }),
      ],
    },
  ], 'prefs-choices theme-grid');
  const systemNote = h('p', { className: 'hint', text: '“Follow the system” is Daylight while your device is in light mode and Midnight Purple in dark mode.' });

  const size = h('input', {
    type: 'range', id: 'prefs-font-size', min: FONT_SIZES.min, max: FONT_SIZES.max, step: 1,
    on: { input: () => changePreferences({ font_size: Number(size.value) }) },
  });
  const sizeShown = h('output', { id: 'prefs-font-size-value', for: size.id });
  const clock = radioGroup('clock', 'Clock', [
    { value: '24h', label: '24-hour (14:05)' },
    { value: '12h', label: '12-hour (2:05 PM)' },
  ]);
  const enter = switchRow('enter_to_send', 'Enter sends the message', '');
  const density = radioGroup('density', 'Message density', [
    { value: 'comfortable', label: 'Comfortable' },
    { value: 'compact', label: 'Compact' },
  ]);
  const sounds = switchRow('sounds', 'Notification sounds',
    'A short chime with each notification while Parlor is in the background (turn notifications on with the bell in the header).');

  function sync() {
    const now = preferences();
    themes.sync();
    clock.sync();
    density.sync();
    enter.sync();
    sounds.sync();
    size.value = String(now.font_size);
    sizeShown.textContent = `${now.font_size} px`;
    size.setAttribute('aria-valuetext', `${now.font_size} pixels`);
    enter.note.textContent = now.enter_to_send
      ? 'On: Enter sends, Shift+Enter starts a new line. Ctrl+Enter (⌘+Enter on a Mac) sends too.'
      : 'Off: Enter starts a new line, Ctrl+Enter (⌘+Enter on a Mac) sends.';
  }

  const panel = h('section', { className: 'prefs-section' },
    h('h3', { className: 'prefs-heading', text: 'Appearance & chat' }),
    where,
    themes.group,
    systemNote,
    h('div', { className: 'prefs-field' },
      h('label', { for: size.id, text: 'Text size' }),
      h('div', { className: 'prefs-range' }, h('span', { className: 'prefs-range-end', 'aria-hidden': 'true', text: 'A' }),
        size, h('span', { className: 'prefs-range-end prefs-range-big', 'aria-hidden': 'true', text: 'A' }), sizeShown)),
    clock.group,
    enter.row,
    density.group,
    sounds.row,
    h('p', { className: 'hint', text: 'Animations follow your device’s “reduce motion” setting.' }));

  onPreferences(sync);
  sync();

  return {
    id: 'appearance',
    label: 'Appearance & chat',
    panel,
    visible: () => true,
    setIdentity(me) {
      where.textContent = me && me.kind !== 'guest'
        ? 'Saved to your account: every device you sign in on uses them.'
        : 'Kept in this browser only. An account keeps your settings on every device.';
    },
  };
}
