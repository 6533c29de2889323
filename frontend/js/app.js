// Shared state: the signed-in user of the current profile, and navigation helpers.
import { api, getSession, setSession } from './api.js';

export var state = { user: null };

export function navigate(hash, replace) {
  if (hash.charAt(0) !== '#') hash = '#' + hash;
  if (replace) location.replace(hash); else location.hash = hash;
}

export function isAdmin() { return !!(state.user && state.user.role === 'admin'); }
export function isGuest() { return !!(state.user && state.user.role === 'guest'); }

// Resolves the current profile's user (null when signed out).
export async function loadUser() {
  var session = getSession();
  state.user = null;
  if (!session) return null;
  try {
    var answer = await api('/auth/session');
    state.user = answer.user;
  } catch (e) {
    if (e.status === 401 || e.status === 403) setSession(null);
    else throw e;
  }
  return state.user;
}

export async function signIn(answer) {
  setSession(answer.session);
  state.user = answer.user;
}
