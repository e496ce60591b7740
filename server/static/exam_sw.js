// Service worker of the exam page, served at /exams/sw.js (scope /exams/). It lets a reload without
// network open the exam: the exam page (/exams/sessions/{id}/take) is fetched from the network and
// kept; when the network fails the kept copy is served. Static assets (content-hashed, immutable)
// and question images are served from the cache once kept. The API is never touched: answers wait in
// the page's localStorage and are sent by the page itself.
"use strict";
var CACHE = "shanyu-exam";
var PAGE = /^\/exams\/sessions\/\d+\/take$/;
var IMAGE = /^\/exams\/attempts\/\d+\/images\//;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (e) { e.waitUntil(self.clients.claim()); });

function keep(key, res) {
  if (res.ok && !res.redirected && res.type === "basic") {
    var copy = res.clone();
    caches.open(CACHE).then(function (c) { return c.put(key, copy); });
  }
  return res;
}

self.addEventListener("fetch", function (e) {
  var req = e.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === "navigate" && PAGE.test(url.pathname)) {
    e.respondWith(fetch(req).then(function (res) { return keep(url.pathname, res); }).catch(function () {
      return caches.match(url.pathname).then(function (hit) { return hit || Response.error(); });
    }));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0 || IMAGE.test(url.pathname)) {
    e.respondWith(caches.match(url.pathname).then(function (hit) {
      return hit || fetch(req).then(function (res) { return keep(url.pathname, res); });
    }));
  }
});
