// Entry point: hash router, top bar, back handling, Tizen media keys.
import { h, clear, toast } from './dom.js';
import { getSession, setSession, onUnauthorized, api } from './api.js';
import { state, navigate, loadUser, isAdmin } from './app.js';
import * as focus from './focus.js';
import * as login from './screens/login.js';
import * as profiles from './screens/profiles.js';
import * as home from './screens/home.js';
import * as search from './screens/search.js';
import * as movie from './screens/movie.js';
import * as show from './screens/show.js';
import * as player from './screens/player.js';
import * as device from './screens/device.js';
import * as admin from './screens/admin.js';

var routes = [
  { pattern: /^\/login$/, screen: login, open: true, bare: true },
  { pattern: /^\/profiles$/, screen: profiles, open: true, bare: true },
  { pattern: /^\/device$/, screen: device, open: true },
  { pattern: /^\/$/, screen: home, name: 'home' },
  { pattern: /^\/search$/, screen: search, name: 'search' },
  { pattern: /^\/movie\/(\d+)$/, screen: movie, keys: ['id'] },
  { pattern: /^\/show\/(\d+)$/, screen: show, keys: ['id'] },
  { pattern: /^\/play\/movie\/(\d+)$/, screen: player, keys: ['id'], bare: true, kind: 'movie' },
  { pattern: /^\/play\/show\/(\d+)\/(\d+)\/(\d+)$/, screen: player, keys: ['id', 'season', 'episode'], bare: true, kind: 'show' },
  { pattern: /^\/admin(?:\/(\w+))?$/, screen: admin, keys: ['tab'], admin: true, name: 'admin' }
];

var app = document.getElementById('app');
var topbar = document.getElementById('topbar');
var current = null; // { cleanup, onBack }
var renderId = 0;

function parseHash() {
  var raw = location.hash.replace(/^#/, '') || '/';
  var q = raw.indexOf('?');
  var path = q >= 0 ? raw.slice(0, q) : raw;
  var query = {};
  if (q >= 0) {
    raw.slice(q + 1).split('&').forEach(function (pair) {
      if (!pair) return;
      var i = pair.indexOf('=');
      var k = decodeURIComponent(i >= 0 ? pair.slice(0, i) : pair);
      query[k] = i >= 0 ? decodeURIComponent(pair.slice(i + 1).replace(/\+/g, ' ')) : '';
    });
  }
  return { path: path || '/', query: query, full: raw };
}

function renderTopbar(active) {
  clear(topbar);
  if (!state.user) { topbar.hidden = true; return; }
  topbar.hidden = false;
  function link(href, label, name) {
    return h('a', { href: href, class: 'nav-link' + (active === name ? ' active' : ''), text: label });
  }
  topbar.appendChild(h('a', { href: '#/', class: 'brand', 'aria-label': 'Miauflix home', text: 'Miauflix' }));
  topbar.appendChild(h('nav', { class: 'nav', 'data-focus-group': 'nav' }, [
    link('#/', 'Home', 'home'),
    link('#/search', 'Search', 'search'),
    isAdmin() ? link('#/admin', 'Admin', 'admin') : null,
    h('a', { href: '#/profiles', class: 'nav-link profile-link', title: 'Switch profile' }, [
      h('span', { class: 'avatar', text: (state.user.email || '?').charAt(0).toUpperCase() }),
      h('span', { class: 'profile-name', text: state.user.email })
    ])
  ]));
}

var lastRendered = null;

async function route(event) {
  var parsed = parseHash();
  if (event && event.type === 'hashchange' && parsed.full === lastRendered) return;
  lastRendered = parsed.full;
  var id = ++renderId;
  var match = null, params = {};
  for (var i = 0; i < routes.length && !match; i++) {
    var m = routes[i].pattern.exec(parsed.path);
    if (m) {
      match = routes[i];
      (match.keys || []).forEach(function (k, j) { params[k] = m[j + 1]; });
    }
  }
  if (!match) { navigate('/', true); return; }
  if (!match.open && !state.user) {
    navigate('/login?next=' + encodeURIComponent(parsed.full), true);
    return;
  }
  if (match.admin && !isAdmin()) { navigate('/', true); return; }
  if (current && current.cleanup) { try { current.cleanup(); } catch (e) { /* ignore */ } }
  current = null;
  focus.setScope(null);
  document.body.className = 'screen-' + (match.name || (match.screen === player ? 'player' : match.bare ? 'bare' : 'page'));
  if (match.bare && match.screen !== profiles) { topbar.hidden = true; clear(topbar); } else renderTopbar(match.name);
  if (match.screen === profiles && !state.user) topbar.hidden = true;
  clear(app);
  window.scrollTo(0, 0);
  var ctx = { root: app, params: params, query: parsed.query, kind: match.kind, isCurrent: function () { return id === renderId; } };
  try {
    var result = match.screen.render(ctx);
    if (result && typeof result.then === 'function') result = await result;
    if (id === renderId) current = result || null;
    else if (result && result.cleanup) result.cleanup();
  } catch (e) {
    if (id !== renderId) return;
    clear(app);
    app.appendChild(h('div', { class: 'error-box', role: 'alert' }, [h('p', { text: e.message || String(e) })]));
    console.warn(e);
  }
}

function back() {
  if (current && current.onBack && current.onBack() === true) return;
  var path = parseHash().path;
  if (path === '/' || path === '/login') return;
  if (history.length > 1) history.back(); else navigate('/');
}

onUnauthorized(async function (session) {
  if (session !== getSession()) return;
  setSession(null);
  state.user = null;
  toast('Your session ended. Please sign in again.');
  navigate('/profiles', true);
});

function registerTizenKeys() {
  try {
    if (window.tizen && tizen.tvinputdevice) {
      ['MediaPlayPause', 'MediaPlay', 'MediaPause', 'MediaStop', 'MediaFastForward', 'MediaRewind', 'ColorF0Red']
        .forEach(function (k) { try { tizen.tvinputdevice.registerKey(k); } catch (e) { /* unsupported key */ } });
    }
  } catch (e) { /* not a Tizen TV */ }
}

async function start() {
  // /device?code=… lands here when the server falls back to index.html.
  if (/^\/device\/?$/.test(location.pathname)) {
    location.replace('/#/device' + location.search);
    return;
  }
  focus.install(back);
  registerTizenKeys();
  try {
    await loadUser();
  } catch (e) {
    clear(app).appendChild(h('div', { class: 'error-box', role: 'alert' }, [h('p', { text: e.message })]));
  }
  if (!state.user) {
    var path = parseHash().path;
    if (path !== '/login' && path !== '/device' && path !== '/profiles') {
      var sessions = [];
      try { sessions = await api('/auth/sessions', { anonymous: true }); } catch (e) { sessions = []; }
      var next = parseHash().full;
      if (sessions && sessions.length) navigate('/profiles' + (next !== '/' ? '?next=' + encodeURIComponent(next) : ''), true);
      else navigate('/login' + (next !== '/' ? '?next=' + encodeURIComponent(next) : ''), true);
    }
  }
  window.addEventListener('hashchange', route);
  route();
}

export function rerender() { route(); }

start();
