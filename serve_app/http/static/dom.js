// Every element the page's modules touch has an id; this is the one way they look it up.
export const $ = (id) => document.getElementById(id);

// Writes `text` only when it differs: a live region is not announced again for the same words.
export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}
