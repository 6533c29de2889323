// Sign in with e-mail + password, or with a code approved on a phone (device login).
import { h, clear, spinner } from '../dom.js';
import { api, post } from '../api.js';
import { signIn, navigate } from '../app.js';
import { focusFirst } from '../focus.js';

function nextOf(query) {
  var next = query.next || '/';
  return next.charAt(0) === '/' && next.indexOf('/login') !== 0 ? next : '/';
}

function deviceName() {
  var ua = navigator.userAgent || '';
  var kind = /Tizen/i.test(ua) ? 'Samsung TV' : /Web0S|webOS/i.test(ua) ? 'LG TV' : /Android/i.test(ua) ? 'Android' :
    /iPhone|iPad/i.test(ua) ? 'iOS' : /Mac OS/i.test(ua) ? 'Mac' : /Windows/i.test(ua) ? 'Windows' : /Linux/i.test(ua) ? 'Linux' : 'Browser';
  return 'Miauflix on ' + kind;
}

export function render(ctx) {
  var root = ctx.root;
  var timer = null;
  var stopped = false;

  function stop() { stopped = true; clearTimeout(timer); }

  function showPassword() {
    stop(); stopped = false;
    clear(root);
    var error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    var email = h('input', { type: 'email', name: 'email', id: 'login-email', autocomplete: 'username', required: true, placeholder: 'you@example.com', 'data-autofocus': true });
    var password = h('input', { type: 'password', name: 'password', id: 'login-password', autocomplete: 'current-password', required: true });
    var submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'login-submit', text: 'Sign in' });
    var form = h('form', { class: 'panel login-form', novalidate: true }, [
      h('h1', { text: 'Sign in to Miauflix' }),
      h('label', { for: 'login-email', text: 'E-mail' }), email,
      h('label', { for: 'login-password', text: 'Password' }), password,
      error,
      h('div', { class: 'actions' }, [
        submit,
        h('button', { type: 'button', class: 'btn', id: 'login-with-code', text: 'Sign in with a code', onclick: showCode })
      ]),
      ctx.query.add ? h('a', { href: '#/profiles', class: 'link', text: 'Back to profiles' }) : null
    ]);
    form.addEventListener('submit', async function (e) {
      e.preventDefault();
      error.hidden = true;
      if (!email.value || !password.value) { error.textContent = 'Enter your e-mail and password.'; error.hidden = false; return; }
      submit.disabled = true;
      submit.textContent = 'Signing in…';
      try {
        var answer = await post('/auth/login', { email: email.value.trim(), password: password.value }, { anonymous: true });
        await signIn(answer);
        navigate(nextOf(ctx.query), true);
      } catch (err) {
        error.textContent = err.status === 401 ? 'Wrong e-mail or password.' : err.status === 429 ? 'Too many attempts — wait a moment and try again.' : err.message;
        error.hidden = false;
        submit.disabled = false;
        submit.textContent = 'Sign in';
        password.focus();
      }
    });
    root.appendChild(h('div', { class: 'center-screen' }, [h('div', { class: 'logo-big', text: 'Miauflix' }), form]));
    focusFirst(root);
  }

  async function showCode() {
    clear(root);
    var box = h('div', { class: 'panel device-panel' }, [h('h1', { text: 'Sign in with a code' }), spinner()]);
    root.appendChild(h('div', { class: 'center-screen' }, [box]));
    var answer;
    try {
      answer = await post('/auth/device', { deviceName: deviceName() }, { anonymous: true });
    } catch (err) {
      clear(box).appendChild(h('p', { class: 'form-error', text: 'Could not get a code: ' + err.message }));
      box.appendChild(h('button', { class: 'btn', type: 'button', text: 'Back', onclick: showPassword, 'data-autofocus': true }));
      focusFirst(root);
      return;
    }
    if (stopped || !ctx.isCurrent()) return;
    var qr = h('div', { class: 'qr', 'aria-label': 'QR code' });
    qr.innerHTML = answer.qrCode; // SVG drawn by our server
    var status = h('p', { class: 'muted', id: 'device-status', text: 'Waiting for approval…' });
    clear(box);
    box.appendChild(h('h1', { text: 'Sign in with a code' }));
    box.appendChild(h('div', { class: 'device-grid' }, [
      qr,
      h('div', {}, [
        h('p', { text: 'On your phone, open' }),
        h('p', { class: 'verify-url', text: answer.verificationUrl }),
        h('p', { text: 'and enter this code:' }),
        h('p', { class: 'user-code', id: 'user-code', text: answer.userCode }),
        status
      ])
    ]));
    box.appendChild(h('div', { class: 'actions' }, [
      h('button', { type: 'button', class: 'btn', text: 'Use e-mail and password', onclick: showPassword, 'data-autofocus': true })
    ]));
    focusFirst(root);
    var interval = Math.max(1, answer.interval || 5) * 1000;
    var deadline = Date.now() + (answer.expiresIn || 600) * 1000;
    async function poll() {
      if (stopped || !ctx.isCurrent()) return;
      if (Date.now() > deadline) { status.textContent = 'The code expired.'; return; }
      var r;
      try {
        r = await api('/auth/device/token', { method: 'POST', body: { deviceCode: answer.deviceCode }, anonymous: true, raw: true });
      } catch (e) { r = { status: 0, body: null }; }
      if (stopped || !ctx.isCurrent()) return;
      if (r.status === 200 && r.body && r.body.session) {
        await signIn(r.body);
        navigate(nextOf(ctx.query), true);
        return;
      }
      var code = r.body && r.body.error;
      if (r.status === 429 || code === 'slow_down') interval += 5000;
      else if (code === 'access_denied') { status.textContent = 'The request was denied.'; return; }
      else if (code === 'expired_token') { status.textContent = 'The code expired.'; return; }
      else if (r.status !== 400 && r.status !== 0) { status.textContent = 'Sign-in failed: ' + (r.body && (r.body.message || r.body.error) || r.status); return; }
      timer = setTimeout(poll, interval);
    }
    timer = setTimeout(poll, interval);
  }

  if (ctx.query.code === '1') showCode(); else showPassword();
  return { cleanup: stop };
}
