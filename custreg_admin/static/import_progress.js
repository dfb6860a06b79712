/* The import review while its rows are being checked: polls the status (JSON) and shows the
 * progress; when the check has ended, loads the review again. Without JavaScript the page
 * refreshes itself (meta refresh in <noscript>) and has a Refresh link. */
(function () {
  "use strict";
  var box = document.querySelector("[data-custreg-import-status]");
  if (!box) {
    return;
  }
  var statusUrl = box.getAttribute("data-custreg-import-status");
  var reviewUrl = box.getAttribute("data-custreg-import-review");
  var text = box.querySelector("[data-custreg-import-progress]");

  function later(ms) {
    window.setTimeout(poll, ms);
  }

  function poll() {
    fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (status) {
        if (!status) {
          later(3000);
        } else if (status.state !== "running") {
          window.location.assign(reviewUrl);
        } else {
          text.textContent = status.message;
          later(1000);
        }
      })
      .catch(function () {
        later(3000);
      });
  }

  later(1000);
})();
