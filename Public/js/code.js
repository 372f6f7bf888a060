// Sending an SMS code without leaving the page (progressive enhancement). Without JavaScript the "获取验证码" button
// posts the form and the page comes back with the code field ready; with it, the same form post is made in the
// background (CSRF field, ticks and typed values included) and the form is replaced by the one the server answers
// with, so nothing typed is lost and the code field gets the focus. The server stays the only source of the page.
(function () {
  "use strict";
  if (!window.fetch || !window.FormData || !window.DOMParser || !window.URLSearchParams) return;

  function sendButton(target) {
    return target && target.closest ? target.closest('button[name="action"][value="send"]') : null;
  }

  Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
    if (!form.querySelector('button[name="action"][value="send"]')) return;
    form.setAttribute("data-sends-in-place", "");
    var busy = false;
    form.addEventListener("click", function (event) {
      var button = sendButton(event.target);
      if (!button) return;
      event.preventDefault();
      if (busy) return;
      busy = true;
      button.disabled = true;
      var data = new FormData(form);
      data.set("action", "send");
      fetch(form.getAttribute("action"), {
        method: "POST", body: new URLSearchParams(data), credentials: "same-origin",
        headers: {"Accept": "text/html", "Content-Type": "application/x-www-form-urlencoded"},
      })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var fresh = page.querySelector('form[action="' + form.getAttribute("action") + '"]');
          if (!fresh) throw new Error("no form in the answer");
          while (form.firstChild) form.removeChild(form.firstChild);
          Array.prototype.forEach.call(fresh.childNodes, function (node) {
            form.appendChild(document.importNode(node, true));
          });
          var code = form.querySelector('input[name="code"]');
          var error = form.querySelector(".field-error, .alert-error");
          (error ? form.querySelector('[aria-invalid="true"]') || code : code || form).focus();
          busy = false;
        })
        .catch(function () {
          // Fall back to the page's own way: post the form.
          var action = document.createElement("input");
          action.type = "hidden";
          action.name = "action";
          action.value = "send";
          form.appendChild(action);
          form.submit();
        });
    });
  });
})();
