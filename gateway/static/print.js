// The Print button of a printable page: shown only where this script runs (without it the page names Ctrl+P).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
