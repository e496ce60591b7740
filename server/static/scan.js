// On-site certificate checks: a fresh client id per scan, a queue for scans made offline (sent once
// the network returns; the server stores a resent scan only once), and camera scanning with the
// browser's BarcodeDetector or, where it is missing, the bundled jsQR decoder.
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
      if (r.ok || (r.status >= 400 && r.status < 500)) {
        save(queue().filter(function (s) { return s.client_id !== next.client_id; }));
        if (queue().length) { flush(); } else { status.textContent = form.dataset.synced; window.location.reload(); }
      }
    }).catch(function () { /* still offline: try again on the next "online" event */ });
  }

  form.addEventListener('submit', function (ev) {
    clientID.value = newID();
    if (!navigator.onLine) {
      ev.preventDefault();
      var q = queue();
      q.push({ client_id: clientID.value, code: code.value, scanned_at: new Date().toISOString() });
      save(q);
      status.textContent = form.dataset.offline + ' (' + q.length + ')';
      code.value = '';
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
