/**
 * Global roles and what they allow, as the server rules them: root > admin > mod > user.
 *
 * Used to decide which moderation controls to offer (the member menu, the admin panel); the
 * server still checks every action, so these are conveniences, never the guard. Knows nothing
 * about the DOM or the network.
 */

const RANK = { root: 0, admin: 1, mod: 2, user: 3 };
const ASSIGNABLE = ['user', 'mod', 'admin'];

/** Lower is higher; unknown roles rank as plain users. */
export const rankOf = (role) => RANK[role] ?? RANK.user;

/** Whether `role` is staff: mod, admin or root (the admin panel and moderation commands). */
export const moderates = (role) => rankOf(role) <= RANK.mod;

/** Whether someone with `actor` may act on someone with `target`: only on lower roles. */
export const mayActOn = (actor, target) => moderates(actor) && rankOf(actor) < rankOf(target);

/** The roles `actor` may give (below its own level; admins and root only). */
export function assignableRoles(actor) {
  if (rankOf(actor) > RANK.admin) return [];
  return ASSIGNABLE.filter((role) => rankOf(role) > rankOf(actor));
}
