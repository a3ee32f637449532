// Live updates: the server says when what this page shows changed (Server-Sent Events);
// the page then fetches itself and swaps in the new <main>. No other script runs.
"use strict";
(function () {
  const main = document.querySelector("main[data-live]");
  if (!main || !window.EventSource) return;
  let busy = false;
  let again = false;
  async function refresh() {
    // A change announced while a fetch is under way may postdate what it reads: fetch again.
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        const response = await fetch(main.dataset.refresh, { headers: { Accept: "text/html" } });
        if (!response.ok) return;
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = page.querySelector("main[data-live]");
        if (fresh) {
          // Copy the children out first: moving nodes one by one from a live list skips
          // every other one.
          main.replaceChildren(...Array.from(document.importNode(fresh, true).childNodes));
          main.dataset.updated = new Date().toISOString();
        }
      } while (again);
    } finally {
      busy = false;
    }
  }
  new EventSource(main.dataset.live).addEventListener("change", refresh);
})();
