/* Keyboard use: a page names the field to start in (data-custreg-focus="<selector>"), e.g. the
   Summary's search box, so that the magnifier is one key press away rather than 13 Tabs. */
(function () {
  "use strict";
  var marker = document.querySelector("[data-custreg-focus]");
  if (!marker || document.querySelector("[autofocus]")) { return; }
  var target = document.querySelector(marker.getAttribute("data-custreg-focus"));
  if (target && !location.hash) { target.focus(); }
}());
