// On-site certificate checks: a fresh client id per scan, a queue for scans made offline (checked on
// the phone from the QR code's signed token against the certificates' public keys the page carries,
// then sent once the network returns; the server stores a resent scan only once), and camera
// scanning with the browser's BarcodeDetector or, where it is missing, the bundled jsQR decoder.
(function () {
  'use strict';
  var form = document.getElementById('scan-form');
  if (!form) return;
  var inspection = form.dataset.inspection;
  var key = 'shanyu.scans.' + inspection;
  var status = document.getElementById('scan-status');
  var code = document.getElementById('code');
  var clientID = document.getElementById('client-id');

  function newID() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }
  function queue() { try { return JSON.parse(localStorage.getItem(key) || '[]'); } catch (e) { return []; } }
  function save(q) { localStorage.setItem(key, JSON.stringify(q)); }

  function flush() {
    var q = queue();
    if (!q.length || !navigator.onLine) return;
    var next = q[0];
    fetch('/api/v1/inspections/' + inspection + '/scans', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': form.dataset.csrf },
      body: JSON.stringify(next)
    }).then(function (r) {
      if (!(r.ok || (r.status >= 400 && r.status < 500))) return;
      save(queue().filter(function (s) { return s.client_id !== next.client_id; }));
      return r.json().then(function (b) {
        if (queue().length) { flush(); return; }
        status.textContent = form.dataset.synced;
        // Show the server's result of the last synchronised scan.
        window.location.assign('/inspections/' + inspection + (r.ok && b.id ? '?scan=' + b.id : '') + '#result');
      }, function () { window.location.reload(); });
    }).catch(function () { /* still offline: try again on the next "online" event */ });
  }

  // Offline check of a QR link's signed token (a JWS signed with Ed25519), with WebCrypto.
  function b64u(str) {
    str = str.replace(/-/g, '+').replace(/_/g, '/');
    while (str.length % 4) str += '=';
    var bin = atob(str), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function verifyToken(token) {
    var parts = token.split('.');
    if (parts.length !== 3 || !window.crypto || !crypto.subtle) return Promise.resolve(null);
    var header, claims, keys;
    try {
      header = JSON.parse(new TextDecoder().decode(b64u(parts[0])));
      claims = JSON.parse(new TextDecoder().decode(b64u(parts[1])));
      keys = JSON.parse(form.dataset.jwks || '{}').keys || [];
    } catch (e) { return Promise.resolve(null); }
    var jwk = keys.filter(function (k) { return k.kid === header.kid; })[0];
    if (header.alg !== 'EdDSA' || !jwk) return Promise.resolve(null);
    return crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, { name: 'Ed25519' }, false, ['verify'])
      .then(function (key) {
        return crypto.subtle.verify({ name: 'Ed25519' }, key, b64u(parts[2]), new TextEncoder().encode(parts[0] + '.' + parts[1]));
      }).then(function (ok) { return ok ? claims : null; }, function () { return null; });
  }
  function day(n) { return String(n).replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3'); }
  var offlineBox = document.getElementById('offline-result');
  function showOffline(cls, verdict, details) {
    offlineBox.hidden = false;
    offlineBox.className = 'offline-result ' + cls;
    offlineBox.querySelector('.offline-verdict').textContent = verdict;
    offlineBox.querySelector('.offline-claims').textContent = details;
  }
  function checkOffline(text) {
    var hash = text.indexOf('#');
    if (text.indexOf('/v/') < 0 || hash < 0) { showOffline('warn', form.dataset.notoken, text); return Promise.resolve(); }
    return verifyToken(text.slice(hash + 1)).then(function (c) {
      if (!c) { showOffline('bad', form.dataset.forged, ''); return; }
      // Today in the product's zone (en-CA writes YYYY-MM-DD), as the token's dates are.
      var today = new Intl.DateTimeFormat('en-CA', { timeZone: document.documentElement.dataset.tz || undefined,
        year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date()).replace(/-/g, '');
      var expired = String(c.e) < today;
      // What the platform said of the roster's certificates when this page was loaded.
      var listed = {};
      try { listed = JSON.parse(form.dataset.listed || '{}'); } catch (e) { listed = {}; }
      var at = form.dataset.listedAt || '';
      var state = listed[c.n], note, bad = expired;
      if (state === 'revoked' || state === 'suspended') {
        bad = true;
        note = (state === 'revoked' ? form.dataset.listedRevoked : form.dataset.listedSuspended).replace('{at}', at);
      } else if (state) {
        note = form.dataset.listedValid.replace('{at}', at);
      } else {
        note = form.dataset.notListed;
      }
      showOffline(bad ? 'bad' : 'ok', form.dataset.genuine + (expired ? ' · ' + form.dataset.expired : '') + ' · ' + note,
        [c.h, c.n, c.o, form.dataset.level + ' ' + c.l, form.dataset.until + ' ' + day(c.e)].join(' · '));
    });
  }

  form.addEventListener('submit', function (ev) {
    clientID.value = newID();
    if (!navigator.onLine) {
      ev.preventDefault();
      var q = queue();
      var text = code.value.trim();
      q.push({ client_id: clientID.value, code: text, scanned_at: new Date().toISOString(), offline: true });
      save(q);
      status.textContent = form.dataset.offline + ' (' + q.length + ')';
      code.value = '';
      checkOffline(text);
    }
  });
  window.addEventListener('online', flush);
  flush();

  var result = document.getElementById('result');
  if (result) result.focus();

  var start = document.getElementById('camera-start');
  var video = document.getElementById('camera');
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  start.hidden = false;
  var stream = null;
  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
  }
  function found(text) {
    stop();
    code.value = text;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }
  start.addEventListener('click', function () {
    if (stream) { stop(); return; }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      video.play();
      var detector = ('BarcodeDetector' in window) ? new window.BarcodeDetector({ formats: ['qr_code'] }) : null;
      var canvas = document.createElement('canvas');
      var ctx = canvas.getContext('2d', { willReadFrequently: true });
      function tick() {
        if (!stream) return;
        if (video.readyState < 2) { setTimeout(tick, 150); return; }
        if (detector) {
          detector.detect(video).then(function (codes) {
            if (codes.length) found(codes[0].rawValue); else setTimeout(tick, 150);
          }).catch(function () { detector = null; setTimeout(tick, 150); });
          return;
        }
        canvas.width = video.videoWidth; canvas.height = video.videoHeight;
        ctx.drawImage(video, 0, 0);
        var img = ctx.getImageData(0, 0, canvas.width, canvas.height);
        var hit = window.jsQR ? window.jsQR(img.data, img.width, img.height) : null;
        if (hit && hit.data) found(hit.data); else setTimeout(tick, 150);
      }
      tick();
    }).catch(function () { status.textContent = form.dataset.nocamera; });
  });
})();
