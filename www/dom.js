// Two DOM helpers every module of the page uses: an element by id, and a text write that skips
// an unchanged value (the render loop runs at the display's frame rate, and an unchanged write
// still costs a style and layout pass).

export const $ = (id) => document.getElementById(id);

/** Writes `text` into `el` only when it differs. */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
