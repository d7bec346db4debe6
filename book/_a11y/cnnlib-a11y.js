// Accessibility fixes to the theme (issue 27); book/_config.yml adds it to each page (html_js_files).
// WCAG 2.5.3 (label in name): a control's accessible name must contain the words it shows.
// - The theme's search field shows "Search Ctrl+K" but is named "Search" (aria-label): without the
//   aria-label its name is what it shows.
// - Its colour-mode button shows one icon whose tooltip says "Light", "Dark" or "System Settings", but
//   is named "Color mode": the icons are decoration (hidden from assistive technology, no tooltips of
//   their own), and the button keeps its name "Color mode" and that tooltip.
// Font Awesome's script turns each <i> icon into an <svg> with a <title> whenever it gets to it, before
// or after this script, so the fix is applied again whenever a button's icons change.
(function () {
  function quietIcons(button) {
    button.querySelectorAll("i, svg").forEach(function (icon) {
      if (icon.getAttribute("aria-hidden") !== "true") { icon.setAttribute("aria-hidden", "true"); }
      if (icon.hasAttribute("title")) { icon.removeAttribute("title"); }
      icon.querySelectorAll("title").forEach(function (title) { title.remove(); });
    });
  }
  function fix() {
    document.querySelectorAll(".search-button-field").forEach(function (button) {
      if (button.hasAttribute("aria-label")) { button.removeAttribute("aria-label"); }
      quietIcons(button);
    });
    document.querySelectorAll(".theme-switch-button").forEach(function (button) {
      if (button.getAttribute("aria-label") !== "Color mode") { button.setAttribute("aria-label", "Color mode"); }
      quietIcons(button);
    });
  }
  function watch() {
    fix();
    document.querySelectorAll(".search-button-field, .theme-switch-button").forEach(function (button) {
      new MutationObserver(fix).observe(button, {childList: true, subtree: true});
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", watch); } else { watch(); }
  window.addEventListener("load", fix);
})();
