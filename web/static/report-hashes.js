// Fingerprints (PDQ, SHA-256, MD5) of the chosen photos, made on this device for the hash-only
// report (staydown, issue 11). The photos are read here and never sent: the file input has no
// name and sits outside the form, only the hidden `hash` fields below are submitted, and the
// page's Content-Security-Policy (`connect-src 'self'`) lets no script send anything elsewhere.
// hashFile is the server's own decoder and hashing (staydown-media) compiled to WebAssembly, so
// the fingerprints equal the ones the server and `staydown hash` compute for the same file.
//
// Videos (issue 17): the browser's own decoder plays the chosen video from memory (a blob: URL,
// muted, never attached to the page), the script seeks to every whole second, draws the frame on
// a canvas at the video's size and hashes its RGBA pixels with hashRgba (the same PDQ core as the
// server). The result is a vPDQ (`index,quality,pdq,seconds` per line) sent in the hidden `video`
// field, with the file's SHA-256; docs/video.md says how close these hashes are to the server's.

import init, { hashFile, hashRgba } from "/static/pdq/staydown_pdq_wasm.js";

// The server's default video bounds (Settings::video): longer or larger videos are refused here.
const MAX_SECONDS = 3 * 3600;
const MAX_PIXELS = 3840 * 2160;
const MAX_DIGEST_BYTES = 200 * 1024 * 1024;

const input = document.getElementById("photos");
const status = document.getElementById("hash-status");
const rows = document.getElementById("hash-rows");
const fields = document.getElementById("hash-inputs");
const table = document.getElementById("hash-table");
let ready = null;

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function once(target, ok, bad) {
  return new Promise((resolve, reject) => {
    const done = (f) => (e) => {
      target.removeEventListener(ok, onOk);
      target.removeEventListener(bad, onBad);
      f(e);
    };
    const onOk = done(resolve);
    const onBad = done(() => reject(new Error(bad)));
    target.addEventListener(ok, onOk);
    target.addEventListener(bad, onBad);
  });
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

// One frame per second, as the reference vPDQ samples by default: the frame shown at second k
// (a millisecond in, so that a frame starting exactly at k is the one drawn).
async function hashVideo(file) {
  const url = URL.createObjectURL(file);
  const video = document.createElement("video");
  video.muted = true;
  video.preload = "auto";
  try {
    video.src = url;
    await once(video, "loadeddata", "error");
    const w = video.videoWidth;
    const h = video.videoHeight;
    const seconds = video.duration;
    if (!w || !h || w * h > MAX_PIXELS || !Number.isFinite(seconds) || seconds > MAX_SECONDS) {
      throw new Error("out of bounds");
    }
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const lines = [];
    for (let k = 0; k < seconds; k += 1) {
      video.currentTime = Math.min(k + 0.001, seconds);
      await once(video, "seeked", "error");
      ctx.drawImage(video, 0, 0, w, h);
      const r = hashRgba(w, h, ctx.getImageData(0, 0, w, h).data);
      lines.push(`${k},${r.quality},${r.pdq},${k.toFixed(3)}`);
      r.free();
    }
    if (lines.length === 0) throw new Error("no frames");
    let first = "";
    if (file.size <= MAX_DIGEST_BYTES) {
      first = `sha256=${hex(await crypto.subtle.digest("SHA-256", await file.arrayBuffer()))}\n`;
    }
    return { value: first + lines.join("\n"), frames: lines.length, sha256: first.slice(7).trim() };
  } finally {
    video.removeAttribute("src");
    video.load();
    URL.revokeObjectURL(url);
  }
}

input.addEventListener("change", async () => {
  ready ??= init({ module_or_path: "/static/pdq/staydown_pdq_wasm_bg.wasm" });
  status.textContent = status.dataset.working;
  rows.replaceChildren();
  fields.replaceChildren();
  await ready;
  const failed = [];
  let done = 0;
  for (const file of input.files) {
    if (file.type.startsWith("video/")) {
      status.textContent = status.dataset.videoWorking.replace("{name}", file.name);
      let v;
      try {
        v = await hashVideo(file);
      } catch {
        failed.push(file.name);
        continue;
      }
      const tr = document.createElement("tr");
      tr.append(cell(file.name), cell(status.dataset.video.replace("{count}", String(v.frames))), cell(v.sha256), cell(""));
      rows.append(tr);
      const hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "video";
      hidden.value = v.value;
      fields.append(hidden);
      done += 1;
      continue;
    }
    let h;
    try {
      h = hashFile(new Uint8Array(await file.arrayBuffer()));
    } catch {
      failed.push(file.name);
      continue;
    }
    const tr = document.createElement("tr");
    tr.append(cell(file.name), cell(h.pdq), cell(h.sha256), cell(h.md5));
    rows.append(tr);
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "hash";
    hidden.value = [h.pdq, h.quality, h.sha256, h.md5].join(",");
    fields.append(hidden);
    h.free();
    done += 1;
  }
  table.hidden = done === 0;
  const lines = [status.dataset.done.replace("{count}", String(done))];
  for (const name of failed) lines.push(status.dataset.failed.replace("{name}", name));
  status.textContent = lines.join(" ");
});
