// Player: <video> on /api/stream/<key>, custom overlay, resume, progress reports every 5 s,
// next episode at the end, buffering spinner, clear error messages.
import { h, clear, formatTime, titleOf } from '../dom.js';
import { api, post } from '../api.js';
import { navigate } from '../app.js';
import { focus, setScope, is, KEYS } from '../focus.js';

function watchError(e) {
  if (e.status === 404) return 'No sources yet for this title. The server keeps searching — try again in a few minutes.';
  if (e.status === 403) return 'This profile cannot watch (guest profiles are read-only).';
  if (e.status === 503 || e.status === 504) return 'The stream failed — try another quality.';
  return 'Could not start playback: ' + e.message;
}

export async function render(ctx) {
  var root = ctx.root;
  var p = ctx.params;
  var isShow = ctx.kind === 'show';
  var season = Number(p.season), episode = Number(p.episode);
  var quality = ctx.query.quality || 'auto';
  var detailHash = isShow ? '/show/' + p.id + '?season=' + season : '/movie/' + p.id;
  var reportTimer = null, hideTimer = null, lastReported = -1, ended = false, destroyed = false, started = false;
  var resumeAt = Number(ctx.query.resume) || 0;

  var video = h('video', { class: 'video', id: 'video', preload: 'auto', playsinline: true, 'webkit-playsinline': true });
  var spin = h('div', { class: 'spinner player-spinner', hidden: false });
  var message = h('div', { class: 'player-message', id: 'player-message', role: 'alert', hidden: true });
  var title = h('div', { class: 'player-title', text: '' });
  var backBtn = h('button', { type: 'button', class: 'btn btn-small', id: 'player-back', text: '← Back', onclick: exit });
  var playBtn = h('button', { type: 'button', class: 'btn play-btn', id: 'play-pause', 'aria-label': 'Play', text: '▶', onclick: toggle });
  var played = h('div', { class: 'bar-played' });
  var buffered = h('div', { class: 'bar-buffered' });
  var bar = h('div', { class: 'bar', id: 'seek-bar', tabindex: '0', role: 'slider', 'aria-label': 'Position', 'aria-valuemin': '0' }, [buffered, played]);
  var time = h('div', { class: 'time', id: 'player-time', text: '0:00 / 0:00' });
  var nextBox = h('div', { class: 'next-box', hidden: true });
  var overlay = h('div', { class: 'overlay' }, [
    h('div', { class: 'overlay-top' }, [backBtn, title]),
    h('div', { class: 'overlay-bottom' }, [h('div', { class: 'controls' }, [playBtn, bar, time]), nextBox])
  ]);
  var stage = h('div', { class: 'player', id: 'player' }, [video, spin, message, overlay]);
  root.appendChild(stage);
  setScope(stage);
  focus(playBtn);

  function showError(text, withQualities) {
    spin.hidden = true;
    clear(message);
    message.appendChild(h('p', { text: text }));
    var buttons = h('div', { class: 'actions' });
    if (withQualities) {
      ['auto', 'FHD', 'HD', 'SD'].filter(function (q) { return q !== quality; }).forEach(function (q) {
        buttons.appendChild(h('a', { class: 'btn btn-small', href: '#/play/' + (isShow ? 'show/' + p.id + '/' + season + '/' + episode : 'movie/' + p.id) + '?quality=' + q + (video.currentTime ? '&resume=' + Math.floor(video.currentTime) : ''), text: 'Try ' + q }));
      });
    }
    buttons.appendChild(h('button', { type: 'button', class: 'btn btn-small', text: 'Back', onclick: exit }));
    message.appendChild(buttons);
    message.hidden = false;
    focus(buttons.querySelector('a, button'));
  }

  function showOverlay() {
    stage.classList.remove('idle');
    clearTimeout(hideTimer);
    hideTimer = setTimeout(function () { if (!video.paused && !ended) stage.classList.add('idle'); }, 4000);
  }

  function toggle() {
    if (video.paused) {
      var r = video.play();
      if (r && r.catch) r.catch(function () { /* the user presses play again */ });
    } else video.pause();
  }

  function updateTime() {
    var d = video.duration;
    time.textContent = formatTime(video.currentTime) + ' / ' + (isFinite(d) ? formatTime(d) : '--:--');
    played.style.width = (isFinite(d) && d > 0 ? 100 * video.currentTime / d : 0) + '%';
    bar.setAttribute('aria-valuenow', String(Math.floor(video.currentTime)));
    if (isFinite(d)) bar.setAttribute('aria-valuemax', String(Math.floor(d)));
  }

  function updateBuffered() {
    clear(buffered);
    var d = video.duration;
    if (!isFinite(d) || d <= 0) return;
    for (var i = 0; i < video.buffered.length; i++) {
      var seg = h('span', { class: 'bar-range' });
      seg.style.left = (100 * video.buffered.start(i) / d) + '%';
      seg.style.width = (100 * (video.buffered.end(i) - video.buffered.start(i)) / d) + '%';
      buffered.appendChild(seg);
    }
  }

  function seekBy(delta) {
    if (!isFinite(video.duration)) return;
    video.currentTime = Math.max(0, Math.min(video.duration - 0.5, video.currentTime + delta));
    updateTime();
  }

  function report(status) {
    if (!started || !isFinite(video.duration) || video.duration <= 0) return;
    var position = Math.floor(video.currentTime);
    if (status === 'watching' && position === lastReported) return;
    lastReported = position;
    var body = { type: isShow ? 'episode' : 'movie', position: position, duration: Math.floor(video.duration), status: status,
      progress: Math.min(1, video.currentTime / video.duration) };
    if (isShow) { body.showId = Number(p.id); body.season = season; body.episode = episode; } else body.movieId = Number(p.id);
    post('/progress', body).catch(function () { /* a missed report is retried 5 s later */ });
  }

  async function nextEpisode() {
    try {
      var s = await api('/shows/' + p.id + '/seasons/' + season);
      var next = (s.episodes || []).filter(function (e) { return e.episodeNumber === episode + 1; })[0];
      if (next) return { season: season, episode: episode + 1, name: next.name };
      var n = await api('/shows/' + p.id + '/seasons/' + (season + 1)).catch(function () { return null; });
      var first = n && (n.episodes || []).filter(function (e) { return e.episodeNumber === 1; })[0];
      if (first) return { season: season + 1, episode: 1, name: first.name };
    } catch (e) { /* no next episode */ }
    return null;
  }

  function exit() { navigate(detailHash, true); }

  bar.addEventListener('keydown', function (e) {
    if (is(e, KEYS.LEFT)) { seekBy(-10); e.preventDefault(); e.stopPropagation(); showOverlay(); }
    else if (is(e, KEYS.RIGHT)) { seekBy(10); e.preventDefault(); e.stopPropagation(); showOverlay(); }
    else if (is(e, KEYS.ENTER)) { toggle(); e.preventDefault(); e.stopPropagation(); }
  });
  bar.addEventListener('click', function (e) {
    var r = bar.getBoundingClientRect();
    if (isFinite(video.duration)) video.currentTime = video.duration * Math.max(0, Math.min(1, (e.clientX - r.left) / r.width));
  });
  function onKey(e) {
    showOverlay();
    var k = e.key, c = e.keyCode;
    if (k === 'MediaPlayPause' || c === 10252 || (k === ' ' && e.target === document.body)) { toggle(); e.preventDefault(); }
    else if (k === 'MediaPlay' || c === 415) { video.play(); }
    else if (k === 'MediaPause' || c === 19) { video.pause(); }
    else if (k === 'MediaStop' || c === 413) { exit(); }
    else if (k === 'MediaFastForward' || c === 417) { seekBy(30); }
    else if (k === 'MediaRewind' || c === 412) { seekBy(-30); }
  }
  document.addEventListener('keydown', onKey, true);
  stage.addEventListener('mousemove', showOverlay);
  stage.addEventListener('touchstart', showOverlay);
  video.addEventListener('click', toggle);

  video.addEventListener('waiting', function () { spin.hidden = false; });
  video.addEventListener('seeking', function () { spin.hidden = false; });
  video.addEventListener('playing', function () { spin.hidden = true; started = true; });
  video.addEventListener('canplay', function () { spin.hidden = true; });
  video.addEventListener('seeked', function () { spin.hidden = true; updateTime(); });
  video.addEventListener('timeupdate', updateTime);
  video.addEventListener('progress', updateBuffered);
  video.addEventListener('durationchange', function () { updateTime(); updateBuffered(); });
  video.addEventListener('loadedmetadata', function () {
    started = true;
    if (resumeAt > 0 && resumeAt < video.duration - 5) video.currentTime = resumeAt;
    updateTime();
  });
  video.addEventListener('play', function () { playBtn.textContent = '❚❚'; playBtn.setAttribute('aria-label', 'Pause'); showOverlay(); });
  video.addEventListener('pause', function () {
    playBtn.textContent = '▶'; playBtn.setAttribute('aria-label', 'Play'); showOverlay();
    if (!ended) report('paused');
  });
  video.addEventListener('ended', async function () {
    ended = true;
    report('completed');
    stage.classList.remove('idle');
    if (!isShow) { showOverlay(); return; }
    var next = await nextEpisode();
    if (!next || destroyed) return;
    clear(nextBox);
    nextBox.appendChild(h('p', { text: 'Up next: S' + next.season + ' E' + next.episode + (next.name ? ' · ' + next.name : '') }));
    var go = h('a', { class: 'btn btn-primary', id: 'play-next', href: '#/play/show/' + p.id + '/' + next.season + '/' + next.episode, text: 'Play next episode' });
    nextBox.appendChild(go);
    nextBox.hidden = false;
    focus(go);
  });
  video.addEventListener('error', async function () {
    if (destroyed) return;
    var status = 0;
    try {
      var r = await fetch(video.currentSrc || video.src, { method: 'HEAD', credentials: 'same-origin' });
      status = r.status;
    } catch (e) { status = 0; }
    if (status === 404) showError('No sources yet for this title.', false);
    else if (status === 401) showError('The streaming link expired — start again from the title page.', false);
    else if (status === 503 || status === 504) showError('The stream failed — try another quality.', true);
    else if (video.error && video.error.code === 4) showError('This browser cannot play this video format — try another quality.', true);
    else showError('Playback failed' + (status ? ' (' + status + ')' : '') + ' — try another quality.', true);
  });

  reportTimer = setInterval(function () { if (!video.paused && !ended) report('watching'); }, 5000);

  // Title and saved position, then Watch Now.
  try {
    if (isShow) {
      var showInfo = await api('/shows/' + p.id).catch(function () { return null; });
      title.textContent = (showInfo ? titleOf(showInfo) + ' · ' : '') + 'S' + season + ' E' + episode;
    } else {
      var movieInfo = await api('/movies/' + p.id).catch(function () { return null; });
      title.textContent = movieInfo ? titleOf(movieInfo) : '';
    }
    if (!ctx.query.resume && ctx.query.resume !== '0') {
      var saved = await api('/progress?' + (isShow ? 'showId=' : 'movieId=') + p.id).catch(function () { return null; });
      var entry = saved && (saved.progress || []).filter(function (x) { return !isShow || (x.season === season && x.episode === episode); })[0];
      if (entry && !entry.watched && entry.position > 5 && ctx.query.quality === undefined) resumeAt = entry.position;
    }
    if (destroyed) return;
    var watch = await post(isShow ? '/shows/' + p.id + '/' + season + '/' + episode + '/' + encodeURIComponent(quality)
      : '/movies/' + p.id + '/' + encodeURIComponent(quality), {});
    if (destroyed) return;
    stage.dataset.quality = watch.quality || quality;
    video.src = '/api/stream/' + encodeURIComponent(watch.streamingKey).replace('%3A', ':');
    var playing = video.play();
    if (playing && playing.catch) playing.catch(function () { spin.hidden = true; showOverlay(); });
  } catch (e) {
    if (!destroyed) showError(watchError(e), e.status === 503 || e.status === 504);
  }

  return {
    cleanup: function () {
      destroyed = true;
      if (!ended && !video.paused) report('paused');
      clearInterval(reportTimer);
      clearTimeout(hideTimer);
      document.removeEventListener('keydown', onKey, true);
      setScope(null);
      video.pause();
      video.removeAttribute('src');
      try { video.load(); } catch (e) { /* ignore */ }
    },
    onBack: function () { exit(); return true; }
  };
}
