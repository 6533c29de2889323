// Movie detail: backdrop, facts, qualities from sources, Watch Now / Resume.
import { h, clear, spinner, errorBox, tmdbImage, formatRuntime, formatTime, year } from '../dom.js';
import { api } from '../api.js';
import { isGuest, navigate } from '../app.js';
import { focusFirst } from '../focus.js';

var ORDER = ['8K', '4K', '2K', 'FHD', 'HD', 'SD'];

export function qualitiesOf(sources) {
  var seen = {};
  (sources || []).forEach(function (s) { if (s.quality) seen[s.quality] = true; });
  return Object.keys(seen).sort(function (a, b) {
    var ia = ORDER.indexOf(a), ib = ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
}

export function hero(item, children) {
  var backdrop = tmdbImage(item.backdrop || item.poster, 'w1280');
  var bg = h('div', { class: 'hero-bg' });
  if (backdrop) {
    var img = h('img', { class: 'hero-img', src: backdrop, alt: '', onerror: function () { this.remove(); } });
    bg.appendChild(img);
  }
  return h('div', { class: 'detail' }, [bg, h('div', { class: 'hero-shade' }), h('div', { class: 'detail-body' }, children)]);
}

export function facts(parts) {
  return h('p', { class: 'facts' }, parts.filter(Boolean).map(function (p) { return h('span', { class: 'fact', text: p }); }));
}

export async function render(ctx) {
  var root = ctx.root;
  var id = ctx.params.id;
  root.appendChild(spinner());
  var movie, progress = null;
  try {
    var answers = await Promise.all([
      api('/movies/' + id + '?includeSources=true'),
      api('/progress?movieId=' + id).catch(function () { return null; })
    ]);
    movie = answers[0];
    progress = answers[1] && answers[1].progress && answers[1].progress[0];
  } catch (e) {
    if (!ctx.isCurrent()) return;
    clear(root).appendChild(errorBox(e.status === 404 ? 'This movie was not found.' : 'Could not load the movie: ' + e.message,
      function () { clear(root); render(ctx); }));
    focusFirst(root);
    return;
  }
  if (!ctx.isCurrent()) return;
  clear(root);
  var qualities = qualitiesOf(movie.sources);
  var resumeAt = progress && !progress.watched && progress.position > 5 ? progress.position : 0;
  var actions = h('div', { class: 'actions', 'data-focus-group': 'actions' });
  if (isGuest()) {
    actions.appendChild(h('p', { class: 'muted', id: 'guest-note', text: 'Guest profiles can browse but not watch.' }));
  } else {
    if (resumeAt) {
      actions.appendChild(h('a', { class: 'btn btn-primary', id: 'resume', href: '#/play/movie/' + id + '?resume=' + Math.floor(resumeAt), 'data-autofocus': true },
        'Resume from ' + formatTime(resumeAt)));
    }
    actions.appendChild(h('a', {
      class: 'btn' + (resumeAt ? '' : ' btn-primary'), id: 'watch-now', href: '#/play/movie/' + id + '?quality=auto',
      'data-autofocus': resumeAt ? null : true
    }, resumeAt ? 'Play from start' : 'Watch Now'));
    qualities.forEach(function (q) {
      actions.appendChild(h('a', { class: 'btn btn-small quality-btn', href: '#/play/movie/' + id + '?quality=' + encodeURIComponent(q), text: q }));
    });
  }
  var genres = (movie.genres || []).join(', ');
  var progressLine = null;
  if (progress && progress.duration) {
    var bar = h('span', { class: 'card-progress-bar' });
    bar.style.width = Math.min(100, 100 * progress.position / progress.duration) + '%';
    progressLine = h('div', { class: 'detail-progress' }, [h('span', { class: 'card-progress' }, [bar]),
      h('span', { class: 'muted', text: progress.watched ? 'Watched' : formatTime(progress.position) + ' of ' + formatTime(progress.duration) })]);
  }
  root.appendChild(hero(movie, [
    h('h1', { class: 'title', id: 'detail-title', text: movie.title }),
    facts([year(movie.releaseDate), formatRuntime(movie.runtime), genres, movie.rating ? '★ ' + Number(movie.rating).toFixed(1) : null]),
    movie.tagline ? h('p', { class: 'tagline', text: movie.tagline }) : null,
    h('p', { class: 'overview', text: movie.overview || '' }),
    h('p', { class: 'qualities', id: 'qualities' }, qualities.length
      ? ['Available in '].concat(qualities.map(function (q) { return h('span', { class: 'badge', text: q }); }))
      : [h('span', { class: 'muted', text: 'No sources found yet — Watch Now searches again.' })]),
    progressLine,
    actions
  ]));
  focusFirst(root);
}
