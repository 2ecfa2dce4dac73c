// The account menu (a <details> in the staff pages' top bars) works without script; this only
// closes it as a menu is expected to close: on Escape (focus back on its button) and on a click
// or a focus anywhere else.
(() => {
  const menus = () => document.querySelectorAll("details.account-menu[open]");
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const menu of menus()) {
      const inside = menu.contains(document.activeElement);
      menu.open = false;
      if (inside) menu.querySelector("summary")?.focus();
    }
  });
  const closeOutside = (event) => {
    for (const menu of menus()) {
      if (event.target instanceof Node && !menu.contains(event.target)) menu.open = false;
    }
  };
  document.addEventListener("click", closeOutside);
  document.addEventListener("focusin", closeOutside);
})();
