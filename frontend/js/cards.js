// Backdrop cards and rows of them.
import { h, tmdbImage, titleOf, isShow, year } from './dom.js';

export function hrefOf(item) {
  var id = item.tmdbId || item.id;
  if (item.type === 'episode' && item.season && item.episode) return '#/show/' + id + '?season=' + item.season;
  return (isShow(item) ? '#/show/' : '#/movie/') + id;
}

export function card(item, opts) {
  opts = opts || {};
  var title = titleOf(item);
  var image = item.still && opts.preferStill ? tmdbImage(item.still, 'w780') : tmdbImage(item.backdrop || item.poster, 'w780');
  var subtitle = item.type === 'episode' && item.season
    ? 'S' + item.season + ' E' + item.episode + (item.episodeName ? ' · ' + item.episodeName : '') + (item.next ? ' · Next' : '')
    : year(item.releaseDate || item.firstAirDate) || (item.year ? String(item.year) : null);
  var art = h('div', { class: 'card-art' }, [
    image ? h('img', { class: 'card-img', src: image, alt: '', loading: 'lazy', decoding: 'async', onerror: function () { this.remove(); } }) : null,
    h('span', { class: 'card-fallback', text: title })
  ]);
  if (item.duration && item.position) {
    var bar = h('span', { class: 'card-progress-bar' });
    bar.style.width = Math.min(100, Math.max(2, 100 * item.position / item.duration)) + '%';
    art.appendChild(h('span', { class: 'card-progress' }, [bar]));
  }
  return h('a', {
    href: opts.href || hrefOf(item), class: 'card', 'data-tmdb-id': item.tmdbId || item.id,
    'data-kind': isShow(item) ? 'show' : 'movie', 'aria-label': title
  }, [art, h('span', { class: 'card-title', text: title }), subtitle ? h('span', { class: 'card-sub', text: subtitle }) : null]);
}

export function row(name, slug, items, opts) {
  var track = h('div', { class: 'track' }, items.map(function (item) { return card(item, opts); }));
  return h('section', { class: 'row', 'data-focus-group': 'row-' + slug, 'data-slug': slug }, [
    h('h2', { class: 'row-title', text: name }), track
  ]);
}
