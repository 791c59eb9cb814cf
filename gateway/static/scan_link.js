// Check-in: scan a SMART Health Link's QR code with the device's camera, where the browser has the
// BarcodeDetector API; elsewhere (and without JavaScript) staff paste the link into the text box.
(function () {
  "use strict";
  var scan = document.getElementById("scan");
  if (!scan || !("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var start = document.getElementById("scan-start");
  var video = document.getElementById("scan-video");
  var status = document.getElementById("scan-status");
  var link = document.getElementById("link");
  scan.hidden = false;

  function stop(stream) {
    stream.getTracks().forEach(function (track) { track.stop(); });
    video.hidden = true;
    start.disabled = false;
  }

  start.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    start.disabled = true;
    status.textContent = "Starting the camera…";
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      status.textContent = "Hold the QR code in front of the camera.";
      var deadline = Date.now() + 60000;
      (function look() {
        detector.detect(video).then(function (codes) {
          var found = codes.map(function (c) { return c.rawValue; }).filter(function (v) { return v.indexOf("shlink:/") !== -1; });
          if (found.length) {
            link.value = found[0];
            stop(stream);
            status.textContent = "Link scanned. Add the passcode if there is one, then read the link.";
            link.focus();
          } else if (Date.now() > deadline) {
            stop(stream);
            status.textContent = "No SMART Health Link QR code was seen. Try again, or paste the link.";
          } else {
            setTimeout(look, 250);
          }
        }, function () { setTimeout(look, 250); });
      })();
    }, function () {
      start.disabled = false;
      status.textContent = "The camera could not be used. Paste the link instead.";
    });
  });
})();
