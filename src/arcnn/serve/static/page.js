// arcnn's page: send an image to POST /restore, show the JPEG and the restoration side by side under a
// slider, blend the two by the strength control (in a canvas), and download the result as PNG.
"use strict";

const $ = (id) => document.getElementById(id);
const view = {
  jpeg: null,         // ImageData of the input, as this browser decodes it
  restored: null,     // ImageData of the server's PNG
  restoredBlob: null, // the server's PNG itself: what "Download" gives at 100% strength
  name: "image",
  request: 0,         // the latest request: answers to older ones are dropped
  drawing: false,     // a blend is scheduled for the next frame
};

// Decode an image blob into its raw pixels (no colour management: the values as stored).
async function pixels(blob) {
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}

function setState(state, message) {
  document.body.dataset.state = state;
  $("status").textContent = message;
}

function kb(bytes) {
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(2)} MB`;
}

async function errorLine(response) {
  try {
    return (await response.json()).error;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

async function restore(file) {
  const request = ++view.request;
  view.name = file.name.replace(/\.[^.]*$/, "") || "image";
  setState("restoring", `Restoring ${file.name} (${kb(file.size)})…`);
  const started = performance.now();
  let response;
  try {
    response = await fetch("/restore?format=png", {
      method: "POST", body: file, headers: { "Content-Type": file.type || "application/octet-stream" },
    });
  } catch (e) {
    if (request === view.request) fail(`The server did not answer: ${e.message}`);
    return;
  }
  if (request !== view.request) return;
  if (!response.ok) return fail(`Not restored: ${await errorLine(response)}`);
  try {
    const blob = await response.blob();
    const [jpeg, restored] = await Promise.all([pixels(file).catch(() => null), pixels(blob)]);
    if (request === view.request) show(file, response.headers, blob, jpeg, restored, started);
  } catch (e) {
    fail(`Restored, but this browser cannot show the result: ${e.message}`);
  }
}

function show(file, headers, blob, jpeg, restored, started) {
  const apart = !jpeg || jpeg.width !== restored.width || jpeg.height !== restored.height;
  Object.assign(view, { jpeg: apart ? restored : jpeg, restored, restoredBlob: blob });
  showFacts(headers, file, blob, (performance.now() - started) / 1000);
  $("result").hidden = false;
  for (const canvas of [$("before"), $("after")]) {
    canvas.width = restored.width;
    canvas.height = restored.height;
  }
  $("before").getContext("2d").putImageData(view.jpeg, 0, 0);
  blend();
  layout();
  setState("done", apart
    ? "Restored. (This browser cannot show the input as the server read it: both sides show the restoration.)"
    : "Restored. Drag across the image to compare; the strength blends the JPEG and the restoration.");
}

function fail(message) {
  $("result").hidden = true; // an earlier result would look like this file's
  setState("error", message);
}

function showFacts(headers, file, blob, seconds) {
  const chroma = headers.get("X-Arcnn-Chroma-Model");
  $("quality").textContent = headers.get("X-Arcnn-Quality-Estimate") || "unknown";
  $("model").textContent = headers.get("X-Arcnn-Model") || "–";
  $("chroma").textContent = !chroma || chroma === "none" ? "as decoded" : chroma;
  $("size").textContent =
    `${view.restored.width} × ${view.restored.height}, ${kb(file.size)} → ${kb(blob.size)} PNG, ${seconds.toFixed(1)} s`;
}

// The restoration drawn over the JPEG by the strength: JPEG + strength × (restored − JPEG).
function blend() {
  const { jpeg, restored } = view;
  if (!restored) return;
  view.drawing = false;
  const strength = Number($("strength").value) / 100;
  const ctx = $("after").getContext("2d");
  const out = ctx.createImageData(restored.width, restored.height);
  const a = jpeg.data, b = restored.data, o = out.data;
  for (let i = 0; i < o.length; i++) o[i] = a[i] + (b[i] - a[i]) * strength;
  ctx.putImageData(out, 0, 0);
}

// Fit the image to the window (enlarging small ones), or show it at 100% with scroll bars.
function layout() {
  const { restored } = view;
  if (!restored) return;
  const viewer = $("viewer"), stage = $("stage"), actual = $("actual").checked;
  const room = viewer.clientWidth - 24;
  const tall = Math.max(240, window.innerHeight - viewer.getBoundingClientRect().top - 40);
  const scale = actual ? 1 : Math.min(room / restored.width, tall / restored.height);
  viewer.classList.toggle("actual", actual);
  viewer.style.maxHeight = actual ? `${tall + 24}px` : "";
  stage.classList.toggle("enlarged", scale > 1.5);
  stage.style.width = `${Math.round(restored.width * scale)}px`;
  stage.style.height = `${Math.round(restored.height * scale)}px`;
}

function strengthChanged() {
  $("strength-value").value = `${$("strength").value}%`;
  if (!view.drawing) requestAnimationFrame(blend);
  view.drawing = true;
}

function split() {
  const at = `${$("split").value}%`;
  $("after").style.clipPath = `inset(0 0 0 ${at})`;
  $("divider").style.left = at;
}

async function download() {
  const full = $("strength").value === "100";
  if (!full) blend(); // the canvas holds this strength even if the last frame has not been drawn yet
  const blob = full ? view.restoredBlob : await new Promise((done) => $("after").toBlob(done, "image/png"));
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = full ? `${view.name}-restored.png` : `${view.name}-restored-${$("strength").value}.png`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

function chosen(files) {
  if (files && files.length) restore(files[0]);
}

function listen() {
  $("file").addEventListener("change", (e) => {
    chosen(e.target.files);
    e.target.value = ""; // choosing the same file again is a change too
  });
  $("strength").addEventListener("input", strengthChanged);
  $("split").addEventListener("input", split);
  $("actual").addEventListener("change", layout);
  $("download").addEventListener("click", download);
  window.addEventListener("resize", layout);
  const drop = $("drop");
  document.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  document.addEventListener("dragleave", () => drop.classList.remove("over"));
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    chosen(e.dataTransfer.files);
  });
}

listen();
setState("empty", "");
