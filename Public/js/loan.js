// Live repayment plan on /apply/loan (progressive enhancement). Without JavaScript the "试算" button re-renders the
// page with the plan; with it, the plan follows every change of amount, term, method or purpose. It asks the page
// itself for the plan (the same form post as "试算", CSRF field included), so the server stays the only source.
(function () {
  "use strict";

  var form = document.getElementById("loan-form");
  var slot = document.getElementById("plan-slot");
  if (!form || !slot || !window.fetch || !window.FormData || !window.DOMParser || !window.URLSearchParams) return;

  var fields = ["amount", "termMonths", "method", "purpose"];
  var latest = 0;
  var timer = null;

  function replaceChildren(target, source) {
    while (target.firstChild) target.removeChild(target.firstChild);
    if (!source) return;
    Array.prototype.forEach.call(source.childNodes, function (node) {
      target.appendChild(document.importNode(node, true));
    });
  }

  function showErrors(page) {
    fields.forEach(function (name) {
      var current = form.querySelector('[data-field="' + name + '"]');
      var fresh = page.querySelector('[data-field="' + name + '"]');
      if (!current || !fresh) return;
      current.classList.toggle("has-error", fresh.classList.contains("has-error"));
      var oldError = current.querySelector(".field-error");
      if (oldError) oldError.parentNode.removeChild(oldError);
      var newError = fresh.querySelector(".field-error");
      if (newError) current.appendChild(document.importNode(newError, true));
    });
  }

  function refresh() {
    var data = new URLSearchParams(new FormData(form));
    data.set("action", "quote");
    var request = ++latest;
    slot.classList.add("updating");
    // form.action would be the buttons named "action": read the attribute.
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "text/html" }
    })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (request !== latest) return;
        var page = new DOMParser().parseFromString(html, "text/html");
        var freshSlot = page.getElementById("plan-slot");
        if (!freshSlot) return; // not the loan page (e.g. the session ended): leave it to the next real submit
        replaceChildren(slot, freshSlot);
        showErrors(page);
      })
      .catch(function () { /* offline: the "试算" button still works */ })
      .then(function () {
        if (request === latest) slot.classList.remove("updating");
      });
  }

  function soon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  }

  form.addEventListener("change", refresh);
  var amount = document.getElementById("amount");
  if (amount) amount.addEventListener("input", soon);
})();
