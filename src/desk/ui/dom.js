// The page's only way to build DOM. Item text is untrusted (scraped news, public complaints):
// strings always become text nodes and attributes go through setAttribute — never innerHTML.

/**
 * el('a', { class: 'x', href: u }, 'text', child) — attribute values of null/undefined/false are
 * skipped, true sets an empty attribute; children may be strings, numbers, nodes or arrays.
 */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

let toastTimer = 0;
/** A short status line in the page's #toast element, hidden again after `ms`. */
export function toast(text, ms = 4000) {
  const t = $('#toast');
  if (!t) return;
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), ms);
}
