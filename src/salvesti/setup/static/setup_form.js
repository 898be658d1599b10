// Building labelled fields and showing the server's problems next to them.  Built with
// createElement and textContent only: nothing typed by the owner ever becomes markup.
import { say, t } from "./setup_i18n.js";

let uid = 0;

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") {
      for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) el.dataset[k] = v;
    }
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** A label, an optional hint and the input, tied together for screen readers.
 *  ``field`` is the name the server's problems use for it. */
export function field(labelText, field, { type = "text", value = "", hint = "", multiline = false, ...rest } = {}) {
  const id = `f${++uid}`;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  const input = multiline
    ? h("textarea", { id, name: field, dataset: { field }, "aria-describedby": hintEl ? hintEl.id : null, ...rest })
    : h("input", { id, name: field, type, dataset: { field }, "aria-describedby": hintEl ? hintEl.id : null, ...rest });
  input.value = value;
  return h("div", { class: "field", dataset: { for: field } }, h("label", { for: id }, labelText), hintEl, input);
}

/** Remove the previous round of problems. */
export function clearProblems(root) {
  root.querySelectorAll(".problem").forEach((p) => p.remove());
  root.querySelectorAll("[aria-invalid]").forEach((el) => {
    el.removeAttribute("aria-invalid");
    const ids = (el.getAttribute("aria-describedby") || "").split(" ").filter((x) => !x.startsWith("p-"));
    if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
    else el.removeAttribute("aria-describedby");
  });
}

/** Put each problem under its field (or at the form's end); focus the first bad field. */
export function showProblems(root, problems, status) {
  clearProblems(root);
  let first = null;
  for (const [name, words] of Object.entries(problems || {})) {
    const id = `p-${++uid}`;
    const msg = h("p", { class: "problem", id }, say(words));
    const input = root.querySelector(`[data-field="${CSS.escape(name)}"]`);
    const holder = root.querySelector(`[data-for="${CSS.escape(name)}"]`) || (input && input.parentElement);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      const ids = input.getAttribute("aria-describedby");
      input.setAttribute("aria-describedby", ids ? `${ids} ${id}` : id);
      first = first || input;
    }
    if (holder) holder.append(msg);
    else root.querySelector(".actions").before(msg);
  }
  status(t("problems"));
  if (first) first.focus();
  else root.querySelector(".problem")?.setAttribute("tabindex", "-1");
}
