// /#/device?code=XXXXXXXX — approve a TV's sign-in request from a phone.
import { h, clear, spinner } from '../dom.js';
import { api, post } from '../api.js';
import { state, navigate } from '../app.js';
import { focusFirst, focus } from '../focus.js';

function normalize(code) { return String(code || '').toUpperCase().replace(/[^A-Z0-9]/g, ''); }

export function render(ctx) {
  var root = ctx.root;
  if (!state.user) {
    navigate('/login?next=' + encodeURIComponent('/device' + (ctx.query.code ? '?code=' + normalize(ctx.query.code) : '')), true);
    return;
  }
  var input = h('input', { type: 'text', id: 'device-code', class: 'code-input', maxlength: '12', autocomplete: 'off', autocapitalize: 'characters', placeholder: 'XXXX-XXXX', value: ctx.query.code ? normalize(ctx.query.code) : '', 'aria-label': 'Code shown on the TV' });
  var result = h('div', { class: 'device-result', id: 'device-result' });
  var form = h('form', { class: 'panel device-approve' }, [
    h('h1', { text: 'Sign in a TV' }),
    h('p', { class: 'muted', text: 'Signed in as ' + state.user.email + '. Enter the code shown on the TV.' }),
    input,
    h('button', { type: 'submit', class: 'btn btn-primary', text: 'Continue' }),
    result
  ]);
  root.appendChild(h('div', { class: 'center-screen' }, [form]));

  async function lookup() {
    var code = normalize(input.value);
    clear(result);
    if (code.length !== 8) { result.appendChild(h('p', { class: 'form-error', text: 'The code has 8 letters and digits.' })); return; }
    result.appendChild(spinner());
    var info;
    try {
      info = await api('/auth/device/' + code);
    } catch (e) {
      clear(result).appendChild(h('p', { class: 'form-error', text: e.status === 404 ? 'This code is unknown or expired.' : e.message }));
      return;
    }
    clear(result);
    if (info.status && info.status !== 'pending') {
      result.appendChild(h('p', { text: 'This request was already ' + info.status + '.' }));
      return;
    }
    function decide(action) {
      return async function () {
        try {
          var answer = await post('/auth/device/' + code + '/' + action, {});
          clear(result).appendChild(h('p', { class: 'success', id: 'device-done', text: answer.status === 'approved' ? 'Approved — the TV signs in now.' : 'Denied.' }));
        } catch (e) {
          clear(result).appendChild(h('p', { class: 'form-error', text: e.status === 409 ? 'This request was already decided.' : e.message }));
        }
      };
    }
    var approve = h('button', { type: 'button', class: 'btn btn-primary', id: 'device-approve', text: 'Approve', onclick: decide('approve') });
    result.appendChild(h('dl', { class: 'device-info' }, [
      h('dt', { text: 'Device' }), h('dd', { text: info.deviceName || 'Unnamed device' }),
      h('dt', { text: 'Address' }), h('dd', { text: info.ipAddress || '—' }),
      h('dt', { text: 'Browser' }), h('dd', { text: info.userAgent || '—' }),
      h('dt', { text: 'Requested' }), h('dd', { text: info.createdAt ? new Date(info.createdAt).toLocaleString() : '—' })
    ]));
    result.appendChild(h('div', { class: 'actions' }, [approve,
      h('button', { type: 'button', class: 'btn', id: 'device-deny', text: 'Deny', onclick: decide('deny') })]));
    focus(approve);
  }
  form.addEventListener('submit', function (e) { e.preventDefault(); lookup(); });
  if (input.value) lookup(); else focusFirst(root);
}
