/**
 * Whether a message mentions the signed-in user, by one rule for the whole app (the log's
 * highlight, the mention badges, notifications): `@theirname` as a word in the text, compared
 * case-insensitively; or the server's `mentions` list names them; or the message has
 * `mentions_everyone: true` (an @here / @room / @everyone the server allowed). The text rule
 * alone is enough on servers that do not send `mentions` yet; an `@everyone` typed by someone
 * the server did not allow to use it is just text.
 *
 * The current identity's name is set by the rooms coordinator when a session begins. No DOM.
 */

/** Names are 1–20 of these; a mention ends where they do. */
const NAME_CHAR = /[A-Za-z0-9_-]/;

let self = '';

/** The signed-in identity's name ('' when signed out). */
export function setSelfName(name) {
  self = typeof name === 'string' ? name : '';
}

export const selfName = () => self;

/** Whether `name` is the signed-in identity's (case-insensitive). */
export const isSelf = (name) => Boolean(self) && String(name).toLowerCase() === self.toLowerCase();

/**
 * Whether `text` holds `@name` as a word: not inside another word or e-mail address
 * (`bob@name.org` is not a mention), and not the start of a longer name.
 */
export function textMentions(text, name) {
  if (!name || typeof text !== 'string') return false;
  const haystack = text.toLowerCase();
  const needle = `@${name.toLowerCase()}`;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    const before = at > 0 ? text[at - 1] : '';
    const after = text[at + needle.length] ?? '';
    if (!NAME_CHAR.test(before) && before !== '@' && !NAME_CHAR.test(after)) return true;
  }
  return false;
}

/** Whether `message` (a MessageEvent) mentions the signed-in user. Own messages never do. */
export function mentionsMe(message) {
  if (!self || !message || isSelf(message.author?.name ?? '')) return false;
  if (message.mentions_everyone === true) return true;
  if (Array.isArray(message.mentions) && message.mentions.some((n) => typeof n === 'string' && isSelf(n))) return true;
  return textMentions(message.text, self);
}
