// Fingerprints (PDQ, SHA-256, MD5) of the chosen photos, made on this device for the hash-only
// report (staydown, issue 11). The photos are read here and never sent: the file input has no
// name and sits outside the form, only the hidden `hash` fields below are submitted, and the
// page's Content-Security-Policy (`connect-src 'self'`) lets no script send anything elsewhere.
// hashFile is the server's own decoder and hashing (staydown-media) compiled to WebAssembly, so
// the fingerprints equal the ones the server and `staydown hash` compute for the same file.

import init, { hashFile } from "/static/pdq/staydown_pdq_wasm.js";

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

input.addEventListener("change", async () => {
  ready ??= init({ module_or_path: "/static/pdq/staydown_pdq_wasm_bg.wasm" });
  status.textContent = status.dataset.working;
  rows.replaceChildren();
  fields.replaceChildren();
  await ready;
  const failed = [];
  let done = 0;
  for (const file of input.files) {
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
