// The export page: show a moment's frame at a chosen time, and drag on it to add a box to blur.
"use strict";
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
