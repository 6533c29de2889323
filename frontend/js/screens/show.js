// Show detail: season selector, episodes with stills and watched/progress marks.
import { h, clear, spinner, errorBox, tmdbImage, formatRuntime, year } from '../dom.js';
import { api } from '../api.js';
import { isGuest } from '../app.js';
import { focusFirst, focus } from '../focus.js';
import { hero, facts } from './movie.js';

export async function render(ctx) {
  var root = ctx.root;
  var id = ctx.params.id;
  root.appendChild(spinner());
  var show, progress = [];
  try {
    var answers = await Promise.all([
      api('/shows/' + id),
      api('/progress?showId=' + id).catch(function () { return { progress: [] }; })
    ]);
    show = answers[0];
    progress = (answers[1] && answers[1].progress) || [];
  } catch (e) {
    if (!ctx.isCurrent()) return;
    clear(root).appendChild(errorBox(e.status === 404 ? 'This show was not found.' : 'Could not load the show: ' + e.message,
      function () { clear(root); render(ctx); }));
    focusFirst(root);
    return;
  }
  if (!ctx.isCurrent()) return;
  clear(root);
  var seasons = (show.seasons || []).filter(function (s) { return s.seasonNumber > 0; });
  if (!seasons.length) seasons = show.seasons || [];
  var wanted = Number(ctx.query.season);
  if (!wanted && progress.length) wanted = progress[0].season;
  var selected = seasons.filter(function (s) { return s.seasonNumber === wanted; })[0] || seasons[0];
  var seasonBar = h('div', { class: 'seasons', 'data-focus-group': 'seasons', role: 'tablist' });
  var episodes = h('div', { class: 'episodes', id: 'episodes' });
  var runtime = show.episodeRunTime && show.episodeRunTime[0];

  function progressOf(season, episode) {
    return progress.filter(function (p) { return p.season === season && p.episode === episode; })[0];
  }

  async function openSeason(season, focusList) {
    selected = season;
    Array.prototype.forEach.call(seasonBar.children, function (b) {
      b.classList.toggle('active', Number(b.dataset.season) === season.seasonNumber);
      b.setAttribute('aria-selected', Number(b.dataset.season) === season.seasonNumber ? 'true' : 'false');
    });
    try { history.replaceState(null, '', '#/show/' + id + '?season=' + season.seasonNumber); } catch (e) { /* old browser */ }
    clear(episodes).appendChild(spinner());
    var detail;
    try {
      detail = await api('/shows/' + id + '/seasons/' + season.seasonNumber);
    } catch (e) {
      if (selected !== season) return;
      clear(episodes).appendChild(errorBox('Could not load ' + season.name + ': ' + e.message, function () { openSeason(season); }));
      return;
    }
    if (selected !== season || !ctx.isCurrent()) return;
    clear(episodes);
    (detail.episodes || []).forEach(function (ep) {
      var p = progressOf(season.seasonNumber, ep.episodeNumber);
      var still = tmdbImage(ep.still, 'w300');
      var art = h('div', { class: 'ep-art' }, [
        still ? h('img', { src: still, alt: '', loading: 'lazy', onerror: function () { this.remove(); } }) : null,
        h('span', { class: 'ep-number', text: String(ep.episodeNumber) })
      ]);
      if (p && p.watched) art.appendChild(h('span', { class: 'watched-mark', title: 'Watched', text: '✓' }));
      else if (p && p.duration) {
        var bar = h('span', { class: 'card-progress-bar' });
        bar.style.width = Math.min(100, 100 * p.position / p.duration) + '%';
        art.appendChild(h('span', { class: 'card-progress' }, [bar]));
      }
      var body = h('div', { class: 'ep-body' }, [
        h('h3', { text: ep.episodeNumber + '. ' + (ep.name || 'Episode ' + ep.episodeNumber) }),
        h('p', { class: 'muted', text: [ep.airDate, formatRuntime(ep.runtime)].filter(Boolean).join(' · ') }),
        h('p', { class: 'ep-overview', text: ep.overview || '' })
      ]);
      var attrs = { class: 'episode' + (p && p.watched ? ' watched' : ''), 'data-episode': ep.episodeNumber };
      if (isGuest()) attrs.tabindex = '0';
      else {
        attrs.href = '#/play/show/' + id + '/' + season.seasonNumber + '/' + ep.episodeNumber +
          (p && !p.watched && p.position > 5 ? '?resume=' + Math.floor(p.position) : '');
      }
      episodes.appendChild(h(isGuest() ? 'div' : 'a', attrs, [art, body]));
    });
    if (!episodes.children.length) episodes.appendChild(h('p', { class: 'muted', text: 'No episodes listed yet.' }));
    if (focusList) focusFirst(episodes);
  }

  seasons.forEach(function (s) {
    seasonBar.appendChild(h('button', {
      type: 'button', class: 'chip', 'data-season': s.seasonNumber, role: 'tab', text: s.name || 'Season ' + s.seasonNumber,
      onclick: function () { openSeason(s); }
    }));
  });

  root.appendChild(hero(show, [
    h('h1', { class: 'title', id: 'detail-title', text: show.title || show.name }),
    facts([year(show.firstAirDate), seasons.length + (seasons.length === 1 ? ' season' : ' seasons'), formatRuntime(runtime),
      (show.genres || []).join(', '), show.rating ? '★ ' + Number(show.rating).toFixed(1) : null]),
    h('p', { class: 'overview', text: show.overview || '' }),
    isGuest() ? h('p', { class: 'muted', id: 'guest-note', text: 'Guest profiles can browse but not watch.' }) : null,
    seasonBar
  ]));
  root.appendChild(h('div', { class: 'season-body' }, [episodes]));
  if (selected) {
    await openSeason(selected);
    var button = seasonBar.querySelector('[data-season="' + selected.seasonNumber + '"]');
    if (ctx.isCurrent()) focus(button);
  } else {
    episodes.appendChild(h('p', { class: 'muted', text: 'No seasons yet.' }));
  }
}
