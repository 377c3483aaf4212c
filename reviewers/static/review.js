// The queue and the review page: the note a change left is said; the transcript follows the
// video, clicks seek, keys play, skip, mark and save (unless the user turns the keys off).
// Loaded from /static (the Content-Security-Policy forbids inline script).
"use strict";

(function () {
  // The pinned player's height, so that what a #fragment names or the focus reaches is
  // scrolled below it, not under it (review.css, scroll-padding-top).
  const pane = document.querySelector(".player-pane");
  const measure = () => {
    if (pane) document.documentElement.style.setProperty("--player-h", `${pane.offsetHeight}px`);
  };
  measure();
  window.addEventListener("resize", measure);
  const video = document.getElementById("player");
  if (video) video.addEventListener("loadedmetadata", () => {
    measure();
    const target = location.hash && document.getElementById(location.hash.slice(1));
    if (target) target.scrollIntoView({ block: "start" });
  }, { once: true });
  // "Item 12 marked reviewed.": focused, so a screen reader says it and the keyboard goes on
  // from there. A note said inside the element a #fragment names is not focusable itself: the
  // browser focuses that element (reviewers/pages/review.py, Said).
  const note = document.getElementById("status-message");
  if (note && note.hasAttribute("tabindex") && !document.querySelector("[autofocus]")) note.focus();

  const player = document.getElementById("player");
  if (!player) return;
  // A form sent back with a problem focuses its field; the video's size, known only once its
  // metadata loads, can push the field out of sight again: bring it back into view then.
  const refused = document.querySelector("main [autofocus]");
  if (refused) {
    const show = () => refused.scrollIntoView({ block: "center" });
    show();
    player.addEventListener("loadedmetadata", show, { once: true });
  }
  const words = Array.from(document.querySelectorAll("#transcript .w"));
  const starts = words.map((w) => parseFloat(w.dataset.s));
  const timeline = document.getElementById("timeline");
  const markIn = document.getElementById("mark-in");
  const markOut = document.getElementById("mark-out");
  const form = document.getElementById("annotate");
  const speed = document.getElementById("speed");
  const keysOn = document.getElementById("shortcuts-on");
  const KEYS_STORED = "bwv-review-shortcuts";
  let current = null;

  function seek(seconds) {
    if (!Number.isFinite(seconds)) return;
    const end = Number.isFinite(player.duration) ? player.duration : Infinity;
    player.currentTime = Math.min(end, Math.max(0, seconds));
    highlight();
  }

  // The word being spoken: the last word starting at or before the playhead.
  function highlight() {
    const t = player.currentTime;
    let lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= t) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    const word = found >= 0 && t <= parseFloat(words[found].dataset.e) + 0.3 ? words[found] : null;
    if (word !== current) {
      if (current) current.classList.remove("now");
      if (word) {
        word.classList.add("now");
        if (!player.paused) word.scrollIntoView({ block: "nearest" });
      }
      current = word;
    }
    placeTimeline();
  }

  function fraction(seconds) {
    const from = parseFloat(timeline.dataset.from), to = parseFloat(timeline.dataset.to);
    return to > from ? Math.min(1, Math.max(0, (seconds - from) / (to - from))) : 0;
  }

  function place(el, start, end) {
    el.style.left = (fraction(start) * 100) + "%";
    el.style.width = Math.max(0.4, (fraction(end) - fraction(start)) * 100) + "%";
  }

  function placeTimeline() {
    if (!timeline) return;
    timeline.querySelector(".playhead").style.left = (fraction(player.currentTime) * 100) + "%";
    const sel = timeline.querySelector(".selection");
    if (markIn && markOut && parseFloat(markOut.value) > parseFloat(markIn.value)) {
      place(sel, parseFloat(markIn.value), parseFloat(markOut.value));
      sel.hidden = false;
    } else if (sel) {
      sel.hidden = true;
    }
  }

  // The boxes take hundredths (step="0.01": Chromium will not submit 41.667), rounded down and
  // never past the end of the file, which the server would refuse.
  function stepped(seconds) {
    const end = parseFloat(player.dataset.duration);
    const t = Number.isFinite(end) ? Math.min(seconds, end) : seconds;
    return (Math.floor(Math.max(0, t) * 100 + 1e-6) / 100).toFixed(2);
  }

  function setMark(input, copyClass) {
    if (!input) return;
    input.value = stepped(player.currentTime);
    document.querySelectorAll("." + copyClass).forEach((el) => { el.value = input.value; });
    placeTimeline();
  }

  if (timeline) {
    place(timeline.querySelector(".item-span"), parseFloat(timeline.dataset.itemStart),
          parseFloat(timeline.dataset.itemEnd));
    timeline.querySelectorAll(".marker").forEach((m) => {
      place(m, parseFloat(m.dataset.s), parseFloat(m.dataset.e));
    });
    timeline.addEventListener("click", (event) => {
      const marker = event.target.closest(".marker");
      if (marker) { seek(parseFloat(marker.dataset.s)); return; }
      const box = timeline.getBoundingClientRect();
      const from = parseFloat(timeline.dataset.from), to = parseFloat(timeline.dataset.to);
      seek(from + (to - from) * (event.clientX - box.left) / box.width);
    });
  }

  // Words, lines (anywhere on them), flag times and annotation times all seek the video.
  // Not a line's speaker form, inside the line: choosing a speaker leaves the video be.
  document.addEventListener("click", (event) => {
    if (event.target.closest(".move-line")) return;
    const target = event.target.closest(".w, .ts, .seek, #transcript .line");
    if (target) seek(parseFloat(target.dataset.s));
  });

  [markIn, markOut].forEach((input, i) => {
    if (input) input.addEventListener("input", () => {
      document.querySelectorAll(i === 0 ? ".copy-in" : ".copy-out").forEach((el) => { el.value = input.value; });
      placeTimeline();
    });
  });
  const btnIn = document.getElementById("btn-mark-in");
  const btnOut = document.getElementById("btn-mark-out");
  if (btnIn) btnIn.addEventListener("click", () => setMark(markIn, "copy-in"));
  if (btnOut) btnOut.addEventListener("click", () => setMark(markOut, "copy-out"));

  if (speed) speed.addEventListener("change", () => {
    const rate = parseFloat(speed.value) || 1;
    player.defaultPlaybackRate = rate;  // kept when the browser reloads the footage
    player.playbackRate = rate;
  });

  // WCAG 2.1.4: single-key shortcuts can be turned off, and the choice is remembered.
  function storedKeys() {
    try { return localStorage.getItem(KEYS_STORED) !== "off"; } catch (e) { return true; }
  }
  function showKeys() {
    document.querySelectorAll(".key-hint").forEach((el) => { el.hidden = !keysOn.checked; });
  }
  if (keysOn) {
    keysOn.checked = storedKeys();
    keysOn.addEventListener("change", () => {
      try { localStorage.setItem(KEYS_STORED, keysOn.checked ? "on" : "off"); } catch (e) { /* private mode */ }
      showKeys();
    });
    showKeys();
  }

  // Whether the focused element does something itself with this key: typing in a box or a
  // select's type-ahead; Space and Enter press a button, a summary or a link; Space on the
  // video is its own controls' play/pause (a second toggle here would undo it).
  function usesKey(target, key) {
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable) return true;
    const tag = target.tagName.toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return true;
    if (key !== " " && key !== "Enter") return false;
    return tag === "button" || tag === "summary" || tag === "a" || tag === "video"
      || target.getAttribute("role") === "button";
  }

  document.addEventListener("keydown", (event) => {
    if (keysOn && !keysOn.checked) return;
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (usesKey(event.target, event.key)) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (key === " " || key === "k") {
      // play() is refused when a pause comes before it starts (Space twice, quickly): not an error.
      if (!event.repeat) { if (player.paused) { player.play().catch(() => {}); } else { player.pause(); } }
    } else if (key === "j") {
      seek(player.currentTime - 5);
    } else if (key === "l") {
      seek(player.currentTime + 5);
    } else if (key === "i" && markIn) {
      setMark(markIn, "copy-in");
    } else if (key === "o" && markOut) {
      setMark(markOut, "copy-out");
    } else if (key === "s" && form) {
      if (!event.repeat) form.requestSubmit();
    } else {
      return;
    }
    event.preventDefault();
  });

  player.addEventListener("timeupdate", highlight);
  player.addEventListener("seeked", highlight);
  player.addEventListener("loadedmetadata", () => {
    const start = parseFloat(player.dataset.start);
    if (player.currentTime === 0 && start > 0) player.currentTime = start;
    highlight();
  }, { once: true });
  // Signing out ends the session at once: stop the player first, so that no range request
  // still in flight comes back refused (a 401 in the console) while the page goes away.
  const signOut = document.querySelector("form.logout");
  if (signOut) signOut.addEventListener("submit", () => {
    player.pause();
    player.removeAttribute("src");
    player.load();
  });
  placeTimeline();
})();
