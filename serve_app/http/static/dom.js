// Every element the page's modules touch has an id; this is the one way they look it up.
export const $ = (id) => document.getElementById(id);
