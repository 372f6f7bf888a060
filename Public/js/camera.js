// Face capture for /apply/face: the only script of the H5 pages (loaded from 'self'; the CSP forbids inline scripts).
// Without JavaScript or a camera, the page still offers a photo upload and, in the sandbox, "模拟人脸识别".
(function () {
  "use strict";

  var camera = document.getElementById("camera");
  var video = document.getElementById("camera-video");
  var tip = document.getElementById("camera-tip");
  var startButton = document.getElementById("camera-start");
  var shootButton = document.getElementById("camera-shoot");
  var form = document.getElementById("face-form");
  var captureField = document.getElementById("capture");
  if (!camera || !video || !form || !captureField || !startButton || !shootButton) return;
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== "function") return;

  var stream = null;
  var prompts = ["请正对屏幕", "请眨眨眼", "请缓慢向左转头", "请缓慢向右转头", "保持不动"];

  camera.hidden = false;

  function say(text) {
    tip.textContent = text;
  }

  function stop() {
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
  }

  startButton.addEventListener("click", function () {
    startButton.disabled = true;
    say("正在打开摄像头…");
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 640 } }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        camera.classList.add("active");
        startButton.hidden = true;
        shootButton.hidden = false;
        say("请将面部置于圆框内，然后点击“开始识别”");
      })
      .catch(function () {
        startButton.disabled = false;
        say("无法打开摄像头。请在浏览器设置中允许使用摄像头，或使用下方的拍照上传。");
      });
  });

  shootButton.addEventListener("click", function () {
    if (!stream) return;
    shootButton.disabled = true;
    var i = 0;
    say(prompts[0]);
    var timer = window.setInterval(function () {
      i += 1;
      if (i < prompts.length) {
        say(prompts[i]);
        return;
      }
      window.clearInterval(timer);
      var width = video.videoWidth || 640;
      var height = video.videoHeight || 480;
      var canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      canvas.getContext("2d").drawImage(video, 0, 0, width, height);
      var dataURL = canvas.toDataURL("image/jpeg", 0.85);
      captureField.value = dataURL.substring(dataURL.indexOf(",") + 1);
      stop();
      say("正在核验，请稍候…");
      form.submit();
    }, 900);
  });

  window.addEventListener("pagehide", stop);
})();
