// The one small script of the app: behaviour that htmx attributes cannot express.
document.addEventListener("htmx:responseError", function (event) {
  var box = document.createElement("div");
  box.className = "error";
  box.setAttribute("role", "alert");
  var status = event.detail.xhr.status;
  box.textContent = status === 403 ? "无权执行此操作 / Not permitted" : "操作失败, 请检查输入后重试 (" + status + ")";
  event.detail.elt.insertAdjacentElement("afterend", box);
});
// The「管理」menu of the navigation bar closes when the user clicks elsewhere or presses Escape.
document.addEventListener("click", function (event) {
  document.querySelectorAll("details.navmenu[open]").forEach(function (menu) {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});
document.addEventListener("keydown", function (event) {
  if (event.key === "Escape") {
    document.querySelectorAll("details.navmenu[open]").forEach(function (menu) { menu.removeAttribute("open"); });
  }
});
