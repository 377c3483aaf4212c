// The export pages: show a moment's frame at a chosen time, and drag on it to add a box to blur;
// say that a slow request is working (the button waits), and when the pack's download starts.
// Without this script every form still posts as it is, and the browser downloads the pack.
"use strict";
(function () {
  // A form with data-busy (finding what to redact): the button waits and the page says why.
  for (const form of document.querySelectorAll("form[data-busy]")) {
    form.addEventListener("submit", () => {
      form.querySelector("[role=status]").textContent = form.dataset.busy;
      form.querySelector("progress").hidden = false;
      form.querySelector("button[type=submit]").disabled = true;
    });
  }
  // The pack's form (data-download): the download leaves the page as it is, so the server
  // answers with a cookie naming the token sent here; seeing it, the page says the download
  // started. A refusal is a new page, which replaces this one and says what is wrong.
  const form = document.querySelector("form[data-download]");
  if (!form) return;
  const button = form.querySelector("#build-pack");
  const status = document.getElementById("export-status");
  const progress = document.getElementById("export-progress");
  const token = form.querySelector("input[name=export_token]");
  let watching = null;
  const cookie = () => {
    const found = document.cookie.split("; ").find((c) => c.startsWith("bwv_export="));
    return found ? decodeURIComponent(found.slice("bwv_export=".length)) : "";
  };
  form.addEventListener("submit", (event) => {
    if (watching !== null) {  // already building: one pack at a time
      event.preventDefault();
      return;
    }
    const sent = Array.from(crypto.getRandomValues(new Uint8Array(16)),
                            (b) => b.toString(16).padStart(2, "0")).join("");
    token.value = sent;
    status.textContent = form.dataset.download;
    progress.hidden = false;
    button.disabled = true;  // the form is sent all the same: the button has no value to send
    watching = setInterval(() => {
      const value = cookie();
      if (!value.startsWith(sent + ".")) return;
      clearInterval(watching);
      watching = null;
      document.cookie = "bwv_export=; Max-Age=0; Path=/teach; SameSite=Strict";
      progress.hidden = true;
      button.disabled = false;
      status.textContent = "The pack is built: your browser is downloading it as " +
        value.slice(sent.length + 1) + ". Look in your downloads.";
    }, 250);
  });
})();
(function () {
  for (const picker of document.querySelectorAll(".frame-picker")) {
    const id = picker.dataset.annotation;
    const duration = Number(picker.dataset.duration) || 0;
    const img = picker.querySelector("img.frame");
    const time = picker.querySelector("input.frame-time");
    const link = picker.querySelector("a.frame-link");
    const boxes = document.getElementById("boxes-" + id);
    const show = () => {
      const t = Math.min(Math.max(Number(time.value) || 0, 0), duration);
      const url = "/teach/frame/" + id + "?t=" + t.toFixed(2);
      img.src = url;
      link.href = url;
    };
    time.addEventListener("change", show);
    let start = null;
    const at = (event) => {
      const r = img.getBoundingClientRect();
      return [Math.min(Math.max((event.clientX - r.left) / r.width, 0), 1),
              Math.min(Math.max((event.clientY - r.top) / r.height, 0), 1)];
    };
    img.addEventListener("dragstart", (event) => event.preventDefault());
    img.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      img.setPointerCapture(event.pointerId);
      start = at(event);
    });
    img.addEventListener("pointerup", (event) => {
      if (!start) return;
      const end = at(event);
      const x = Math.min(start[0], end[0]), y = Math.min(start[1], end[1]);
      const w = Math.abs(end[0] - start[0]), h = Math.abs(end[1] - start[1]);
      start = null;
      if (w < 0.005 || h < 0.005) return;
      const line = "0-" + duration.toFixed(2) + " " + [x, y, w, h].map((v) => v.toFixed(3)).join(" ") + " drawn box";
      boxes.value = (boxes.value.trim() ? boxes.value.trim() + "\n" : "") + line;
    });
  }
})();
