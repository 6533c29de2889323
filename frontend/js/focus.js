// Spatial navigation for remotes and keyboards: arrow keys move the focus to the nearest
// focusable element in that direction; a [data-focus-group] (a row of cards, a season bar)
// remembers its last focused element and gives it back when the focus re-enters the group.
var SELECTOR = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea, [tabindex="0"]';
var scope = null; // an element that traps the focus (the player overlay), or null

export var KEYS = {
  LEFT: [37, 'ArrowLeft', 'Left'], UP: [38, 'ArrowUp', 'Up'], RIGHT: [39, 'ArrowRight', 'Right'], DOWN: [40, 'ArrowDown', 'Down'],
  ENTER: [13, 'Enter'], BACK: [27, 'Escape', 'Esc', 10009, 'GoBack', 'BrowserBack', 461]
};

export function is(event, list) {
  return list.indexOf(event.key) >= 0 || list.indexOf(event.keyCode) >= 0;
}

export function setScope(el) { scope = el; }

function visible(el) {
  if (el.closest('[hidden]') || el.closest('.inert')) return false;
  var r = el.getBoundingClientRect();
  if (r.width <= 0 || r.height <= 0) return false;
  var style = window.getComputedStyle(el);
  return style.visibility !== 'hidden' && style.display !== 'none';
}

export function focusables(root) {
  root = root || scope || document.body;
  return Array.prototype.filter.call(root.querySelectorAll(SELECTOR), visible);
}

function groupOf(el) { return el && el.closest ? el.closest('[data-focus-group]') : null; }

export function focus(el) {
  if (!el) return false;
  try { el.focus({ preventScroll: true }); } catch (e) { el.focus(); }
  reveal(el);
  return document.activeElement === el;
}

function reveal(el) {
  // Cards: keep the row in the middle of the screen and the card inside its track.
  var track = el.closest('.track');
  if (track) {
    var tr = track.getBoundingClientRect(), er = el.getBoundingClientRect();
    var pad = 48;
    if (er.left < tr.left + pad) track.scrollLeft -= (tr.left + pad - er.left);
    else if (er.right > tr.right - pad) track.scrollLeft += (er.right - tr.right + pad);
  }
  var r = el.getBoundingClientRect();
  var vh = window.innerHeight || document.documentElement.clientHeight;
  var margin = Math.min(160, vh / 5);
  if (r.top < margin || r.bottom > vh - margin / 2) {
    var target = window.pageYOffset + r.top - (vh - r.height) / 2;
    if (el.closest('.topbar') || r.top + window.pageYOffset < vh / 2) target = 0;
    window.scrollTo(0, Math.max(0, target));
  }
}

function intervalGap(a1, a2, b1, b2) {
  if (b2 < a1) return a1 - b2;
  if (b1 > a2) return b1 - a2;
  return 0;
}

export function move(direction) {
  var current = document.activeElement;
  var all = focusables();
  if (!all.length) return false;
  if (!current || current === document.body || all.indexOf(current) < 0) return focus(preferred(all));
  var c = current.getBoundingClientRect();
  var best = null, bestScore = Infinity;
  for (var pass = 0; pass < 2 && !best; pass++) {
    all.forEach(function (el) {
      if (el === current) return;
      var r = el.getBoundingClientRect();
      var primary, orthogonal, ok;
      var cx = (c.left + c.right) / 2, cy = (c.top + c.bottom) / 2;
      var x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
      if (direction === 'left' || direction === 'right') {
        ok = direction === 'right' ? (pass ? x > cx + 1 : r.left >= c.right - 2) : (pass ? x < cx - 1 : r.right <= c.left + 2);
        primary = direction === 'right' ? r.left - c.right : c.left - r.right;
        orthogonal = intervalGap(c.top, c.bottom, r.top, r.bottom);
        if (ok && orthogonal > 0 && pass === 0) ok = false; // stay on the same line first
      } else {
        ok = direction === 'down' ? (pass ? y > cy + 1 : r.top >= c.bottom - 2) : (pass ? y < cy - 1 : r.bottom <= c.top + 2);
        primary = direction === 'down' ? r.top - c.bottom : c.top - r.bottom;
        orthogonal = intervalGap(c.left, c.right, r.left, r.right);
      }
      if (!ok) return;
      var score = Math.max(0, primary) + orthogonal * 3 + Math.abs(direction === 'left' || direction === 'right' ? y - cy : x - cx) * 0.05;
      if (score < bestScore) { bestScore = score; best = el; }
    });
  }
  if (!best) return false;
  var from = groupOf(current), to = groupOf(best);
  if (to && to !== from && to._lastFocus && to.contains(to._lastFocus) && visible(to._lastFocus)) best = to._lastFocus;
  return focus(best);
}

function preferred(all) {
  var auto = all.filter(function (el) { return el.hasAttribute('data-autofocus'); });
  if (auto.length) return auto[0];
  var main = all.filter(function (el) { return !el.closest('.topbar'); });
  return main[0] || all[0];
}

// Focus the screen's preferred element (data-autofocus, else the first one outside the bar).
export function focusFirst(root) {
  var all = focusables(root);
  if (all.length) focus(preferred(all));
}

export function install(onBack) {
  document.addEventListener('focusin', function (e) {
    var g = groupOf(e.target);
    if (g) g._lastFocus = e.target;
  });
  document.addEventListener('keydown', function (e) {
    if (e.defaultPrevented) return;
    var t = e.target;
    var typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA') && t.type !== 'checkbox' && t.type !== 'radio';
    var select = t && t.tagName === 'SELECT';
    var dir = is(e, KEYS.LEFT) ? 'left' : is(e, KEYS.RIGHT) ? 'right' : is(e, KEYS.UP) ? 'up' : is(e, KEYS.DOWN) ? 'down' : null;
    if (dir) {
      if (typing && (dir === 'left' || dir === 'right')) {
        // Leave a text field sideways only from its ends.
        var atStart = t.selectionStart === 0 && t.selectionEnd === 0;
        var atEnd = t.selectionStart === t.value.length;
        if ((dir === 'left' && !atStart) || (dir === 'right' && !atEnd)) return;
      }
      if (select && (dir === 'up' || dir === 'down')) return;
      if (move(dir)) e.preventDefault();
      else if (dir === 'up' || dir === 'down') e.preventDefault();
      return;
    }
    if (is(e, KEYS.ENTER)) {
      if (t && t !== document.body && t.getAttribute('tabindex') === '0' && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(t.tagName)) {
        e.preventDefault();
        t.click();
      }
      return;
    }
    var back = is(e, KEYS.BACK) || ((e.key === 'Backspace' || e.keyCode === 8) && !typing);
    if (back) {
      if (typing && (e.key === 'Escape' || e.keyCode === 27)) { t.blur(); }
      e.preventDefault();
      onBack();
    }
  });
}
