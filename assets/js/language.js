// The root page lists every language as a plain link; with JavaScript, go straight to
// the one the browser prefers. Only on the root chooser page.
(function () {
  var links = document.querySelectorAll("a[data-lang]");
  var wanted = navigator.languages || [navigator.language || ""];
  for (var i = 0; i < wanted.length; i++) {
    var code = String(wanted[i]).toLowerCase().split("-")[0];
    for (var j = 0; j < links.length; j++) {
      if (links[j].getAttribute("data-lang") === code) {
        window.location.replace(links[j].href);
        return;
      }
    }
  }
})();
