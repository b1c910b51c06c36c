/* The search field's first step, on every page. The search itself (search-ui.js, then
   Pagefind's script and this language's index) loads only when a reader starts to search,
   so a page's first load stays light. Without JavaScript, or if loading fails, the form
   leads to the A-Z page, which lists every page. */
(function () {
  "use strict";
  var form = document.querySelector(".site-search__form");
  if (!form || !form.dataset.ui) {
    return;
  }
  var input = form.querySelector("input");
  var loading = null;

  function load() {
    if (!loading) {
      loading = import(form.dataset.ui).then(function (ui) {
        return ui.start(form);
      });
      loading.catch(function () {});
    }
    return loading;
  }

  input.addEventListener("focus", load);
  input.addEventListener("input", load);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    load().then(function (search) {
      search.run();
    }, function () {
      form.submit();
    });
  });
})();
