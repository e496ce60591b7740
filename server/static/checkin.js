// Trainer's check-in screen: reloads the signed QR code every data-refresh seconds (the server signs a
// new short-lived code for each request), and prints the attendance sheet.
(function () {
  "use strict";
  var img = document.getElementById("checkin-qr");
  if (img) {
    var every = (parseInt(img.getAttribute("data-refresh"), 10) || 30) * 1000;
    var src = img.getAttribute("data-src");
    window.setInterval(function () {
      img.src = src + "?t=" + Date.now();
    }, every);
  }
  var print = document.getElementById("print-sheet");
  if (print) print.addEventListener("click", function () { window.print(); });
})();
