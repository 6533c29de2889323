// Samsung Tizen wrapper: registers the remote's media keys, then opens the Miauflix UI from the
// server address saved on the TV (asked once; hold the red key on the start screen to change it).
(function () {
  var KEY = 'miauflix.server';
  var MEDIA_KEYS = ['MediaPlayPause', 'MediaPlay', 'MediaPause', 'MediaStop', 'MediaFastForward', 'MediaRewind', 'ColorF0Red'];

  function registerKeys() {
    try {
      if (window.tizen && tizen.tvinputdevice) {
        MEDIA_KEYS.forEach(function (k) { try { tizen.tvinputdevice.registerKey(k); } catch (e) { /* unsupported */ } });
      }
    } catch (e) { /* not on a TV */ }
  }

  function normalize(url) {
    url = String(url || '').trim().replace(/\/+$/, '');
    if (url && !/^https?:\/\//i.test(url)) url = 'https://' + url;
    return url;
  }

  function open(url) {
    document.getElementById('loading').hidden = false;
    document.getElementById('setup').hidden = true;
    // The UI itself handles Back (10009) and the media keys.
    window.location.href = url + '/';
  }

  function ask(message) {
    var form = document.getElementById('setup');
    var input = document.getElementById('server');
    document.getElementById('loading').hidden = true;
    form.hidden = false;
    document.getElementById('error').textContent = message || '';
    input.value = localStorage.getItem(KEY) || '';
    input.focus();
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var url = normalize(input.value);
      if (!url) { document.getElementById('error').textContent = 'Enter the server address.'; return; }
      var xhr = new XMLHttpRequest();
      xhr.open('GET', url + '/api/health');
      xhr.timeout = 8000;
      xhr.onload = function () {
        if (xhr.status === 200) { localStorage.setItem(KEY, url); open(url); }
        else document.getElementById('error').textContent = 'The server answered ' + xhr.status + '.';
      };
      xhr.onerror = xhr.ontimeout = function () { document.getElementById('error').textContent = 'The server cannot be reached.'; };
      xhr.send();
    });
  }

  window.addEventListener('load', function () {
    registerKeys();
    var saved = localStorage.getItem(KEY);
    var change = false;
    document.addEventListener('keydown', function (e) {
      if (e.keyCode === 403 || e.key === 'ColorF0Red') { change = true; ask(); }
      if (e.keyCode === 10009 && !document.getElementById('setup').hidden) {
        try { tizen.application.getCurrentApplication().exit(); } catch (err) { /* not on a TV */ }
      }
    });
    if (saved) setTimeout(function () { if (!change) open(saved); }, 800);
    else ask();
  });
})();
