// Small progressive enhancements; every page works without this file.
document.documentElement.classList.add("js");

document.addEventListener("change", function (event) {
  var target = event.target;
  if (target.classList && target.classList.contains("autosubmit") && target.form) {
    target.form.submit();
  }
});

// Live regions: replace the inner HTML with a fresh fragment every data-refresh seconds. Only the
// changed region is swapped, in one step, so the screen never blanks (no reload flicker).
(function () {
  var regions = document.querySelectorAll("[data-refresh-url]");
  regions.forEach(function (region) {
    var seconds = parseInt(region.getAttribute("data-refresh-seconds") || "30", 10);
    var status = document.querySelector(region.getAttribute("data-status") || "#live-status");
    function tick() {
      fetch(region.getAttribute("data-refresh-url"), {
        headers: { "Accept": "text/html", "X-Requested-With": "fetch" },
        credentials: "same-origin",
        cache: "no-store"
      }).then(function (response) {
        if (response.status === 401 || response.redirected) { window.location.reload(); return null; }
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      }).then(function (html) {
        if (html === null) { return; }
        var fresh = document.createElement("div");
        fresh.innerHTML = html;
        region.replaceChildren.apply(region, Array.prototype.slice.call(fresh.childNodes));
        if (status) { status.classList.remove("stale"); }
      }).catch(function () {
        if (status) { status.classList.add("stale"); }
      });
    }
    window.setInterval(tick, seconds * 1000);
  });
})();

// "Print" buttons next to the tables and charts (the print stylesheet leaves out the menus).
document.addEventListener("click", function (event) {
  var target = event.target;
  if (target && target.hasAttribute && target.hasAttribute("data-print")) {
    window.print();
  }
});
