// Accessibility fixes to the theme (issue 27); book/_config.yml adds it to each page (html_js_files).
// WCAG 2.5.3 (label in name): a control's accessible name must contain the words it shows.
// - The theme's search field shows "Search Ctrl+K" but is named "Search" (aria-label): without the
//   aria-label its name is what it shows.
// - Its colour-mode button shows one icon whose tooltip says "Light", "Dark" or "System Settings", but
//   is named "Color mode": the icons are decoration (hidden from assistive technology, no tooltips of
//   their own), and the button keeps its name "Color mode" and that tooltip.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".search-button-field").forEach(function (button) {
    button.removeAttribute("aria-label");
    button.querySelectorAll("i").forEach(function (icon) { icon.setAttribute("aria-hidden", "true"); });
  });
  document.querySelectorAll(".theme-switch-button").forEach(function (button) {
    button.setAttribute("aria-label", "Color mode");
    button.setAttribute("title", "Color mode");
    button.querySelectorAll("i").forEach(function (icon) {
      icon.setAttribute("aria-hidden", "true");
      icon.removeAttribute("title");
    });
  });
});
