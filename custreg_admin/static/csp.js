/* Flask-Admin's templates carry a few inline event handlers (onclick="...") and
 * href="javascript:void(0)" links. Under the module's Content-Security-Policy (script-src with a
 * nonce, no 'unsafe-inline') browsers refuse both. On the module's pages the server renames those
 * attributes to data-custreg-onclick (custreg_admin/security.py); this file, loaded with the
 * nonce, does their work: the known calls of Flask-Admin's own scripts, nothing else. */
(function () {
  "use strict";

  function quoted(text, name) {
    var match = new RegExp(name + "\\(\\s*(?:this\\s*,\\s*)?'((?:\\\\.|[^'\\\\])*)'").exec(text);
    return match ? match[1].replace(/\\(.)/g, "$1") : null;
  }

  function run(element, event) {
    var code = element.getAttribute("data-custreg-onclick") || "";
    var value;
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
    } else if (window.console) {
      window.console.warn("custreg_admin: no replacement for onclick=" + code);
    }
  }

  document.addEventListener(
    "click",
    function (event) {
      var target = event.target instanceof Element ? event.target : null;
      if (!target) {
        return;
      }
      var link = target.closest('a[href^="javascript:"]');
      if (link) {
        event.preventDefault(); // "javascript:void(0)": a link that only runs a handler
      }
      var handler = target.closest("[data-custreg-onclick]");
      if (handler) {
        run(handler, event);
      }
    },
    true
  );
})();
