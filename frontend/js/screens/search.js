// Search with type-ahead and a results grid.
import { h, clear, spinner } from '../dom.js';
import { api } from '../api.js';
import { card } from '../cards.js';
import { focus } from '../focus.js';

export function render(ctx) {
  var root = ctx.root;
  var timer = null, seq = 0;
  var input = h('input', { type: 'search', id: 'search-input', class: 'search-input', placeholder: 'Search movies and shows', autocomplete: 'off', value: ctx.query.q || '', 'aria-label': 'Search' });
  var grid = h('div', { class: 'grid', id: 'search-results', 'data-focus-group': 'results' });
  var status = h('p', { class: 'muted', id: 'search-status' });
  root.appendChild(h('div', { class: 'search' }, [input, status, grid]));

  async function run(q) {
    var id = ++seq;
    clear(grid);
    if (q.length < 2) { status.textContent = q ? 'Type at least two letters.' : ''; return; }
    status.textContent = '';
    grid.appendChild(spinner());
    try {
      var answer = await api('/search?q=' + encodeURIComponent(q));
      if (id !== seq || !ctx.isCurrent()) return;
      clear(grid);
      (answer.results || []).forEach(function (item) { grid.appendChild(card(item)); });
      status.textContent = answer.results && answer.results.length ? answer.results.length + ' results' + (answer.complete === false ? ' (online search unavailable)' : '') : 'No results for “' + q + '”.';
    } catch (e) {
      if (id !== seq) return;
      clear(grid);
      status.textContent = e.message;
    }
  }
  input.addEventListener('input', function () {
    clearTimeout(timer);
    var q = input.value.trim();
    timer = setTimeout(function () {
      try { history.replaceState(null, '', '#/search' + (q ? '?q=' + encodeURIComponent(q) : '')); } catch (e) { /* old browser */ }
      run(q);
    }, 350);
  });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter') { clearTimeout(timer); run(input.value.trim()); }
  });
  focus(input);
  if (input.value) run(input.value.trim());
  return { cleanup: function () { clearTimeout(timer); seq++; } };
}
