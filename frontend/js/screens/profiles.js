// Profile picker: the sessions signed in in this browser (refresh cookies), switch, add, sign out.
import { h, clear, spinner, errorBox } from '../dom.js';
import { api, post, getSession, setSession } from '../api.js';
import { state, navigate, loadUser } from '../app.js';
import { focusFirst } from '../focus.js';

export async function render(ctx) {
  var root = ctx.root;
  var wrap = h('div', { class: 'center-screen' }, [h('h1', { text: 'Who is watching?' }), spinner()]);
  root.appendChild(wrap);
  var sessions;
  try {
    sessions = await api('/auth/sessions', { anonymous: true });
  } catch (e) {
    clear(wrap).appendChild(errorBox(e.message, function () { render(ctx); }));
    return;
  }
  if (!ctx.isCurrent()) return;
  var currentSession = getSession();
  var list = h('div', { class: 'profiles', 'data-focus-group': 'profiles' });
  (sessions || []).forEach(function (entry) {
    var isCurrent = entry.session === currentSession && state.user;
    list.appendChild(h('div', { class: 'profile' + (isCurrent ? ' current' : '') }, [
      h('button', {
        type: 'button', class: 'profile-card', 'data-session': entry.session, 'data-autofocus': isCurrent || null,
        onclick: async function () {
          setSession(entry.session);
          await loadUser();
          if (state.user) navigate(ctx.query.next || '/', true);
        }
      }, [
        h('span', { class: 'avatar avatar-big', text: (entry.user.email || '?').charAt(0).toUpperCase() }),
        h('span', { class: 'profile-email', text: entry.user.email }),
        h('span', { class: 'badge', text: entry.user.role })
      ]),
      h('button', {
        type: 'button', class: 'btn btn-small', text: 'Sign out',
        onclick: async function () {
          try { await post('/auth/logout/' + encodeURIComponent(entry.session), {}, { session: entry.session }); } catch (e) { /* already gone */ }
          if (entry.session === getSession()) { setSession(null); state.user = null; }
          navigate('/profiles', true);
          render(Object.assign({}, ctx, { root: clear(root) }));
        }
      })
    ]));
  });
  list.appendChild(h('div', { class: 'profile' }, [
    h('a', { href: '#/login?add=1', class: 'profile-card add' }, [
      h('span', { class: 'avatar avatar-big', text: '+' }),
      h('span', { class: 'profile-email', text: 'Add profile' })
    ])
  ]));
  clear(wrap);
  wrap.appendChild(h('h1', { text: (sessions || []).length ? 'Who is watching?' : 'Sign in' }));
  wrap.appendChild(list);
  focusFirst(root);
}
