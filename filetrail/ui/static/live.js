// Live updates: the server says when what this page shows changed (Server-Sent Events);
// the page then fetches itself and swaps in the new <main>. No other script runs.
"use strict";
(function () {
  const main = document.querySelector("main[data-live]");
  if (!main || !window.EventSource) return;
  let busy = false;
  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const response = await fetch(main.dataset.refresh, { headers: { Accept: "text/html" } });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.querySelector("main[data-live]");
      if (fresh) {
        main.replaceChildren(...Array.from(fresh.childNodes, (node) => document.adoptNode(node)));
        main.dataset.updated = new Date().toISOString();
      }
    } finally {
      busy = false;
    }
  }
  new EventSource(main.dataset.live).addEventListener("change", refresh);
})();
