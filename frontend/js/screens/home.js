// Home: Continue Watching first, then one row per list, then the Trakt watchlist when linked.
import { h, clear, spinner, errorBox } from '../dom.js';
import { api } from '../api.js';
import { row } from '../cards.js';
import { focusFirst } from '../focus.js';

export async function render(ctx) {
  var root = ctx.root;
  var page = h('div', { class: 'home' });
  var loading = spinner();
  root.appendChild(page);
  page.appendChild(loading);
  var focused = false;

  // The first row with cards gets the focus once every row above it has answered.
  function place(slot, section) {
    if (section) slot.appendChild(section);
    slot.dataset.done = '1';
    if (focused || !ctx.isCurrent()) return;
    var active = document.activeElement;
    if (active && active !== document.body && !active.closest('.topbar')) { focused = true; return; }
    var all = page.querySelectorAll('.slot');
    for (var i = 0; i < all.length; i++) {
      if (!all[i].dataset.done) return;
      if (all[i].querySelector('.card')) { focused = true; focusFirst(all[i]); return; }
    }
  }

  var lists;
  try {
    var answers = await Promise.all([
      api('/lists/continue-watching').catch(function () { return null; }),
      api('/lists')
    ]);
    lists = answers[1] || [];
    var cw = answers[0];
    if (!ctx.isCurrent()) return;
    loading.remove();
    var cwSlot = h('div', { class: 'slot' });
    page.appendChild(cwSlot);
    if (cw && cw.results && cw.results.length) cwSlot.appendChild(row('Continue Watching', 'continue-watching', cw.results, { preferStill: true }));
    cwSlot.dataset.done = '1';
  } catch (e) {
    clear(page).appendChild(errorBox('Could not load the catalog: ' + e.message, function () { clear(root); render(ctx); }));
    focusFirst(page);
    return;
  }
  var slots = lists.map(function (list) {
    var slot = h('div', { class: 'slot', 'data-slug': list.slug });
    page.appendChild(slot);
    return slot;
  });
  var traktSlot = h('div', { class: 'slot' });
  page.appendChild(traktSlot);

  // At most three list requests at a time, rows appear in list order as they arrive.
  var next = 0;
  async function worker() {
    while (next < lists.length && ctx.isCurrent()) {
      var i = next++;
      try {
        var answer = await api('/list/' + encodeURIComponent(lists[i].slug));
        if (!ctx.isCurrent()) return;
        place(slots[i], answer.results && answer.results.length ? row(lists[i].name, lists[i].slug, answer.results) : null);
      } catch (e) {
        if (!ctx.isCurrent()) return;
        place(slots[i], e.status !== 404 ? h('p', { class: 'muted row-error', text: lists[i].name + ': ' + e.message }) : null);
      }
    }
  }
  await Promise.all([worker(), worker(), worker()]);
  if (!ctx.isCurrent()) return;
  try {
    var trakt = await api('/lists/trakt-watchlist');
    if (ctx.isCurrent() && trakt.linked && trakt.results && trakt.results.length) place(traktSlot, row('Trakt Watchlist', 'trakt-watchlist', trakt.results));
  } catch (e) { /* Trakt is optional */ }
  traktSlot.dataset.done = '1';
  if (!page.querySelector('.card') && ctx.isCurrent()) {
    page.appendChild(h('p', { class: 'muted empty', text: 'Nothing here yet — the catalog fills as the server fetches lists.' }));
  }
  if (!focused && ctx.isCurrent()) { place(traktSlot, null); if (!focused) focusFirst(page); }
}
