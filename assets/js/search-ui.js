/* The site's search, loaded by search.js when a reader starts to search: Pagefind's script
   and index for the page's language (site/<lang>/pagefind/), and a list of results with
   title, an excerpt with the match marked, and the link. The words come from the page
   (data attributes, translated by the build). A large language's index comes in shards
   (guidesite/search.py): the first is loaded, the others listed in its folder's shards.json
   are merged into it, so one search covers the whole language in one ranked list. */
const BATCH = 8;
const EXCERPT = 18; // words

export function start(form) {
  const input = form.querySelector("input");
  const box = form.parentElement.querySelector(".site-search__results");
  const status = box.querySelector(".site-search__status");
  const words = box.dataset;
  const plural = new Intl.PluralRules(document.documentElement.lang);
  const list = document.createElement("ol");
  list.className = "site-search__list";
  const more = document.createElement("button");
  more.type = "button";
  more.className = "site-search__more";
  more.textContent = words.more;
  list.hidden = more.hidden = true;
  box.append(list, more);

  let results = [];
  let shown = 0;
  let latest = 0;
  const bundle = new URL(form.dataset.index, location.href); // <lang>/pagefind/pagefind.js
  const shards = fetch(new URL("shards.json", bundle), { cache: "no-cache" }).then((response) => {
    if (!response.ok) {
      throw new Error(`${response.status}: ${response.url}`);
    }
    return response.json();
  });
  const ready = Promise.all([import(form.dataset.index), shards]).then(async ([pagefind, folders]) => {
    await pagefind.options({ excerptLength: EXCERPT });
    await pagefind.init();
    // Searched with the first shard's WebAssembly (Pagefind waits for it and loads no other);
    // their pages' addresses start from the language's folder, as the first shard's do.
    const language = new URL("../", bundle).pathname;
    await Promise.all(folders.map((folder) => pagefind.mergeIndex(new URL(folder, bundle).pathname,
      { excerptLength: EXCERPT, baseUrl: language })));
    return pagefind;
  });
  ready.catch(() => {});

  function say(text, withIndexLink) {
    status.textContent = text;
    if (withIndexLink) {
      const link = document.createElement("a");
      link.href = form.action;
      link.textContent = words.az;
      status.append(" ", link);
    }
  }

  function clear() {
    delete box.dataset.query;
    results = [];
    shown = 0;
    list.replaceChildren();
    list.hidden = more.hidden = true;
    say("");
  }

  function excerpt(html) {
    // Pagefind's excerpt is escaped text with <mark> around the matches: only those are kept.
    const parsed = document.createElement("template");
    parsed.innerHTML = html;
    const paragraph = document.createElement("p");
    for (const node of parsed.content.childNodes) {
      if (node.nodeName === "MARK") {
        const mark = document.createElement("mark");
        mark.textContent = node.textContent;
        paragraph.append(mark);
      } else {
        paragraph.append(node.textContent);
      }
    }
    return paragraph;
  }

  async function showMore(query) {
    const batch = await Promise.all(results.slice(shown, shown + BATCH).map((result) => result.data()));
    if (query !== latest) {
      return null;
    }
    const items = batch.map((data) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = data.url;
      link.textContent = (data.meta && data.meta.title) || data.url;
      item.append(link, excerpt(data.excerpt || ""));
      return item;
    });
    list.append(...items);
    shown += batch.length;
    list.hidden = shown === 0;
    more.hidden = shown >= results.length;
    return items.length ? items[0].querySelector("a") : null;
  }

  async function run() {
    const query = ++latest;
    const term = input.value.trim();
    if (!term) {
      clear();
      return;
    }
    let pagefind;
    try {
      pagefind = await ready;
    } catch (error) {
      clear();
      say(words.failed, true);
      return;
    }
    const search = await pagefind.debouncedSearch(term, {}, 200);
    if (search === null || query !== latest) {
      return; // a newer query took its place
    }
    results = search.results;
    shown = 0;
    list.replaceChildren();
    await showMore(query);
    if (query !== latest) {
      return;
    }
    if (!results.length) {
      say(words.none, true);
    } else {
      // data-count-one, data-count-few …: the language's own plural forms, from its catalog.
      const category = plural.select(results.length);
      const text = words["count" + category[0].toUpperCase() + category.slice(1)] || words.countOther;
      say(text.replace("{n}", String(results.length)));
    }
    box.dataset.query = term; // what the results shown are for
  }

  function links() {
    return Array.from(list.querySelectorAll("a"));
  }

  input.addEventListener("input", run);
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && links().length) {
      event.preventDefault();
      links()[0].focus();
    }
  });
  list.addEventListener("keydown", (event) => {
    const all = links();
    const at = all.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && at < all.length - 1) {
      event.preventDefault();
      all[at + 1].focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      (at > 0 ? all[at - 1] : input).focus();
    } else if (event.key === "Escape") {
      input.focus();
    }
  });
  box.parentElement.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && input.value) {
      input.value = "";
      clear();
      input.focus();
    }
  });
  more.addEventListener("click", async () => {
    const first = await showMore(latest);
    if (first) {
      first.focus();
    }
  });
  if (input.value.trim()) {
    run();
  }
  return { run };
}
