/* custreg-admin: the KPI cards of Customers > Summary, fetched after the list has rendered.
 * The placeholder names the cards' URL (the list's own search and filters); the server answers
 * with the rendered cards (X-Custreg-Fragment: 1), which replace the placeholder. Without
 * JavaScript the <noscript> link opens the same cards on a page of their own; when the request
 * fails, the placeholder gives way to a message with that link. */
(function () {
  "use strict";
  var slot = document.querySelector("[data-kpi-url]");
  if (!slot || !window.fetch) {
    return;
  }

  function failed() {
    var placeholder = slot.querySelector(".custreg-kpi-placeholder");
    if (placeholder) {
      placeholder.parentNode.removeChild(placeholder);
    }
    var message = slot.querySelector(".custreg-kpi-failed");
    if (message) {
      message.classList.remove("d-none");
    }
    slot.setAttribute("aria-busy", "false");
  }

  fetch(slot.getAttribute("data-kpi-url"), {
    credentials: "same-origin",
    headers: { "X-Custreg-Fragment": "1" },
  })
    .then(function (response) {
      // a redirect means the session ended (the login page): show the link instead
      if (!response.ok || response.redirected) {
        throw new Error("KPI cards: HTTP " + response.status);
      }
      return response.text();
    })
    .then(function (html) {
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var cards = holder.querySelector("[data-testid='kpi-fragment']");
      if (!cards) {
        throw new Error("KPI cards: unexpected answer");
      }
      slot.parentNode.replaceChild(cards, slot);
    })
    .catch(failed);
})();
