// Buttons with data-confirm ask before they submit (deactivate, suspend, close…).
document.addEventListener("submit", function (event) {
  var button = event.submitter || event.target.querySelector("[data-confirm]");
  var question = button && button.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { event.preventDefault(); }
}, true);
