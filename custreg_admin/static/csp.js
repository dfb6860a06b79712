/* Flask-Admin's templates carry a few inline event handlers (onclick="...") and
 * href="javascript:void(0)" links. Under the module's Content-Security-Policy (script-src with a
 * nonce, no 'unsafe-inline') browsers refuse to run them. This file, loaded with the nonce, does
 * their work instead: a click is caught on its way down (capture phase), the handler attribute is
 * removed before the browser would compile it, and the same call is made from here. */
(function () {
  "use strict";

  function quoted(text, name) {
    var match = new RegExp(name + "\\(\\s*(?:this\\s*,\\s*)?'((?:\\\\.|[^'\\\\])*)'").exec(text);
    return match ? match[1].replace(/\\(.)/g, "$1") : null;
  }

  function takeOver(element, event) {
    var code = element.getAttribute("onclick") || "";
    var value;
    element.removeAttribute("onclick");
    if ((value = quoted(code, "faHelpers\\.safeConfirm")) !== null) {
      if (!window.confirm(value)) {
        event.preventDefault();
        event.stopPropagation();
      }
    } else if ((value = quoted(code, "modelActions\\.execute")) !== null) {
      event.preventDefault();
      if (window.modelActions) {
        window.modelActions.execute(value);
      }
    } else if ((value = quoted(code, "faForm\\.addInlineField")) !== null) {
      event.preventDefault();
      if (window.faForm) {
        window.faForm.addInlineField(element, value);
      }
    } else if (/^\s*return false;?\s*$/.test(code)) {
      event.preventDefault();
    } else {
      element.setAttribute("onclick", code); // unknown: leave it as it was
    }
  }

  document.addEventListener(
    "click",
    function (event) {
      var target = event.target instanceof Element ? event.target : null;
      if (!target) {
        return;
      }
      var handler = target.closest("[onclick]");
      if (handler) {
        takeOver(handler, event);
      }
      var link = target.closest('a[href^="javascript:"]');
      if (link) {
        event.preventDefault(); // "javascript:void(0)": a link that only runs a handler
      }
    },
    true
  );
})();
