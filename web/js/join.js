/**
 * Join screen: three ways in — guest nick, login, register.
 *
 * Each tab posts to its REST endpoint; the server sets the HttpOnly `session` cookie and answers
 * with the profile, which is handed to `onJoined`. Server errors are shown as sentences
 * (error-text.js) in `#join-error`, the code kept in its `data-code`. Validation is left to the
 * server, so its rules are the only ones. A password login hands the password to e2e-account.js,
 * which may unlock the account's end-to-end keys with it (kept in memory only).
 */

import { post, describeError } from './api.js';
import { rememberLogin } from './e2e-account.js';

const TABS = ['guest', 'login', 'register'];

/**
 * Wires the join screen once.
 * @param {HTMLElement} root `#join-view`
 * @param {{onJoined: (profile: object) => void}} options
 * @returns {{show: (message?: string) => void}}
 */
export function createJoinView(root, { onJoined }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const errorArea = $('join-error');
  let active = 'guest';
  let busy = false;

  function selectTab(name, { focus = false } = {}) {
    active = name;
    for (const tab of TABS) {
      const selected = tab === name;
      const button = $(`tab-${tab}`);
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
      $(`panel-${tab}`).hidden = !selected;
    }
    setMessage('');
    if (focus) firstInput().focus();
  }

  function firstInput() {
    return $(`panel-${active}`).querySelector('input');
  }

  function setMessage(text, kind = 'error', code = '') {
    errorArea.textContent = text;
    errorArea.dataset.kind = text ? kind : '';
    errorArea.dataset.code = code;
  }

  // Tabs: click, plus arrow keys as the ARIA tabs pattern expects.
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    button.addEventListener('click', () => selectTab(tab, { focus: true }));
    button.addEventListener('keydown', (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      event.preventDefault();
      const next = TABS[(TABS.indexOf(tab) + step + TABS.length) % TABS.length];
      selectTab(next);
      $(`tab-${next}`).focus();
    });
  }

  async function submit(form, submitButton, makeRequest) {
    if (busy) return;
    let call;
    try {
      call = makeRequest();
    } catch (err) {
      setMessage(err.message); // local check failed; nothing was sent
      return;
    }
    busy = true;
    submitButton.disabled = true;
    form.setAttribute('aria-busy', 'true');
    setMessage('');
    try {
      const answer = await call();
      clearSecrets();
      onJoined(answer.user);
    } catch (err) {
      setMessage(describeError(err), 'error', err.code || '');
    } finally {
      busy = false;
      submitButton.disabled = false;
      form.removeAttribute('aria-busy');
    }
  }

  $('form-guest').addEventListener('submit', (event) => {
    event.preventDefault();
    submit(event.currentTarget, $('join-guest-submit'), () => {
      const nick = $('join-guest-nick').value.trim();
      // No nick: the server picks one (the previous nick from this address, or guest-xxxx).
      return () => post('/api/guest', nick ? { nick } : {});
    });
  });

  $('form-login').addEventListener('submit', (event) => {
    event.preventDefault();
    submit(event.currentTarget, $('login-submit'), () => {
      const username = $('login-username').value.trim();
      const password = $('login-password').value;
      if (!username || !password) throw new Error('Enter your username (or e-mail) and password.');
      return () => {
        rememberLogin(password);
        return post('/api/login', { username, password }).catch((err) => {
          rememberLogin(null);
          throw err;
        });
      };
    });
  });

  $('form-register').addEventListener('submit', (event) => {
    event.preventDefault();
    submit(event.currentTarget, $('register-submit'), () => {
      const username = $('register-username').value.trim();
      const password = $('register-password').value;
      const email = $('register-email').value.trim();
      if (!username || !password) throw new Error('Choose a username and a password.');
      const body = { username, password };
      if (email) body.email = email;
      return () => post('/api/register', body);
    });
  });

  function clearSecrets() {
    $('login-password').value = '';
    $('register-password').value = '';
  }

  return {
    /**
     * Shows the screen, optionally with a message (e.g. why the session ended) and a tab to
     * start on (rooms need an account, so a room link starts on `register`).
     */
    show(message = '', { tab = active } = {}) {
      clearSecrets();
      selectTab(tab);
      if (message) setMessage(message, 'info');
      // Focus once the view has been painted: focusing lays the page out, and doing that in
      // the frame that first shows the screen would hold its paint back.
      requestAnimationFrame(() => setTimeout(() => firstInput().focus()));
    },
  };
}
