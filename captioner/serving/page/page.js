// The try-it page: pick or drop files, send them to this server, show each one beside its answer.
// Text from the server is always set as textContent, never parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let kind = "captions";

function headers() {
  const key = $("key").value.trim();
  return key ? { Authorization: "Bearer " + key } : {};
}

function say(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

async function describeModel() {
  const response = await fetch("/v1/model", { headers: headers() });
  if (response.status === 401) {
    $("model").textContent = "This server needs an API key: enter it under Options.";
    $("options").open = true;
    return;
  }
  const info = await response.json();
  kind = info.kind;
  const gives = kind === "labels" ? "activity labels" : "captions";
  $("model").textContent = `Model: ${gives} for ${info.takes}` +
    (info.frames ? ` (${info.frames} frames each)` : "") + `; encoder: ${info.encoder.description}.`;
  $("model").className = info.encoder.random_weights ? "warning" : "";
  $("beam-option").hidden = kind === "labels";
  $("drop-text").textContent = `Drop ${info.takes === "clips" ? "clips" : "photos"} here, or click to pick them`;
}

function answerText(result) {
  if (kind === "labels") return `${result.label} (${(100 * result.probability).toFixed(1)}%)`;
  return result.caption;
}

function show(file, result) {
  const item = document.createElement("li");
  if (file.type.startsWith("image/")) {
    const img = document.createElement("img");
    img.src = URL.createObjectURL(file);
    img.alt = result.caption || result.label || "";
    img.onload = () => URL.revokeObjectURL(img.src);
    item.append(img);
  }
  const answer = document.createElement("p");
  if (result.error) {
    answer.className = "error";
    answer.textContent = result.error;
  } else {
    answer.className = "caption";
    answer.textContent = answerText(result);
  }
  const name = document.createElement("p");
  name.className = "file";
  name.textContent = file.name;
  item.append(answer, name);
  $("results").prepend(item);
}

async function send(files) {
  if (!files.length) return;
  const form = new FormData();
  for (const file of files) form.append("file", file, file.name);
  const path = kind === "labels" ? "/v1/labels" : "/v1/captions";
  const query = kind === "labels" ? "" : `?beam_size=${$("beam").value}`;
  say(`Sending ${files.length} file${files.length > 1 ? "s" : ""}…`);
  try {
    const response = await fetch(path + query, { method: "POST", body: form, headers: headers() });
    const body = await response.json();
    if (!body.results) {
      say(`${response.status}: ${body.error || body.detail || "no answer"}`, true);
      return;
    }
    // Newest request first, its files in the order they were sent.
    body.results.map((result, i) => [files[i], result]).reverse().forEach(([file, result]) => show(file, result));
    say(body.note ? `Done. Note: ${body.note}.` : "Done.");
  } catch (err) {
    say(`The server did not answer (${err.message}).`, true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const drop = $("drop");
  $("files").addEventListener("change", (event) => send([...event.target.files]));
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    send([...event.dataTransfer.files]);
  });
  $("key").addEventListener("change", describeModel);
  describeModel().catch((err) => say(`Cannot reach the server (${err.message}).`, true));
});
