// API client: X-Session-Id header + same-origin cookies; on a 401 refreshes the session once
// and retries. The current profile (session id) lives in localStorage.
var KEY = 'miauflix.session';
var memorySession = null;
var refreshing = null;
var unauthorizedHandler = null;

export function getSession() {
  try { return localStorage.getItem(KEY) || memorySession; } catch (e) { return memorySession; }
}

export function setSession(session) {
  memorySession = session || null;
  try {
    if (session) localStorage.setItem(KEY, session); else localStorage.removeItem(KEY);
  } catch (e) { /* private mode: memory only */ }
}

export function onUnauthorized(handler) { unauthorizedHandler = handler; }

export function ApiError(status, body, message) {
  var err = new Error(message || ('HTTP ' + status));
  err.name = 'ApiError';
  err.status = status;
  err.body = body;
  return err;
}

function messageOf(status, body) {
  if (body && typeof body === 'object') {
    if (typeof body.error === 'string') return body.message && body.error !== body.message ? body.message : body.error;
    if (body.error && body.error.message) return body.error.message;
    if (body.message) return body.message;
  }
  if (typeof body === 'string' && body) return body;
  if (status === 0) return 'The server cannot be reached.';
  return 'Request failed (' + status + ')';
}

async function send(path, opts, session) {
  var headers = { Accept: 'application/json' };
  if (session) headers['X-Session-Id'] = session;
  var init = { method: opts.method || 'GET', headers: headers, credentials: 'same-origin' };
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  var response;
  try {
    response = await fetch('/api' + path, init);
  } catch (e) {
    throw ApiError(0, null, 'The server cannot be reached.');
  }
  var text = await response.text();
  var body = null;
  if (text) {
    try { body = JSON.parse(text); } catch (e) { body = text; }
  }
  return { status: response.status, ok: response.ok, body: body, headers: response.headers };
}

export function refresh(session) {
  if (!refreshing) {
    refreshing = send('/auth/refresh/' + encodeURIComponent(session), { method: 'POST' }, null)
      .then(function (r) { return r.ok; }, function () { return false; })
      .then(function (ok) { refreshing = null; return ok; });
  }
  return refreshing;
}

// api('/movies/680') -> parsed JSON; throws ApiError {status, body, message}.
// opts: method, body, anonymous (no session header), raw (return {status, body}).
export async function api(path, opts) {
  opts = opts || {};
  var session = opts.anonymous ? null : (opts.session || getSession());
  var r = await send(path, opts, session);
  if (r.status === 401 && session && !opts.anonymous) {
    if (await refresh(session)) r = await send(path, opts, session);
    if (r.status === 401 && !opts.session && unauthorizedHandler) unauthorizedHandler(session);
  }
  if (opts.raw) return r;
  if (!r.ok) throw ApiError(r.status, r.body, messageOf(r.status, r.body));
  return r.body;
}

export function get(path, opts) { return api(path, opts); }
export function post(path, body, opts) {
  return api(path, Object.assign({}, opts || {}, { method: 'POST', body: body === undefined ? {} : body }));
}
