/**
 * The settings panel's "Privacy" tab, for accounts: the ignore list (ignores.js; someone is
 * ignored from their entry in a member list and may be let back here), who may start a
 * private conversation or whisper (`dm_from`) and whether the account shows as online
 * (`show_online`). The last two are preferences the server enforces, saved like the others
 * (preferences.js); refusals read as sentences.
 */

import { h } from './dom.js';
import { errorText } from './error-text.js';
import { preferences, changePreferences, onPreferences } from './preferences.js';
import { ignoredNames, onIgnores, refreshIgnores, setIgnored } from './ignores.js';

const DM_CHOICES = [
  { value: 'everyone', label: 'Everyone' },
  { value: 'registered', label: 'Accounts only', hint: 'guests cannot whisper to you' },
  { value: 'nobody', label: 'Nobody', hint: 'moderators can still reach you' },
];

export function createPrivacyTab() {
  const list = h('ul', { className: 'prefs-list', id: 'prefs-ignores' });
  const ignoreStatus = h('p', { className: 'prefs-status', id: 'prefs-ignores-status', role: 'status', 'aria-live': 'polite' });

  function renderIgnores(names) {
    if (!names.length) {
      list.replaceChildren(h('li', { className: 'prefs-empty', text: 'You ignore nobody.' }));
      return;
    }
    list.replaceChildren(...names.map((name) => {
      const button = h('button', {
        type: 'button', className: 'button prefs-unignore', dataset: { name },
        'aria-label': `Stop ignoring ${name}`, text: 'Stop ignoring',
      });
      button.addEventListener('click', async () => {
        button.disabled = true;
        try {
          await setIgnored(name, false);
          ignoreStatus.textContent = `You no longer ignore ${name}: their new messages reach you again.`;
        } catch (err) {
          button.disabled = false;
          ignoreStatus.textContent = `Could not stop ignoring ${name}: ${errorText(err)}`;
        }
      });
      return h('li', { className: 'prefs-item', dataset: { name } }, h('span', { className: 'prefs-item-name', text: name }), button);
    }));
  }

  const dmInputs = DM_CHOICES.map((choice) => h('input', {
    type: 'radio', name: 'prefs-dm-from', id: `prefs-dm-from-${choice.value}`, value: choice.value,
    on: { change: () => changePreferences({ dm_from: choice.value }) },
  }));
  const dmGroup = h('fieldset', { className: 'prefs-choices', id: 'prefs-dm-from' },
    h('legend', { text: 'Who may start a private conversation with you or whisper to you' }),
    ...DM_CHOICES.map((choice, i) => h('label', { className: 'prefs-choice', for: dmInputs[i].id }, dmInputs[i],
      h('span', { text: choice.label }), choice.hint ? h('span', { className: 'hint', text: ` (${choice.hint})` }) : null)));
  const online = h('input', {
    type: 'checkbox', role: 'switch', id: 'prefs-show-online', 'aria-describedby': 'prefs-show-online-hint',
    on: { change: () => changePreferences({ show_online: online.checked }) },
  });

  function sync() {
    const now = preferences();
    for (const input of dmInputs) input.checked = input.value === now.dm_from;
    online.checked = now.show_online;
  }

  const panel = h('section', { className: 'prefs-section' },
    h('h3', { className: 'prefs-heading', text: 'Privacy' }),
    h('h4', { className: 'prefs-subheading', text: 'People you ignore' }),
    h('p', { className: 'hint', text: 'Their messages, typing, whispers and invitations no longer reach you; they are not told. To ignore someone, open their name in a member list.' }),
    list,
    ignoreStatus,
    h('h4', { className: 'prefs-subheading', text: 'Private messages' }),
    dmGroup,
    h('h4', { className: 'prefs-subheading', text: 'Presence' }),
    h('div', { className: 'prefs-switch' },
      h('label', { className: 'prefs-switch-label', for: online.id }, online, h('span', { text: 'Show me as online' })),
      h('p', { className: 'hint', id: 'prefs-show-online-hint', text: 'Off: you are left out of the list of who is online and your profile shows you offline. People in the rooms you are in still see you there.' })));

  onIgnores(renderIgnores);
  onPreferences(sync);
  renderIgnores(ignoredNames());
  sync();

  return {
    id: 'privacy',
    label: 'Privacy',
    panel,
    visible: (me) => Boolean(me) && me.kind !== 'guest',
    shown() {
      ignoreStatus.textContent = '';
      refreshIgnores();
    },
  };
}
