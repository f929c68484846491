/* Progressive enhancements; every page works without them (and the CSP allows no inline script). */
(function () {
  "use strict";
  // "Afficher le mot de passe": the buttons are in the page, hidden until this runs.
  document.querySelectorAll("button.toggle[aria-controls]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("aria-controls"));
    if (!input) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      button.setAttribute("aria-pressed", show ? "true" : "false");
      button.textContent = button.getAttribute(show ? "data-hide" : "data-show");
    });
    // Never submit a visible password field: hide it again before the form leaves.
    if (input.form) {
      input.form.addEventListener("submit", function () { input.type = "password"; });
    }
  });
  // The error summary takes the focus (autofocus may be skipped after a back navigation).
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
  // A link of the summary puts the focus in its field, not only scrolls to it.
  document.querySelectorAll(".error-summary a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (target) { event.preventDefault(); target.focus(); }
    });
  });
})();
