// Tiny DOM helpers (no framework, ES2017 at most so older TV browsers run it).
export function h(tag, attrs, children) {
  var el = document.createElement(tag);
  if (attrs) {
    Object.keys(attrs).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === 'class') el.className = value;
      else if (key === 'text') el.textContent = value;
      else if (key.indexOf('on') === 0 && typeof value === 'function') el.addEventListener(key.slice(2), value);
      else if (key === 'dataset') Object.keys(value).forEach(function (k) { el.dataset[k] = value[k]; });
      else if (value === true) el.setAttribute(key, '');
      else el.setAttribute(key, String(value));
    });
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  if (children === null || children === undefined || children === false) return el;
  if (!Array.isArray(children)) children = [children];
  children.forEach(function (child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) append(el, child);
    else if (typeof child === 'string' || typeof child === 'number') el.appendChild(document.createTextNode(String(child)));
    else el.appendChild(child);
  });
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// TMDB answers carry /t/p/original/ URLs; cards ask for a fitting size instead.
export function tmdbImage(url, size) {
  if (!url) return null;
  return String(url).replace(/\/t\/p\/[a-z0-9]+\//, '/t/p/' + size + '/');
}

export function formatTime(seconds) {
  if (!isFinite(seconds) || seconds < 0) seconds = 0;
  seconds = Math.floor(seconds);
  var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  var mm = (h > 0 && m < 10 ? '0' : '') + m, ss = (s < 10 ? '0' : '') + s;
  return (h > 0 ? h + ':' : '') + mm + ':' + ss;
}

export function formatRuntime(minutes) {
  if (!minutes) return null;
  var h = Math.floor(minutes / 60), m = minutes % 60;
  return (h ? h + ' h ' : '') + (m ? m + ' min' : '');
}

export function year(date) {
  return date ? String(date).slice(0, 4) : null;
}

export function titleOf(item) {
  return item.title || item.name || 'Untitled';
}

export function isShow(item) {
  var t = String(item._type || item.type || '');
  return t === 'show' || t === 'tvshow' || t === 'tv' || t === 'episode';
}

var toastTimer = null;
export function toast(message) {
  var el = document.getElementById('toast');
  if (!el) return;
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(function () { el.hidden = true; }, 4000);
}

export function spinner() {
  return h('div', { class: 'spinner', role: 'progressbar', 'aria-label': 'Loading' });
}

export function errorBox(message, retry) {
  return h('div', { class: 'error-box', role: 'alert' }, [
    h('p', { text: message }),
    retry ? h('button', { class: 'btn', type: 'button', onclick: retry, text: 'Try again' }) : null
  ]);
}
