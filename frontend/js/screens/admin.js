// Admin area: users (list + create), jobs, torrents, audit log, status — simple tables.
import { h, clear, spinner, errorBox } from '../dom.js';
import { api, post } from '../api.js';
import { focusFirst, focus } from '../focus.js';

var TABS = [['users', 'Users'], ['jobs', 'Jobs'], ['torrents', 'Torrents'], ['audit', 'Audit log'], ['status', 'Status']];

function table(columns, rows, id) {
  return h('div', { class: 'table-wrap' }, [h('table', { class: 'table', id: id }, [
    h('thead', {}, h('tr', {}, columns.map(function (c) { return h('th', { text: c[0] }); }))),
    h('tbody', {}, rows.length ? rows.map(function (r) {
      return h('tr', {}, columns.map(function (c) {
        var v = c[1](r);
        return h('td', {}, v === null || v === undefined ? '—' : (typeof v === 'object' ? v : String(v)));
      }));
    }) : h('tr', {}, h('td', { colspan: columns.length, class: 'muted', text: 'Nothing to show.' })))
  ])]);
}

function bytes(n) {
  if (n === null || n === undefined) return null;
  var units = ['B', 'KB', 'MB', 'GB', 'TB'], i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + ' ' + units[i];
}

function when(s) { return s ? new Date(s).toLocaleString() : null; }

var flash = null;

var views = {
  users: async function (box) {
    var users = await api('/auth/users');
    var email = h('input', { type: 'email', id: 'new-user-email', required: true, placeholder: 'E-mail', 'aria-label': 'E-mail' });
    var password = h('input', { type: 'password', id: 'new-user-password', required: true, placeholder: 'Password (10+ characters)', 'aria-label': 'Password' });
    var role = h('select', { id: 'new-user-role', 'aria-label': 'Role' }, ['user', 'guest', 'admin'].map(function (r) { return h('option', { value: r, text: r }); }));
    var msg = h('p', { class: 'form-message' + (flash ? ' success' : ''), id: 'new-user-message', role: 'status', text: flash || '' });
    flash = null;
    var form = h('form', { class: 'inline-form', id: 'new-user-form' }, [h('h2', { text: 'Create a user' }), email, password, role,
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'new-user-submit', text: 'Create' }), msg]);
    form.addEventListener('submit', async function (e) {
      e.preventDefault();
      msg.className = 'form-message';
      try {
        var created = await post('/auth/users', { email: email.value.trim(), password: password.value, role: role.value });
        flash = 'Created ' + created.email + ' (' + created.role + ').';
        await views.users(clear(box));
        focus(box.querySelector('#new-user-email'));
      } catch (err) {
        msg.textContent = err.status === 409 ? 'A user with this e-mail exists.' : err.message;
        msg.classList.add('form-error');
      }
    });
    box.appendChild(form);
    box.appendChild(table([['E-mail', function (u) { return u.email; }], ['Role', function (u) { return u.role; }],
      ['Disabled', function (u) { return u.disabled ? 'yes' : 'no'; }], ['Id', function (u) { return u.id; }]], users, 'users-table'));
  },
  jobs: async function (box) {
    var jobs = await api('/admin/jobs');
    box.appendChild(table([['Job', function (j) { return j.name; }], ['Interval', function (j) { return j.interval; }],
      ['Runs', function (j) { return j.runs; }], ['Failures', function (j) { return j.failures; }],
      ['State', function (j) { return j.running ? 'running' : j.paused ? 'paused' : 'idle'; }],
      ['Last', function (j) { return j.lastDurationMs !== undefined ? j.lastDurationMs + ' ms' : null; }],
      ['Next in', function (j) { return j.nextRunInSeconds !== undefined ? j.nextRunInSeconds + ' s' : null; }],
      ['Last error', function (j) { return j.lastError; }]], jobs, 'jobs-table'));
  },
  torrents: async function (box) {
    var torrents = await api('/admin/torrents');
    box.appendChild(table([['Name', function (t) { return t.name; }], ['Size', function (t) { return bytes(t.size); }],
      ['Progress', function (t) { return Math.round(100 * (t.progress || 0)) + ' %'; }],
      ['Down', function (t) { return bytes(t.downloadRate) + '/s'; }], ['Up', function (t) { return bytes(t.uploadRate) + '/s'; }],
      ['Peers', function (t) { return t.peers; }], ['Streams', function (t) { return t.streams; }],
      ['Error', function (t) { return t.error || t.trackerError; }]], torrents, 'torrents-table'));
  },
  audit: async function (box) {
    var audit = await api('/admin/audit?limit=100');
    box.appendChild(h('p', { class: 'muted', text: audit.total + ' events, newest first' }));
    box.appendChild(table([['Time', function (a) { return when(a.timestamp || a.createdAt); }], ['Event', function (a) { return a.eventType; }],
      ['Severity', function (a) { return a.severity; }], ['User', function (a) { return a.userEmail || a.user; }],
      ['Address', function (a) { return a.ipAddress; }], ['Details', function (a) { return a.description || a.message || (a.path ? a.method + ' ' + a.path : null); }]],
      audit.items || [], 'audit-table'));
  },
  status: async function (box) {
    var status = await api('/status');
    var services = status.services || {};
    box.appendChild(h('p', {}, 'VPN: ' + (status.vpn ? (status.vpn.disabled ? 'disabled' : status.vpn.isVpnActive ? 'active' : 'down') : 'unknown')));
    box.appendChild(table([['Service', function (k) { return k; }], ['State', function (k) { return services[k].status || services[k].state || JSON.stringify(services[k]); }]],
      Object.keys(services), 'status-table'));
  }
};

export async function render(ctx) {
  var root = ctx.root;
  var tab = ctx.params.tab && views[ctx.params.tab] ? ctx.params.tab : 'users';
  var tabs = h('nav', { class: 'tabs', 'data-focus-group': 'admin-tabs' }, TABS.map(function (t) {
    return h('a', { href: '#/admin/' + t[0], class: 'chip' + (t[0] === tab ? ' active' : ''), id: 'tab-' + t[0], text: t[1] });
  }));
  var box = h('div', { class: 'admin-body' }, [spinner()]);
  root.appendChild(h('div', { class: 'admin' }, [h('h1', { text: 'Administration' }), tabs, box]));
  try {
    clear(box);
    await views[tab](box);
  } catch (e) {
    clear(box).appendChild(errorBox(e.status === 503 ? 'The streaming engine is not running.' : e.message, function () { clear(root); render(ctx); }));
  }
  if (ctx.isCurrent()) focus(tabs.querySelector('.active'));
}
